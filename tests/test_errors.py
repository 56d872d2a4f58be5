"""Application errors: an exception before start_response becomes a 500 and a logged traceback;
an exception after the headers went out cuts the response short. The worker survives both."""

from __future__ import annotations

import pytest
import requests
from server import RawConnection, build_request, raw_request


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("behaviours:app")


def worker_pid(srv) -> int:
    r = requests.get(srv.url("/pid"), timeout=10)
    assert r.status_code == 200
    return int(r.text)


def test_exception_before_start_response_is_500(srv):
    pid_before = worker_pid(srv)
    mark = srv.log_mark()
    with RawConnection(srv.address) as conn:
        conn.send(build_request("GET", "/crash-before"))
        resp = conn.read_response()
    assert resp.status == 500
    assert resp.header_list("Connection") == ["close"]
    assert resp.framing == "content-length" and resp.complete
    assert b"Internal Server Error" in resp.body
    # The traceback, naming the exception, is in the error log.
    srv.wait_for_log(r"Traceback \(most recent call last\)", since=mark, timeout=5)
    match = srv.wait_for_log(r"BehaviourCrash: crash before start_response", since=mark)
    assert match
    # The error page does not leak the exception text to the client.
    assert b"crash before start_response" not in resp.body
    # Same worker, still serving.
    assert worker_pid(srv) == pid_before
    assert srv.worker_pids() == [pid_before]


def test_exception_after_headers_truncates_chunked_body(srv):
    pid_before = worker_pid(srv)
    mark = srv.log_mark()
    with RawConnection(srv.address) as conn:
        conn.send(build_request("GET", "/crash-after"))
        resp = conn.read_response()
    # The status line and headers were already sent: they stay 200, but the body is cut short
    # (no terminating chunk) and the connection is closed.
    assert resp.status == 200
    assert resp.framing == "chunked"
    assert not resp.complete, f"body looks complete: {resp.raw!r}"
    assert resp.body == b"partial body, "
    assert conn.closed_by_peer
    srv.wait_for_log(r"BehaviourCrash: crash after headers were sent", since=mark, timeout=5)
    assert worker_pid(srv) == pid_before


def test_exception_after_headers_short_content_length(srv):
    resp = raw_request(srv.address, build_request("GET", "/crash-after?cl=100"))
    assert resp.status == 200
    assert resp.framing == "content-length"
    assert not resp.complete
    assert resp.body == b"partial body, "


def test_exception_after_headers_is_a_client_error(srv):
    """A real HTTP client notices the truncation instead of accepting a short body."""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(srv.url("/crash-after"), timeout=10)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(srv.url("/crash-after?cl=100"), timeout=10)
    r = requests.get(srv.url("/hello"), timeout=10)
    assert r.status_code == 200 and r.text == "hello"


def test_many_errors_in_a_row_do_not_kill_the_worker(srv):
    pid_before = worker_pid(srv)
    for _ in range(10):
        assert raw_request(srv.address, build_request("GET", "/crash-before")).status == 500
        assert not raw_request(srv.address, build_request("GET", "/crash-after")).complete
    assert worker_pid(srv) == pid_before
