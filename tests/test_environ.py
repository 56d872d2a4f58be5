"""The WSGI environ of a plain HTTP/1 request on the sync worker, key by key (gunicorn
reference §5 "Keys gunicorn sets"), and the wsgi.input API on Content-Length and chunked
bodies."""

from __future__ import annotations

import json
import os

import pytest
from server import SERVER_MODULE, RawConnection, build_request, chunked_body, raw_request


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("behaviours:app")


def environ_of(srv, target="/environ", *, method="GET", headers=None, body=b"", version=None):
    """Send a raw request and return (environ dict, our local port)."""
    data = build_request(method, target, headers, body, version=version or "HTTP/1.1")
    with RawConnection(srv.address) as conn:
        local_port = conn.sock.getsockname()[1]
        conn.send(data)
        resp = conn.read_response(method=method)
    assert resp.status == 200, resp.raw[:2000]
    return json.loads(resp.body), local_port


def test_wsgi_keys(srv):
    env, _ = environ_of(srv)
    assert env["wsgi.version"] == [1, 0]
    assert "wsgi.version" in env["__tuple_keys__"]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is False
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    for key in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
        assert key in env["__bool_keys__"]


def test_wsgi_objects_present(srv):
    env, _ = environ_of(srv)
    types = env["__types__"]
    for key in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper", "gunicorn.socket"):
        assert key in types, f"{key} missing from environ ({sorted(types)})"
    assert env["__has_socket__"] is True
    assert env["__file_wrapper_type__"], "wsgi.file_wrapper is not a named callable"


def test_multiprocess_true_with_several_workers(server_factory):
    srv = server_factory("behaviours:app", "-w", "2")
    env, _ = environ_of(srv)
    assert env["wsgi.multiprocess"] is True
    assert env["wsgi.multithread"] is False


def test_server_software(srv):
    env, _ = environ_of(srv)
    software = env["SERVER_SOFTWARE"]
    assert software.lower().startswith(SERVER_MODULE.lower()), software
    assert "/" in software, f"expected name/version, got {software!r}"


def test_request_line_keys(srv):
    env, _ = environ_of(srv, "/environ/a%20b/caf%C3%A9?x=1&y=%20z&x=2", method="GET")
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "x=1&y=%20z&x=2"
    assert env["RAW_URI"] == "/environ/a%20b/caf%C3%A9?x=1&y=%20z&x=2"
    # PEP 3333: percent-decoded, bytes carried as latin-1 characters.
    assert env["PATH_INFO"] == "/environ/a b/caf\u00c3\u00a9"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SCRIPT_NAME"] == ""


def test_empty_query_string(srv):
    env, _ = environ_of(srv, "/environ")
    assert env["QUERY_STRING"] == ""
    assert env["RAW_URI"] == "/environ"


def test_other_method_and_http10(srv):
    env, _ = environ_of(srv, "/environ", method="DELETE", version="HTTP/1.0")
    assert env["REQUEST_METHOD"] == "DELETE"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_server_and_remote_address(srv):
    env, local_port = environ_of(srv)
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(srv.port)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(local_port)


def test_content_type_and_length_without_http_prefix(srv):
    env, _ = environ_of(
        srv,
        "/environ",
        method="POST",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"a=1&b=2",
    )
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["CONTENT_LENGTH"] == "7"
    assert "HTTP_CONTENT_TYPE" not in env
    assert "HTTP_CONTENT_LENGTH" not in env


def test_no_content_keys_without_those_headers(srv):
    env, _ = environ_of(srv)
    assert "CONTENT_TYPE" not in env
    assert "CONTENT_LENGTH" not in env


def test_http_headers(srv):
    env, _ = environ_of(
        srv,
        headers=[
            ("X-Custom-Header", "  padded value\t"),
            ("User-Agent", "environ-test/1.0"),
            ("Accept", "text/plain"),
        ],
    )
    assert env["HTTP_HOST"] == "127.0.0.1"
    assert env["HTTP_X_CUSTOM_HEADER"] == "padded value"
    assert env["HTTP_USER_AGENT"] == "environ-test/1.0"
    assert env["HTTP_ACCEPT"] == "text/plain"


def test_repeated_headers_joined_with_comma(srv):
    env, _ = environ_of(
        srv,
        headers=[("X-Multi", "one"), ("Accept", "a/b"), ("X-Multi", "two"), ("x-multi", "3")],
    )
    assert env["HTTP_X_MULTI"] == "one,two,3"
    assert env["HTTP_ACCEPT"] == "a/b"


def test_underscore_header_is_dropped(srv):
    """X_Forwarded_For and X-Forwarded-For would both map to HTTP_X_FORWARDED_FOR; gunicorn's
    default header_map=drop removes the underscore form."""
    env, _ = environ_of(srv, headers=[("X_Under_Score", "sneaky"), ("X-Dash", "ok")])
    assert "HTTP_X_UNDER_SCORE" not in env
    assert env["HTTP_X_DASH"] == "ok"


def test_script_name_from_process_environment(server_factory):
    srv = server_factory("behaviours:app", env={"SCRIPT_NAME": "/prefix"})
    env, _ = environ_of(srv, "/prefix/environ/sub?q=1")
    assert env["SCRIPT_NAME"] == "/prefix"
    assert env["PATH_INFO"] == "/environ/sub"
    assert env["RAW_URI"] == "/prefix/environ/sub?q=1"
    assert env["__process_env_script_name__"] == "/prefix"
    # A path outside SCRIPT_NAME is a configuration problem: 500, not a crash.
    resp = raw_request(srv.address, build_request("GET", "/elsewhere"))
    assert resp.status == 500
    assert raw_request(srv.address, build_request("GET", "/prefix/hello")).body == b"hello"


def test_all_cgi_values_are_str(srv):
    env, _ = environ_of(srv, "/environ?x=1", headers=[("X-A", "b")])
    for key, value in env.items():
        if key.startswith("__") or "." in key:
            continue
        assert isinstance(value, str), f"{key} = {value!r} is not a str"


# ------------------------------------------------------------------ wsgi.input

BODY = b"line one\nline two\n\n" + b"x" * 5000 + b"\nlast line without newline"


def split_lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def expected_parts(mode: str, data: bytes) -> list[bytes]:
    if mode in ("read", "read_none"):
        return [data]
    if mode == "read_n":
        return [data[i : i + 7] for i in range(0, len(data), 7)]
    if mode in ("readline", "readlines", "iter"):
        return split_lines(data)
    if mode == "readline_n":
        return [line[i : i + 4] for line in split_lines(data) for i in range(0, len(line), 4)]
    if mode == "mixed":
        first = data[:3]
        nl = data.find(b"\n", 3)
        line = data[3 : nl + 1] if nl >= 0 else data[3:]
        return [first, line, data[3 + len(line) :]]
    raise ValueError(mode)


MODES = ["read", "read_none", "read_n", "readline", "readline_n", "readlines", "iter", "mixed"]


def input_result(srv, mode, body, *, chunked=False):
    if chunked:
        pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        data = build_request(
            "POST", f"/input?mode={mode}", [("Transfer-Encoding", "chunked")], chunked_body(pieces)
        )
    else:
        data = build_request("POST", f"/input?mode={mode}", body=body, content_length=True)
    resp = raw_request(srv.address, data, timeout=15)
    assert resp.status == 200, resp.raw[:2000]
    return json.loads(resp.body)


@pytest.mark.parametrize("mode", MODES)
def test_input_content_length(srv, mode):
    got = input_result(srv, mode, BODY)
    parts = [p.encode("latin-1") for p in got["parts"]]
    assert parts == expected_parts(mode, BODY)
    assert got["after_eof"] == ""
    assert got["content_length"] == str(len(BODY))


@pytest.mark.parametrize("mode", MODES)
def test_input_chunked(srv, mode):
    got = input_result(srv, mode, BODY, chunked=True)
    parts = [p.encode("latin-1") for p in got["parts"]]
    assert parts == expected_parts(mode, BODY)
    assert got["after_eof"] == ""
    assert got["content_length"] is None
    assert got["transfer_encoding"] == "chunked"


@pytest.mark.parametrize("mode", ["read", "readline", "readlines", "iter"])
def test_input_empty_body(srv, mode):
    got = input_result(srv, mode, b"")
    parts = [p.encode("latin-1") for p in got["parts"]]
    assert b"".join(parts) == b""
    assert got["after_eof"] == ""


def test_input_without_body_headers_reads_empty(srv):
    """A request with neither Content-Length nor Transfer-Encoding has an empty body."""
    resp = raw_request(srv.address, build_request("GET", "/input?mode=read"))
    assert json.loads(resp.body)["parts"] == [""]


def test_input_binary_bytes_roundtrip(srv):
    body = bytes(range(256)) * 64 + os.urandom(4096)
    resp = raw_request(srv.address, build_request("POST", "/echo", body=body), timeout=15)
    assert resp.status == 200
    assert resp.body == body
