"""A real Flask application served end to end: every route of apps/flask_app.py, plus a
differential test against gunicorn."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import requests
from server import (
    RawConnection,
    assert_same_response,
    build_request,
    raw_request,
    request_bytes_from,
)

APP = "flask_app:app"


# Every worker class serves the real app; the event worker is monoceros' own.
WORKER_CLASSES = ["sync", "gthread", pytest.param("event", marks=pytest.mark.monoceros_only)]


@pytest.fixture(scope="module", params=WORKER_CLASSES)
def srv(module_server_factory, request):
    return module_server_factory(APP, "-k", request.param)


def test_index_text(srv):
    r = requests.get(srv.url("/"), timeout=10)
    assert r.status_code == 200
    assert r.text == "Hello from Flask!"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Content-Length"] == str(len(r.content))


def test_json(srv):
    r = requests.get(srv.url("/json"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"framework": "flask", "numbers": [1, 2, 3], "nested": {"ok": True}}


def test_form_post_echo(srv):
    data = [("name", "Zoë"), ("tag", "a"), ("tag", "b & c"), ("empty", "")]
    r = requests.post(srv.url("/form"), data=data, timeout=10)
    assert r.status_code == 200
    assert r.json() == {"empty": [""], "name": ["Zoë"], "tag": ["a", "b & c"]}


def test_form_wrong_method_is_405(srv):
    r = requests.get(srv.url("/form"), timeout=10)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]


def test_upload_3mib_multipart(srv):
    payload = os.urandom(3 * 1024 * 1024)
    r = requests.post(
        srv.url("/upload"),
        files={"file": ("blob.bin", payload, "application/octet-stream")},
        data={"note": "three mebibytes"},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:500]
    assert r.json() == {
        "filename": "blob.bin",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "fields": {"note": "three mebibytes"},
    }


def test_stream_read_completely(srv):
    expected = b"".join(f"chunk {i}\n".encode() for i in range(5))
    with requests.get(srv.url("/stream"), stream=True, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in r.headers
        body = b"".join(r.iter_content(chunk_size=None))
    assert body == expected


def test_stream_wire_framing(srv):
    resp = raw_request(srv.address, build_request("GET", "/stream"))
    assert resp.framing == "chunked"
    assert resp.complete, resp.raw
    assert resp.body == b"".join(f"chunk {i}\n".encode() for i in range(5))
    assert resp.extra == b""


def test_redirect_not_followed(srv):
    r = requests.get(srv.url("/redirect"), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"] == "/"
    assert r.is_redirect


def test_unknown_route_404(srv):
    r = requests.get(srv.url("/no/such/route"), timeout=10)
    assert r.status_code == 404
    assert "Not Found" in r.text


def test_exception_500_then_keeps_serving(srv):
    mark = srv.log_mark()
    r = requests.get(srv.url("/error"), timeout=10)
    assert r.status_code == 500
    assert "Internal Server Error" in r.text
    # Flask logs the traceback on its own logger, which ends up on the server's stderr.
    srv.wait_for_log(r"RuntimeError: flask route failed on purpose", since=mark, timeout=5)
    r = requests.get(srv.url("/"), timeout=10)
    assert r.status_code == 200
    assert r.text == "Hello from Flask!"


def test_headers_echo(srv):
    r = requests.get(
        srv.url("/headers"),
        headers={"X-Custom": "custom value", "Accept-Language": "fr, en;q=0.5"},
        timeout=10,
    )
    assert r.status_code == 200
    echoed = r.json()
    assert echoed["X-Custom"] == "custom value"
    assert echoed["Accept-Language"] == "fr, en;q=0.5"
    assert echoed["Host"] == f"{srv.host}:{srv.port}"


def test_query_args(srv):
    r = requests.get(srv.url("/query?x=1&x=2&y=h%C3%A9llo&z="), timeout=10)
    assert r.status_code == 200
    assert r.json() == {"x": ["1", "2"], "y": ["héllo"], "z": [""]}


def test_cookie(srv):
    r = requests.get(srv.url("/cookie"), timeout=10)
    assert r.status_code == 200
    assert r.cookies.get("flavour") == "oatmeal"
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie.startswith("flavour=oatmeal")
    assert "HttpOnly" in set_cookie


def test_head_has_no_body(srv):
    with RawConnection(srv.address) as conn:
        conn.send(build_request("HEAD", "/json"))
        resp = conn.read_response(method="HEAD")
    assert resp.status == 200
    assert resp.extra == b"", "HEAD response carried a body"


# ------------------------------------------------------------------ differential test

UPLOAD = os.urandom(3 * 1024 * 1024)

DIFF_REQUESTS = {
    "index": ("GET", "/", {}),
    "json": ("GET", "/json", {}),
    "form": ("POST", "/form", {"data": [("a", "1"), ("a", "2"), ("b", "ü")]}),
    "form-405": ("GET", "/form", {}),
    "upload": (
        "POST",
        "/upload",
        {"files": {"file": ("u.bin", UPLOAD, "application/octet-stream")}, "data": {"k": "v"}},
    ),
    "stream": ("GET", "/stream", {}),
    "redirect": ("GET", "/redirect", {}),
    "404": ("GET", "/missing", {}),
    "error": ("GET", "/error", {}),
    "headers": ("GET", "/headers", {"headers": {"X-One": "1", "User-Agent": "diff/1.0"}}),
    "query": ("GET", "/query?x=1&x=2&q=%20sp", {}),
    "cookie": ("GET", "/cookie", {}),
    "head": ("HEAD", "/json", {}),
}


# Same hash seed on both sides: set iteration order (e.g. the order of the methods in an
# `Allow` header) then matches between the two processes.
SEEDED = {"PYTHONHASHSEED": "0"}


@pytest.fixture(scope="module")
def pair(module_server_factory, gunicorn_reference):
    return module_server_factory(APP, env=SEEDED), gunicorn_reference(APP, env=SEEDED)


@pytest.mark.parametrize("name", sorted(DIFF_REQUESTS))
def test_differential_against_gunicorn(pair, name):
    ours, reference = pair
    method, path, kwargs = DIFF_REQUESTS[name]
    data = request_bytes_from(method, path, **kwargs)
    a = raw_request(ours.address, data, method=method, timeout=30)
    b = raw_request(reference.address, data, method=method, timeout=30)
    assert_same_response(a, b)
    if name == "upload":
        assert json.loads(a.body)["sha256"] == hashlib.sha256(UPLOAD).hexdigest()
