"""PEP 3333 conformance through `wsgiref.validate.validator` (apps/validate_app.py): the
validator asserts on every server-side violation, which would surface as a 500 and a traceback
in the error log, so a clean 200 with a clean log means the server passed its checks."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from server import RawConnection, build_request, chunked_body, wait_until

# What the validator (or a GC'd unclosed iterator) leaves in the log when something is wrong.
VALIDATOR_TRACES = ("AssertionError", "WSGIWarning", "Iterator garbage collected")


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("validate_app:app")


def assert_clean_log(srv, since):
    log = srv.log_since(since)
    for trace in VALIDATOR_TRACES:
        assert trace not in log, f"validator complained ({trace}):\n{srv.describe()}"


def test_get_environ_passes_validator(srv):
    mark = srv.log_mark()
    r = requests.get(srv.url("/some/path?a=1&b=2"), timeout=10)
    assert r.status_code == 200, r.text
    env = r.json()
    assert env["REQUEST_METHOD"] == "GET"
    assert env["PATH_INFO"] == "/some/path"
    assert env["QUERY_STRING"] == "a=1&b=2"
    assert env["SCRIPT_NAME"] == ""
    assert env["SERVER_PORT"] == str(srv.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["wsgi.url_scheme"] == "http"
    # Let the worker finish (close(), GC of the validator's iterator wrapper) before reading.
    requests.get(srv.url("/"), timeout=10)
    assert_clean_log(srv, mark)


def test_input_with_content_length_passes_validator(srv):
    mark = srv.log_mark()
    body = b"HELLOfirst line\nsecond line\nthird line without newline"
    r = requests.post(srv.url("/echo"), data=body, timeout=10)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["first"] == "HELLO"
    assert got["line"] == "first line\n"
    assert got["rest_lines"] == 2
    assert got["size"] == len(body)
    assert got["sha256"] == hashlib.sha256(body).hexdigest()
    requests.get(srv.url("/"), timeout=10)
    assert_clean_log(srv, mark)


def test_chunked_input_passes_validator(srv):
    mark = srv.log_mark()
    pieces = [b"ABCDE", b"line one\nline", b" two\n", b"tail"]
    data = build_request("POST", "/echo", [("Transfer-Encoding", "chunked")], chunked_body(pieces))
    with RawConnection(srv.address) as conn:
        conn.send(data)
        resp = conn.read_response()
    assert resp.status == 200, resp.raw
    got = json.loads(resp.body)
    joined = b"".join(pieces)
    assert got["first"] == "ABCDE"
    assert got["line"] == "line one\n"
    assert got["size"] == len(joined)
    assert got["sha256"] == hashlib.sha256(joined).hexdigest()
    requests.get(srv.url("/"), timeout=10)
    assert_clean_log(srv, mark)


def test_wsgi_errors_reaches_error_log(srv):
    mark = srv.log_mark()
    r = requests.get(srv.url("/errors"), timeout=10)
    assert r.status_code == 200
    srv.wait_for_log(r"validate_app: message on wsgi\.errors", since=mark, timeout=5)
    srv.wait_for_log(r"validate_app: line two", since=mark, timeout=5)
    assert_clean_log(srv, mark)


def test_validator_is_live(srv):
    """Proof that a violation is caught: a bytes status trips the validator -> 500 + log."""
    mark = srv.log_mark()
    r = requests.get(srv.url("/broken"), timeout=10)
    assert r.status_code == 500
    srv.wait_for_log(r"AssertionError", since=mark, timeout=5)
    # ... and the worker is still fine afterwards.
    r = wait_until(
        lambda: requests.get(srv.url("/"), timeout=10), timeout=10, message="next request"
    )
    assert r.status_code == 200
