"""A real Django project (apps/djproject, DEBUG off, no database) served end to end as
`djproject.wsgi:application`, plus a differential test against gunicorn."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import requests
from server import assert_same_response, build_request, raw_request, request_bytes_from

APP = "djproject.wsgi:application"


# Every worker class serves the real app; the event worker is monoceros' own.
WORKER_CLASSES = ["sync", "gthread", pytest.param("event", marks=pytest.mark.monoceros_only)]


@pytest.fixture(scope="module", params=WORKER_CLASSES)
def srv(module_server_factory, request):
    return module_server_factory(APP, "-k", request.param)


def test_html_view(srv):
    r = requests.get(srv.url("/"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Hello from Django!</h1>" in r.text
    assert r.headers["Content-Length"] == str(len(r.content))
    # Django's middleware stack ran (these headers come from it, not from the server).
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_json_view(srv):
    r = requests.get(srv.url("/json"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"framework": "django", "numbers": [1, 2, 3], "nested": {"ok": True}}


def test_post_form_echo_csrf_exempt(srv):
    data = [("name", "Zoë"), ("tag", "x"), ("tag", "y z"), ("empty", "")]
    r = requests.post(srv.url("/form"), data=data, timeout=10)
    assert r.status_code == 200, r.text[:500]
    assert r.json() == {"empty": [""], "name": ["Zoë"], "tag": ["x", "y z"]}


def test_upload_3mib_multipart(srv):
    payload = os.urandom(3 * 1024 * 1024)
    r = requests.post(
        srv.url("/upload"),
        files={"file": ("big.bin", payload, "application/octet-stream")},
        data={"note": "spooled to a temp file"},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:500]
    assert r.json() == {
        "filename": "big.bin",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "fields": {"note": "spooled to a temp file"},
    }


def test_redirect_not_followed(srv):
    r = requests.get(srv.url("/redirect"), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


def test_unknown_route_404(srv):
    r = requests.get(srv.url("/no/such/page"), timeout=10)
    assert r.status_code == 404
    assert "Not Found" in r.text


def test_exception_500_then_keeps_serving(srv):
    r = requests.get(srv.url("/error"), timeout=10)
    assert r.status_code == 500
    assert "Server Error (500)" in r.text
    r = requests.get(srv.url("/json"), timeout=10)
    assert r.status_code == 200
    assert r.json()["framework"] == "django"


def test_streaming_response(srv):
    expected = "".join(f"row {i}\n" for i in range(5))
    with requests.get(srv.url("/stream"), stream=True, timeout=10) as r:
        assert r.status_code == 200
        assert "Content-Length" not in r.headers
        assert r.headers.get("Transfer-Encoding") == "chunked"
        assert r.content.decode() == expected
    resp = raw_request(srv.address, build_request("GET", "/stream"))
    assert resp.framing == "chunked" and resp.complete
    assert resp.body.decode() == expected


def test_post_without_csrf_exemption_is_rejected(srv):
    """The CSRF middleware is live: a POST to a non-exempt view without a token gets 403."""
    r = requests.post(srv.url("/json"), data={"a": "b"}, timeout=10)
    assert r.status_code == 403


# ------------------------------------------------------------------ differential test

UPLOAD = os.urandom(3 * 1024 * 1024)

DIFF_REQUESTS = {
    "html": ("GET", "/", {}),
    "json": ("GET", "/json", {}),
    "form": ("POST", "/form", {"data": [("a", "1"), ("a", "2"), ("b", "ü")]}),
    "form-405": ("GET", "/form", {}),
    "upload": (
        "POST",
        "/upload",
        {"files": {"file": ("u.bin", UPLOAD, "application/octet-stream")}, "data": {"k": "v"}},
    ),
    "redirect": ("GET", "/redirect", {}),
    "404": ("GET", "/missing", {}),
    "error": ("GET", "/error", {}),
    "stream": ("GET", "/stream", {}),
    "csrf-403": ("POST", "/json", {"data": {"a": "b"}}),
    "head": ("HEAD", "/", {}),
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
