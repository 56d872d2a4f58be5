"""Basic serving: the hello app over HTTP/1.1 and HTTP/1.0, Server/Date/Connection headers of
the default sync worker, and several workers sharing the listener."""

from __future__ import annotations

import re
import threading
import time
from email.utils import parsedate_to_datetime

import pytest
import requests
from server import RawConnection, build_request, raw_request

IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$"
)


@pytest.fixture(scope="module")
def hello(module_server_factory):
    return module_server_factory("hello:app")


def test_get_returns_body(hello):
    r = requests.get(hello.url("/"), timeout=10)
    assert r.status_code == 200
    assert r.content == b"Hello, World!"
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Length"] == "13"


def test_server_header_present_once(hello):
    resp = raw_request(hello.address, build_request("GET", "/"))
    servers = resp.header_list("Server")
    assert len(servers) == 1, resp.headers
    assert servers[0].strip(), "empty Server header"


def test_date_header_well_formed(hello):
    before = time.time()
    resp = raw_request(hello.address, build_request("GET", "/"))
    after = time.time()
    dates = resp.header_list("Date")
    assert len(dates) == 1, resp.headers
    assert IMF_FIXDATE.match(dates[0]), f"not an IMF-fixdate: {dates[0]!r}"
    stamp = parsedate_to_datetime(dates[0]).timestamp()
    # Second resolution, and a cached Date may lag by up to a second.
    assert before - 2 <= stamp <= after + 1, (dates[0], before, after)


@pytest.mark.parametrize(
    "request_bytes",
    [
        build_request("GET", "/"),
        build_request("HEAD", "/"),
        build_request("POST", "/", body=b"ignored body"),
        build_request("GET", "/", headers=[("Connection", "keep-alive")]),
        build_request("GET", "/nothing/here?x=1"),
        build_request("GET", "/", version="HTTP/1.0"),
        build_request("GET", "/", headers=[("Connection", "keep-alive")], version="HTTP/1.0"),
    ],
    ids=["get", "head", "post", "keepalive-requested", "other-path", "http10", "http10-ka"],
)
def test_sync_worker_always_closes(hello, request_bytes):
    """gunicorn's sync worker answers every request with Connection: close and closes."""
    with RawConnection(hello.address) as conn:
        conn.send(request_bytes)
        method = request_bytes.split(b" ", 1)[0].decode()
        resp = conn.read_response(method=method)
    assert resp.status == 200
    assert resp.header_list("Connection") == ["close"], resp.headers
    assert resp.extra == b""
    assert conn.closed_by_peer


def test_http10_request(hello):
    resp = raw_request(hello.address, build_request("GET", "/", version="HTTP/1.0", host=None))
    assert resp.version == "HTTP/1.0"
    assert resp.status == 200
    assert resp.body == b"Hello, World!"
    assert resp.framing == "content-length"
    assert not resp.has_header("Transfer-Encoding")


def test_second_request_on_closed_connection_is_not_served(hello):
    """Pipelined second request: the sync worker answers only the first, then closes."""
    data = build_request("GET", "/") + build_request("GET", "/")
    with RawConnection(hello.address) as conn:
        conn.send(data)
        raw = conn.read_until_close()
    assert raw.count(b"HTTP/1.1 200") == 1, raw


def test_two_workers_both_serve(server_factory):
    srv = server_factory("behaviours:app", "-w", "2")
    booted = srv.worker_pids()
    assert len(booted) == 2, srv.describe()
    results: list[int] = []
    errors: list[BaseException] = []

    def fetch():
        try:
            r = requests.get(srv.url("/pid?sleep=1"), timeout=15)
            assert r.status_code == 200
            results.append(int(r.text))
        except BaseException as exc:  # reported by the asserts below
            errors.append(exc)

    # A sync worker serves one request at a time, so two overlapping 1 s requests must be
    # answered by two different workers.
    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert sorted(results) == sorted(booted), (results, booted)
