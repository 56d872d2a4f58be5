"""Wire-level response framing and request-protocol handling, checked byte for byte over raw
sockets against apps/behaviours.py."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path
from urllib.parse import quote

import pytest
from server import (
    RUNNING_GUNICORN,
    RawConnection,
    build_request,
    parse_response,
    post_after_100_continue,
    raw_request,
    wait_until,
)

NOBODY = b"this body must never reach the client"


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("behaviours:app")


def get(srv, target, *, method="GET", version="HTTP/1.1", headers=None, body=b""):
    return raw_request(
        srv.address, build_request(method, target, headers, body, version=version), timeout=15
    )


# ------------------------------------------------------------------ bodiless responses


def test_head_has_no_body(srv):
    resp = get(srv, "/nobody?status=200", method="HEAD")
    assert resp.status == 200
    assert resp.extra == b"", f"HEAD response carried body bytes: {resp.extra!r}"
    assert not resp.has_header("Transfer-Encoding")
    # Like gunicorn: the Content-Length the app gave is kept for HEAD (RFC 9110 §9.3.2 MAY).
    assert resp.header("Content-Length") == str(len(NOBODY))


def test_head_of_response_without_content_length_is_not_chunked(srv):
    resp = get(srv, "/nocl?n=3", method="HEAD")
    assert resp.status == 200
    assert resp.extra == b""
    assert not resp.has_header("Transfer-Encoding")


def test_204_has_no_body_and_no_content_length(srv):
    resp = get(srv, "/nobody?status=204")
    assert resp.status == 204
    assert resp.extra == b"", f"204 carried body bytes: {resp.extra!r}"
    # RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204.
    assert not resp.has_header("Content-Length"), resp.headers
    assert not resp.has_header("Transfer-Encoding"), resp.headers


def test_304_has_no_body(srv):
    resp = get(srv, "/nobody?status=304")
    assert resp.status == 304
    assert resp.extra == b"", f"304 carried body bytes: {resp.extra!r}"
    assert not resp.has_header("Transfer-Encoding"), resp.headers


# ------------------------------------------------------------------ body framing


def test_no_content_length_http11_is_chunked(srv):
    resp = get(srv, "/nocl?n=4")
    assert resp.status == 200
    assert resp.header("Transfer-Encoding") == "chunked"
    assert not resp.has_header("Content-Length")
    assert resp.framing == "chunked" and resp.complete, resp.raw
    assert resp.body == b"piece 0;piece 1;piece 2;piece 3;"
    assert resp.extra == b""


def test_empty_items_do_not_terminate_chunked_body(srv):
    resp = get(srv, "/nocl?n=3&empty=1")
    assert resp.framing == "chunked" and resp.complete, resp.raw
    assert resp.body == b"piece 0;piece 1;piece 2;"
    assert resp.raw.count(b"\r\n0\r\n\r\n") == 1, resp.raw
    assert resp.extra == b""


def test_no_content_length_http10_is_close_delimited(srv):
    with RawConnection(srv.address) as conn:
        conn.send(build_request("GET", "/nocl?n=4", version="HTTP/1.0"))
        resp = conn.read_response()
    assert resp.status == 200
    assert not resp.has_header("Transfer-Encoding")
    assert not resp.has_header("Content-Length")
    assert resp.framing == "close"
    assert resp.body == b"piece 0;piece 1;piece 2;piece 3;"
    assert conn.closed_by_peer


def test_content_length_is_enforced(srv):
    """Bytes beyond the app's Content-Length are not written."""
    resp = get(srv, "/overlong")
    assert resp.header("Content-Length") == "5"
    assert resp.body == b"12345"
    assert resp.extra == b"", f"bytes beyond Content-Length: {resp.extra!r}"


def test_hop_by_hop_headers_from_app_are_dropped(srv):
    resp = get(srv, "/hop")
    assert resp.status == 200
    names = resp.header_names
    for dropped in (
        "keep-alive",
        "transfer-encoding",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "upgrade",
    ):
        assert dropped not in names, f"{dropped} leaked: {resp.headers}"
    # The server writes its own Connection, Server and Date, exactly once each.
    assert resp.header_list("Connection") == ["close"], resp.headers
    assert len(resp.header_list("Server")) == 1
    assert resp.header("Server") != "app-server/1.0"
    assert len(resp.header_list("Date")) == 1
    assert "1970" not in resp.header("Date")
    assert resp.header("X-End-To-End") == "kept"
    assert resp.framing == "content-length"
    assert resp.body == b"hop-by-hop headers were sent by the app"


def test_write_callable_output_comes_first_and_in_order(srv):
    resp = get(srv, "/write")
    assert resp.status == 200
    assert resp.complete, resp.raw
    assert resp.body == b"write-1;write-2;iter-1;iter-2"


def test_write_callable_http10(srv):
    resp = get(srv, "/write", version="HTTP/1.0")
    assert resp.framing == "close"
    assert resp.body == b"write-1;write-2;iter-1;iter-2"


@pytest.fixture(scope="module")
def blob(tmp_path_factory) -> tuple[Path, bytes]:
    # An odd size that is not a multiple of any block size.
    data = os.urandom(1024 * 1024 + 12345)
    path = tmp_path_factory.mktemp("files") / "blob.bin"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize(
    ("cl", "version", "gunicorn_framing"),
    [
        ("1", "HTTP/1.1", "content-length"),
        ("0", "HTTP/1.1", "chunked"),
        ("0", "HTTP/1.0", "close"),
    ],
)
def test_file_wrapper_serves_exact_bytes(srv, blob, cl, version, gunicorn_framing):
    """Without an app-set Content-Length, gunicorn frames a file_wrapper body with chunked
    encoding (1.1) or the close of the connection (1.0); monoceros knows the file's length
    before the head leaves and sends Content-Length (docs/differences.md)."""
    path, data = blob
    resp = get(srv, f"/file?path={quote(str(path))}&cl={cl}", version=version)
    assert resp.status == 200
    assert resp.framing == (gunicorn_framing if RUNNING_GUNICORN else "content-length")
    assert resp.complete
    assert len(resp.body) == len(data)
    assert resp.body == data
    assert resp.extra == b""


def test_file_wrapper_head_sends_no_body(srv, blob):
    path, data = blob
    resp = get(srv, f"/file?path={quote(str(path))}", method="HEAD")
    assert resp.status == 200
    assert resp.header("Content-Length") == str(len(data))
    assert resp.extra == b""


# ------------------------------------------------------------------ close() of the iterable


def wait_for_marker(marker: Path, timeout: float = 15.0) -> str:
    wait_until(marker.exists, timeout=timeout, message=f"close() marker {marker}")
    return wait_until(lambda: marker.read_text(), timeout=2, message="marker content")


def test_close_called_after_normal_iteration(srv, tmp_path):
    marker = tmp_path / "normal"
    resp = get(srv, f"/close?marker={quote(str(marker))}&mode=normal")
    assert resp.body == b"part 0;part 1;part 2;"
    assert wait_for_marker(marker) == "closed after 3"


def test_close_called_after_app_error_mid_iteration(srv, tmp_path):
    marker = tmp_path / "error"
    resp = get(srv, f"/close?marker={quote(str(marker))}&mode=error")
    assert resp.status == 200
    assert not resp.complete, "an app error mid-body must not look like a complete response"
    wait_for_marker(marker)


def test_close_called_after_client_disconnect(srv, tmp_path):
    marker = tmp_path / "disconnect"
    conn = RawConnection(srv.address)
    try:
        conn.send(build_request("GET", f"/close?marker={quote(str(marker))}&mode=disconnect"))
        conn.read_until(b"\r\n\r\n")
        # Abortive close (RST) so the server's next writes fail at once.
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        conn.close()
    wait_for_marker(marker, timeout=15)
    # The worker survives and serves the next request.
    assert get(srv, "/hello").body == b"hello"


# ------------------------------------------------------------------ request side


def test_expect_100_continue(srv):
    body = b"payload sent only after 100 Continue"
    resp = post_after_100_continue(srv.address, body)
    assert [r.status for r in resp.interim] == [100]
    assert resp.status == 200
    assert resp.body == body
    assert resp.header("X-Received") == str(len(body))


def test_malformed_header_gets_400_and_close(srv):
    with RawConnection(srv.address) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
        raw = conn.read_until_close(timeout=10)
    resp = parse_response(raw)
    assert resp.status == 400
    assert resp.header_list("Connection") == ["close"], resp.headers
    assert conn.closed_by_peer


def test_malformed_request_then_server_still_serves(srv):
    raw_request(srv.address, b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
    assert get(srv, "/hello").body == b"hello"
