"""The write() callable mixed with a returned body, and empty write() calls, on every worker
class (apps/write_mix.py). Each response must carry exactly b"one two\\n" in one well-framed
response: no second status line inside the body, no early end of a chunked body, and on a
kept-alive connection the next request must be answered as if nothing odd had happened.
The same requests go to gunicorn 27, whose answers must match."""

from __future__ import annotations

import pytest
from server import RUNNING_GUNICORN, RawConnection, assert_same_response, get_request

APP = "write_mix:app"
BODY = b"one two\n"
ROUTES = [
    "/w-then-one",
    "/w-then-tuple",
    "/w-then-empty-item",
    "/w-then-file",
    "/w-cl-then-one",
    "/w-cl-then-file",
    "/w-empty-between",
    "/w-empty-first",
    "/w-empty-first-then-file",
    "/w-empty-last",
    "/w-cl-empty-writes",
]
# The file routes also run with --no-sendfile, where the file is read through the iterable.
WORKERS = {
    "sync": ("-k", "sync"),
    "event": ("-k", "event"),
    "gthread": ("-k", "gthread", "--threads", "2"),
    "sync-no-sendfile": ("-k", "sync", "--no-sendfile"),
}
# The gunicorn worker each of ours is compared with (gunicorn has no event worker: its
# keep-alive worker is gthread).
REFERENCE = {
    "sync": ("-k", "sync"),
    "event": ("-k", "gthread", "--threads", "2"),
    "gthread": ("-k", "gthread", "--threads", "2"),
    "sync-no-sendfile": ("-k", "sync", "--no-sendfile"),
}
# (worker, route) pairs: --no-sendfile changes only the routes that return a file.
CASES = [
    pytest.param(worker, route, id=f"{worker}{route}")
    for worker in WORKERS
    for route in ROUTES
    if "no-sendfile" not in worker or "file" in route
]


@pytest.fixture(scope="module")
def servers(module_server_factory):
    started = {}

    def server(worker: str):
        if worker not in started:
            started[worker] = module_server_factory(APP, *WORKERS[worker])
        return started[worker]

    return server


def _keeps_alive(worker: str) -> bool:
    return worker in ("event", "gthread")


def exchange_http11(address, route: str, keeps_alive: bool):
    """The route's response on HTTP/1.1, then (when the worker keeps connections) the answer
    to a second request on the same connection."""
    with RawConnection(address) as conn:
        conn.send(get_request(route))
        first = conn.read_next_response()
        if not keeps_alive:
            assert first.header("Connection") == "close"
            assert conn.server_closed(5), "the connection stayed open after Connection: close"
            assert conn.buffer == b"", f"bytes after the response: {conn.buffer!r}"
            return first, None
        assert first.header("Connection") == "keep-alive", first.head_bytes
        conn.send(get_request("/after"))
        second = conn.read_next_response()
        assert conn.buffer == b"", f"bytes after the second response: {conn.buffer!r}"
        return first, second


def exchange_http10(address, route: str):
    with RawConnection(address) as conn:
        conn.send(get_request(route, version="HTTP/1.0"))
        return conn.read_response()


def check_body(resp, route: str) -> None:
    assert resp.status == 200, resp.raw
    assert resp.complete, f"{route}: incomplete response {resp.raw!r}"
    assert resp.body == BODY, f"{route}: body {resp.body!r} in {resp.raw!r}"
    assert b"HTTP/1." not in resp.raw[len(resp.head_bytes) :], (
        f"a head inside the body: {resp.raw!r}"
    )


@pytest.mark.parametrize(("worker", "route"), CASES)
def test_http11_body_is_whole_and_the_connection_stays_usable(servers, worker, route):
    first, second = exchange_http11(servers(worker).address, route, _keeps_alive(worker))
    check_body(first, route)
    if route.startswith("/w-cl-"):
        assert first.framing == "content-length", first.head_bytes
    else:
        assert first.framing == "chunked", first.head_bytes
    if second is not None:
        assert second.status == 200 and second.body == b"after", second.raw


@pytest.mark.parametrize(("worker", "route"), CASES)
def test_http10_body_is_whole(servers, worker, route):
    resp = exchange_http10(servers(worker).address, route)
    check_body(resp, route)
    assert resp.extra == b""
    assert resp.framing == ("content-length" if route.startswith("/w-cl-") else "close")


@pytest.fixture(scope="module")
def references(gunicorn_reference):
    started = {}

    def server(worker: str):
        args = REFERENCE[worker]
        if args not in started:
            started[args] = gunicorn_reference(APP, *args)
        return started[args]

    return server


@pytest.mark.skipif(RUNNING_GUNICORN, reason="differential: the server under test is gunicorn")
@pytest.mark.parametrize(("worker", "route"), CASES)
def test_same_answers_as_gunicorn(servers, references, worker, route):
    ours, theirs = servers(worker).address, references(worker).address
    keep = _keeps_alive(worker)
    mine, reference = exchange_http11(ours, route, keep), exchange_http11(theirs, route, keep)
    assert_same_response(mine[0], reference[0])
    if keep:
        assert_same_response(mine[1], reference[1])
    assert_same_response(exchange_http10(ours, route), exchange_http10(theirs, route))
