"""The event worker (-k event): one thread, the app called as soon as a request is complete,
keep-alive and pipelining. (The pipelining rows of the conformance checklist, H1-H5, run
against it in tests/test_conformance.py.)"""

from __future__ import annotations

import json
import signal
import socket

import pytest
import requests
from server import RawConnection, get_request, parse_response, parse_responses, wait_until

pytestmark = pytest.mark.monoceros_only  # gunicorn has no event worker

APP = "behaviours:app"


@pytest.fixture
def event_server(server_factory):
    def start(*args: str, **kwargs):
        return server_factory(APP, "-k", "event", *args, **kwargs)

    return start


def test_one_connection_serves_a_hundred_requests(event_server):
    srv = event_server()
    with RawConnection(srv.address) as conn:
        pids = set()
        for _ in range(100):
            conn.send(get_request("/pid"))
            resp = conn.read_next_response()
            assert resp.status == 200
            assert resp.header("Connection") == "keep-alive"
            pids.add(resp.body)
        assert len(pids) == 1
    assert "Using worker: event" in srv.log_text()


def test_ten_pipelined_requests_come_back_in_order(event_server):
    srv = event_server()
    batch = b"".join(get_request(f"/environ?n={i}") for i in range(10))
    with RawConnection(srv.address) as conn:
        conn.send(batch + get_request("/hello", "Connection: close"))
        data = conn.read_until_close(10)
    responses = parse_responses(data, 11)
    queries = [json.loads(r.body)["QUERY_STRING"] for r in responses[:10]]
    assert queries == [f"n={i}" for i in range(10)]
    assert responses[10].body == b"hello"
    assert responses[10].header("Connection") == "close"
    assert responses[10].extra == b""


def test_the_connection_reads_again_after_a_pipelined_batch(event_server):
    # The batch's responses are written together; then the connection must go back to
    # reading (not sit until --keep-alive closes it).
    srv = event_server("--keep-alive", "30")
    with RawConnection(srv.address) as conn:
        for round_number in range(3):
            conn.send(b"".join(get_request(f"/environ?r={round_number}&n={i}") for i in range(8)))
            for i in range(8):
                resp = conn.read_next_response(timeout=5)
                assert json.loads(resp.body)["QUERY_STRING"] == f"r={round_number}&n={i}"


def test_gunicorn_socket_is_the_connection(event_server):
    # As in gunicorn, environ["gunicorn.socket"] is the connection's socket: one object for
    # all the connection's requests, and an app closing it closes the connection.
    srv = event_server()
    with RawConnection(srv.address) as conn:
        seen = []
        for _ in range(2):
            conn.send(get_request("/socket"))
            seen.append(json.loads(conn.read_next_response().body))
        assert seen[0]["id"] == seen[1]["id"]
        assert seen[0]["peer_port"] == conn.sock.getsockname()[1]
        conn.send(get_request("/socket?close=1"))
        conn.read_until_close(10)
    # The worker carries on, with its descriptors straight.
    for _ in range(5):
        assert requests.get(srv.url("/hello"), timeout=10).text == "hello"
    assert srv.worker_pids() == srv.booted_worker_pids()


def test_idle_connection_is_closed_after_keepalive(event_server):
    srv = event_server("--keep-alive", "1")
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello"))
        assert conn.read_next_response().status == 200
        assert not conn.server_closed(timeout=0.2)  # kept alive right after the response
        assert conn.server_closed(timeout=10)  # then closed once idle past --keep-alive


def test_keepalive_zero_closes_every_connection(event_server):
    srv = event_server("--keep-alive", "0")
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello"))
        resp = parse_response(conn.read_until_close(10))
    assert resp.header("Connection") == "close"


def test_http10_closes_unless_it_asks_for_keep_alive(event_server):
    srv = event_server()
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello", version="HTTP/1.0"))
        assert parse_response(conn.read_until_close(10)).header("Connection") == "close"
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello", "Connection: keep-alive", version="HTTP/1.0"))
        resp = conn.read_next_response()
        assert resp.header("Connection") == "keep-alive"
        assert resp.header("Content-Length") == "5"
        conn.send(get_request("/hello", "Connection: keep-alive", version="HTTP/1.0"))
        assert conn.read_next_response().status == 200


def test_streamed_response_is_chunked_and_the_connection_kept(event_server):
    srv = event_server()
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/nocl?n=3"))
        first = conn.read_next_response()
        assert first.header("Transfer-Encoding") == "chunked"
        assert first.header("Connection") == "keep-alive"
        conn.send(get_request("/hello"))
        assert conn.read_next_response().body == b"hello"


def test_a_body_the_app_ignores_does_not_become_the_next_request(event_server):
    srv = event_server()
    smuggled = get_request("/environ?smuggled=1")
    post = (
        f"POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: {len(smuggled)}\r\n\r\n".encode()
        + smuggled
    )
    with RawConnection(srv.address) as conn:
        conn.send(post + get_request("/environ?second=1", "Connection: close"))
        first, second = parse_responses(conn.read_until_close(10), 2)
    assert first.body == b"hello"
    assert json.loads(second.body)["QUERY_STRING"] == "second=1"


def test_environ_says_one_thread(event_server):
    srv = event_server("-w", "2")
    environ = requests.get(srv.url("/environ"), timeout=10).json()
    assert environ["wsgi.multithread"] is False
    assert environ["wsgi.multiprocess"] is True


def test_graceful_stop_closes_idle_connections_and_finishes_requests(event_server):
    srv = event_server("--graceful-timeout", "20")
    idle = socket.create_connection(srv.address)
    idle.sendall(get_request("/hello"))
    idle.settimeout(10)
    assert b"200 OK" in idle.recv(65536)
    with RawConnection(srv.address) as busy:
        busy.send(get_request("/sleep?s=1"))
        srv.wait_for_log("sleep route: started")
        srv.signal(signal.SIGTERM)
        # The kept-alive connection between requests closes at once...
        assert idle.recv(65536) == b""
        # ...the request in progress is answered, then its connection closed.
        assert parse_response(busy.read_until_close(15)).status == 200
    idle.close()
    assert srv.wait(timeout=30) == 0


def test_max_requests_counts_kept_alive_requests(event_server):
    srv = event_server("--max-requests", "5")
    worker = srv.worker_pids()[0]
    with requests.Session() as session:
        pids = [session.get(srv.url("/pid"), timeout=10).text for _ in range(5)]
    assert set(pids) == {str(worker)}
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="a replacement worker")
    wait_until(
        lambda: requests.get(srv.url("/pid"), timeout=10).text != str(worker),
        15,
        message="the replacement serving",
    )


def test_threads_with_the_event_worker_are_refused(server_factory):
    srv = server_factory(APP, "-k", "event", "--threads", "4", wait=False)
    assert srv.wait(timeout=30) == 1
    assert "threads" in srv.stderr_text()
