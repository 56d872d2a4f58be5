"""The threaded worker (-k gthread, or -k sync with --threads N > 1, as in gunicorn): an event
loop accepts, reads and parses; complete requests go to --threads Python threads that run the
app. Keep-alive (--keep-alive), pipelining, --worker-connections, graceful and quick stops,
and slow readers that must not hold a thread.

Apart from the four explicit timing bounds (the thread count, and the prompt answers while a
thread sleeps), every check is about order and outcome, never a latency figure."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import time

import pytest
import requests
from server import (
    APPS_DIR,
    RawConnection,
    build_request,
    get_request,
    parse_response,
    parse_responses,
    pid_alive,
    post_after_100_continue,
    wait_until,
)

APP = "threads_app:app"  # behaviours.py plus /thread (tests/apps/threads_app.py)
MiB = 1024 * 1024


def _get(address: tuple[str, int], path: str, timeout: float = 10.0):
    """One request on a fresh connection that the server closes after the response."""
    with RawConnection(address, timeout=timeout) as conn:
        conn.send(get_request(path, "Connection: close"))
        return conn.read_response(timeout=timeout)


def _at_once(address: tuple[str, int], paths: list[str], timeout: float = 15.0):
    """Send every request at once, each on a connection of its own, then read every
    response and close its connection as soon as the response is complete, as HTTP clients
    do (gunicorn lingers on a connection it closes until the client closes too, and does so
    on its event loop). Returns (seconds from the first connect to the last response,
    responses)."""
    conns: list[RawConnection] = []
    try:
        started = time.monotonic()
        for path in paths:
            conns.append(RawConnection(address, timeout=timeout))
            conns[-1].send(get_request(path, "Connection: close"))
        responses = []
        for conn in conns:
            responses.append(conn.read_next_response(timeout=timeout))
            conn.close()
        return time.monotonic() - started, responses
    finally:
        for conn in conns:
            conn.close()


def _worker(srv) -> int:
    (pid,) = srv.worker_pids()
    return pid


def _open_files(pid: int) -> list[str]:
    out = []
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):  # closed meanwhile
            out.append(os.readlink(f"{fd_dir}/{fd}"))
    return out


@pytest.fixture
def gthread_server(server_factory):
    def start(*args: str, **kwargs):
        return server_factory(APP, "-k", "gthread", *args, **kwargs)

    return start


# ------------------------------------------------------------------ keep-alive, pipelining


def test_one_connection_serves_a_hundred_requests(gthread_server):
    srv = gthread_server("--threads", "4")
    with RawConnection(srv.address) as conn:
        pids = set()
        for _ in range(100):
            conn.send(get_request("/pid"))
            resp = conn.read_next_response()
            assert resp.status == 200
            assert resp.header("Connection") == "keep-alive"
            pids.add(resp.body)
    assert pids == {str(_worker(srv)).encode()}
    assert "Using worker: gthread" in srv.log_text()


def test_ten_pipelined_requests_come_back_in_order(gthread_server):
    # The first one is the slowest: with four threads the later ones may well be ready
    # first, and must still wait their turn on the wire.
    srv = gthread_server("--threads", "4")
    batch = get_request("/pid?sleep=0.3") + b"".join(
        get_request(f"/environ?n={i}") for i in range(9)
    )
    with RawConnection(srv.address) as conn:
        conn.send(batch + get_request("/hello", "Connection: close"))
        data = conn.read_until_close(15)
    responses = parse_responses(data, 11)
    assert responses[0].body == str(_worker(srv)).encode()
    queries = [json.loads(r.body)["QUERY_STRING"] for r in responses[1:10]]
    assert queries == [f"n={i}" for i in range(9)]
    assert responses[10].body == b"hello"
    assert responses[10].header("Connection") == "close"
    assert responses[10].extra == b""


def test_idle_connection_is_closed_after_keepalive(gthread_server):
    srv = gthread_server("--threads", "2", "--keep-alive", "1")
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello"))
        resp = conn.read_next_response()
        assert resp.status == 200
        assert resp.header("Connection") == "keep-alive"
        assert not conn.server_closed(timeout=0.5)  # not long before --keep-alive
        assert conn.server_closed(timeout=10)  # then closed once idle past it


def test_http10_without_keep_alive_is_closed_after_the_response(gthread_server):
    srv = gthread_server("--threads", "2")
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/hello", version="HTTP/1.0"))
        resp = parse_response(conn.read_until_close(10))
    assert resp.status == 200
    assert resp.body == b"hello"
    assert resp.header("Connection") == "close"


# ------------------------------------------------------------------------------ threads


def test_four_threads_serve_four_sleeping_requests_at_once(gthread_server):
    srv = gthread_server("-w", "1", "--threads", "4")
    assert _get(srv.address, "/hello").body == b"hello"  # warm: the app is imported
    elapsed, responses = _at_once(srv.address, ["/pid?sleep=1"] * 4)
    assert [r.status for r in responses] == [200] * 4
    assert {r.body for r in responses} == {str(_worker(srv)).encode()}  # one worker did it all
    assert elapsed < 1.8, f"4 requests of 1 s on 4 threads took {elapsed:.2f} s"


def test_two_threads_serve_four_sleeping_requests_two_at_a_time(gthread_server):
    srv = gthread_server("-w", "1", "--threads", "2")
    assert _get(srv.address, "/hello").body == b"hello"
    elapsed, responses = _at_once(srv.address, ["/pid?sleep=1"] * 4)
    assert [r.status for r in responses] == [200] * 4
    assert {r.body for r in responses} == {str(_worker(srv)).encode()}
    assert elapsed >= 2.0, f"4 requests of 1 s on 2 threads took only {elapsed:.2f} s"


def test_quick_requests_are_answered_while_a_thread_sleeps(gthread_server):
    srv = gthread_server("-w", "1", "--threads", "2")
    assert _get(srv.address, "/hello").body == b"hello"
    with RawConnection(srv.address) as slow:
        mark = srv.log_mark()
        slow.send(get_request("/sleep?s=2", "Connection: close"))
        srv.wait_for_log("sleep route: started", since=mark)
        elapsed, responses = _at_once(srv.address, ["/hello"] * 20)
        assert [r.body for r in responses] == [b"hello"] * 20
        assert elapsed < 1.0, f"20 quick requests took {elapsed:.2f} s beside a sleeping one"
        assert not select.select([slow.sock], [], [], 0)[0], "the sleeper answered first?"
        resp = slow.read_response(timeout=10)
    assert resp.status == 200
    assert resp.body == b"slept 2"


def test_requests_run_on_a_pool_of_threads_each_with_its_own_locals(gthread_server):
    srv = gthread_server("--threads", "4")
    assert _get(srv.address, "/hello").body == b"hello"
    rounds = []
    for number in range(2):
        paths = [f"/thread?sleep=1&tag={number}-{i}" for i in range(4)]
        _, responses = _at_once(srv.address, paths)
        rounds.append([json.loads(r.body) for r in responses])
    for seen in rounds:
        # Four requests in the app at once: four threads, told apart by ident and name.
        assert len({r["ident"] for r in seen}) == 4, seen
        assert len({r["name"] for r in seen}) == 4, seen
        # A threading.local holds what that thread (and only it) put there.
        assert all(r["local_ident"] == r["ident"] for r in seen), seen
    # The same four threads again (a pool of --threads, not a thread per request), each
    # with its own count: one request per thread per round.
    assert {r["ident"] for r in rounds[0]} == {r["ident"] for r in rounds[1]}
    assert [r["local_count"] for r in rounds[0]] == [1] * 4
    assert [r["local_count"] for r in rounds[1]] == [2] * 4


@pytest.mark.parametrize(
    "args, logged",
    [
        (("-k", "sync", "--threads", "4"), "gthread"),
        (("--threads", "4"), "gthread"),
        (("-k", "gthread", "--threads", "4"), "gthread"),
        (
            ("-k", "gunicorn.workers.gthread.ThreadWorker", "--threads", "2"),
            "gunicorn.workers.gthread.ThreadWorker",
        ),
        # gunicorn resolves egg: names through its entry points, which gunicorn 27 no
        # longer declares.
        pytest.param(
            ("-k", "egg:gunicorn#gthread", "--threads", "2"),
            "egg:gunicorn#gthread",
            marks=pytest.mark.monoceros_only,
        ),
    ],
    ids=["sync-threads", "threads", "gthread", "class-path", "egg"],
)
def test_threaded_worker_names_run_gthread(server_factory, args, logged):
    srv = server_factory(APP, *args)
    resp = requests.get(srv.url("/environ"), timeout=10)
    # The sync worker closes every connection; a threaded worker keeps it.
    assert resp.headers["Connection"] == "keep-alive"
    assert resp.json()["wsgi.multithread"] is True
    # As gunicorn: the name as given, except that sync with threads becomes "gthread".
    assert f"Using worker: {logged}\n" in srv.log_text(), srv.describe()


@pytest.mark.parametrize("threads", ["1", "4"])
def test_environ_says_multithread(gthread_server, threads):
    # As gunicorn's gthread worker: True whatever --threads.
    srv = gthread_server("--threads", threads)
    environ = requests.get(srv.url("/environ"), timeout=10).json()
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is False  # one worker
    assert "Using worker: gthread" in srv.log_text()


# -------------------------------------------------------------------- worker connections


def test_worker_connections_caps_the_open_connections(gthread_server):
    srv = gthread_server("-w", "1", "--threads", "2", "--worker-connections", "2")
    assert _get(srv.address, "/hello").body == b"hello"  # closed by the server: not counted
    first = RawConnection(srv.address)
    second = RawConnection(srv.address)
    try:
        # Both have a request in progress: neither gives way to a newcomer.
        first.send(get_request("/sleep?s=1.5", "Connection: close"))
        second.send(get_request("/sleep?s=1.5", "Connection: close"))
        srv.wait_for_log("sleep route: started", count=2)
        with RawConnection(srv.address) as third:
            third.send(get_request("/hello", "Connection: close"))
            # Neither served nor refused: it waits in the accept queue.
            assert not third.server_closed(timeout=1.0), third.buffer
            assert third.buffer == b"", "served beyond --worker-connections"
            # Once the two are answered (and closed), the third is accepted and served.
            assert first.read_response(timeout=10).status == 200
            resp = third.read_response(timeout=10)
        assert resp.status == 200
        assert resp.body == b"hello"
    finally:
        first.close()
        second.close()


def test_at_the_cap_a_connection_waiting_for_its_request_gives_way(gthread_server):
    srv = gthread_server("-w", "1", "--threads", "2", "--worker-connections", "2")
    with RawConnection(srv.address) as first, RawConnection(srv.address) as second:
        # Kept alive after a request, then silent: both wait for a next request.
        for conn in (first, second):
            conn.send(get_request("/hello"))
            assert conn.read_next_response().body == b"hello"
        resp = _get(srv.address, "/hello")  # a newcomer at the cap is served at once
        assert resp.body == b"hello"
        # The one that waited longest was closed to make room; the other is still usable.
        assert first.server_closed(timeout=5)
        second.send(get_request("/hello"))
        assert second.read_next_response().body == b"hello"


# ----------------------------------------------------------------------- errors, signals


def test_an_app_exception_answers_500_and_the_worker_carries_on(gthread_server):
    srv = gthread_server("--threads", "2")
    worker = _worker(srv)
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/crash-before"))
        assert conn.read_next_response().status == 500
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/crash-after"))
        # Headers and part of the body went out: the connection is cut, never completed.
        data = conn.read_until_close(10)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert not parse_response(data).complete
    srv.wait_for_log("BehaviourCrash")
    for _ in range(5):
        assert requests.get(srv.url("/pid"), timeout=10).text == str(worker)
    assert srv.worker_pids() == [worker]


@pytest.mark.parametrize("target", ["worker", "arbiter"])
def test_graceful_stop_finishes_the_request_and_closes_idle_connections(gthread_server, target):
    # --keep-alive 30: an idle connection closed within the test was closed by the stop.
    srv = gthread_server("--threads", "2", "--keep-alive", "30", "--graceful-timeout", "20")
    worker = _worker(srv)
    with RawConnection(srv.address) as idle, RawConnection(srv.address) as busy:
        idle.send(get_request("/hello"))
        assert idle.read_next_response().header("Connection") == "keep-alive"
        mark = srv.log_mark()
        busy.send(get_request("/sleep?s=1"))
        srv.wait_for_log("sleep route: started", since=mark)
        os.kill(worker if target == "worker" else srv.master_pid, signal.SIGTERM)
        resp = busy.read_next_response(timeout=15)
        assert resp.status == 200
        assert resp.body == b"slept 1"
        assert idle.server_closed(timeout=10)
        assert busy.server_closed(timeout=10)
    if target == "arbiter":
        assert srv.wait(timeout=30) == 0
        return
    wait_until(lambda: not pid_alive(worker), 10, message="the stopped worker to exit")
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="a replacement worker")
    assert requests.get(srv.url("/pid"), timeout=10).text != str(worker)


# gunicorn's worker calls sys.exit(), and interpreter exit joins the thread pool: it waits
# for the app to return.
@pytest.mark.monoceros_only
@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGINT], ids=["SIGQUIT", "SIGINT"])
def test_quit_signals_stop_the_worker_without_waiting_for_the_app(gthread_server, sig):
    srv = gthread_server("--threads", "2", "--graceful-timeout", "30")
    worker = _worker(srv)
    with RawConnection(srv.address) as conn:
        mark = srv.log_mark()
        conn.send(get_request("/sleep?s=30"))
        srv.wait_for_log("sleep route: started", since=mark)
        os.kill(worker, sig)
        wait_until(lambda: not pid_alive(worker), 5, message="the worker to exit at once")
        assert conn.server_closed(timeout=5)  # the request is abandoned with its worker
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="a replacement worker")
    assert requests.get(srv.url("/pid"), timeout=10).text != str(worker)


def test_max_requests_counts_kept_alive_requests(gthread_server):
    srv = gthread_server("--threads", "2", "--max-requests", "10")
    worker = _worker(srv)
    with RawConnection(srv.address) as conn:
        for number in range(1, 11):
            conn.send(get_request("/pid"))
            resp = conn.read_next_response()
            assert resp.status == 200
            assert resp.body == str(worker).encode()
            # The last one tells the client not to reuse the connection, so that nothing
            # is ever sent to a worker on its way out.
            expected = "close" if number == 10 else "keep-alive"
            assert resp.header("Connection") == expected, number
        assert conn.server_closed(timeout=10)

    def served_by_another_worker() -> bool:
        resp = requests.get(srv.url("/pid"), timeout=10)  # any failure fails the test
        assert resp.status_code == 200
        return resp.text != str(worker)

    wait_until(served_by_another_worker, 15, message="the replacement serving")
    wait_until(lambda: not pid_alive(worker), 10, message="the old worker to exit")
    assert len(srv.booted_worker_pids()) == 2


# ---------------------------------------------------------------------- bodies, responses


def test_a_posted_body_is_echoed_and_the_connection_kept(gthread_server):
    srv = gthread_server("--threads", "2")
    body = os.urandom(MiB)
    with RawConnection(srv.address) as conn:
        conn.send(build_request("POST", "/echo", body=body))
        resp = conn.read_next_response("POST", timeout=15)
        assert resp.status == 200
        assert resp.header("X-Received") == str(MiB)
        assert hashlib.sha256(resp.body).digest() == hashlib.sha256(body).digest()
        assert resp.header("Connection") == "keep-alive"
        conn.send(get_request("/hello"))
        assert conn.read_next_response().body == b"hello"


def test_expect_100_continue(gthread_server):
    srv = gthread_server("--threads", "2")
    body = b"payload sent only after 100 Continue"
    resp = post_after_100_continue(srv.address, body, ("Connection", "close"))
    assert [r.status for r in resp.interim] == [100]
    assert resp.status == 200
    assert resp.body == body


def test_the_write_callable_works(gthread_server):
    srv = gthread_server("--threads", "2")
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/write"))
        resp = conn.read_next_response()
        assert resp.status == 200
        assert resp.body == b"write-1;write-2;iter-1;iter-2"
        if resp.header("Connection") != "close":
            conn.send(get_request("/hello"))
            assert conn.read_next_response().body == b"hello"


def test_a_file_wrapper_response_is_sent_and_the_file_closed(gthread_server, tmp_path):
    path = tmp_path / "blob.bin"
    data = os.urandom(3 * MiB + 17)
    path.write_bytes(data)
    srv = gthread_server("--threads", "2")
    worker = _worker(srv)
    with RawConnection(srv.address) as conn:
        conn.send(get_request(f"/file?path={path}"))
        resp = conn.read_next_response(timeout=15)
        assert resp.status == 200
        assert resp.header("Content-Length") == str(len(data))
        assert hashlib.sha256(resp.body).digest() == hashlib.sha256(data).digest()
        conn.send(get_request("/hello"))  # the connection goes on after the file
        assert conn.read_next_response().body == b"hello"
        wait_until(
            lambda: str(path) not in _open_files(worker), 10, message="the file to be closed"
        )


# ------------------------------------------------------------------------- slow readers

STREAM_LENGTH = 50 * MiB


@pytest.mark.monoceros_only  # gunicorn's thread writes to the slow reader itself, blocked
def test_a_slow_reader_of_a_stream_delays_nobody_even_with_one_thread(server_factory, monkeypatch):
    monkeypatch.syspath_prepend(str(APPS_DIR))
    from stream_app import CHUNKS, chunk  # tests/apps is on the server's path, not ours

    srv = server_factory("stream_app:app", "-k", "gthread", "--threads", "1")
    assert _get(srv.address, "/").body == b"hello"
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    slow.settimeout(10)
    slow.connect(srv.address)
    try:
        slow.sendall(build_request("GET", "/stream", [("Connection", "close")]))
        data = b""
        while b"\r\n\r\n" not in data:
            got = slow.recv(4096)
            assert got, data
            data += got
        head, _, already = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert f"Content-Length: {STREAM_LENGTH}".encode() in head
        digest = hashlib.sha256(already)
        received = len(already)
        # The only thread is free while the loop feeds the slow reader: others are answered
        # whether it stalls...
        for _ in range(10):
            assert _get(srv.address, "/", timeout=5).body == b"hello"
        # ...or reads a little now and then.
        for _ in range(20):
            assert _get(srv.address, "/", timeout=5).body == b"hello"
            got = slow.recv(16 * 1024)
            assert got
            digest.update(got)
            received += len(got)
        assert "stream: finished" not in srv.log_text(), "the generator was drained, not paused"
        while received < STREAM_LENGTH:
            got = slow.recv(256 * 1024)
            assert got, f"closed after {received} of {STREAM_LENGTH} bytes"
            digest.update(got)
            received += len(got)
    finally:
        slow.close()
    expected = hashlib.sha256()
    for index in range(CHUNKS):
        expected.update(chunk(index))
    assert digest.hexdigest() == expected.hexdigest()
    srv.wait_for_log("stream: finished")
