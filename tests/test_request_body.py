"""Request bodies: read completely before the app runs, spooled to tmp_upload_dir beyond 1 MiB,
refused with 413 above limit_request_body, and never able to hold a worker hostage."""

from __future__ import annotations

import hashlib
import os
import socket
import time

import pytest
from server import RawConnection, build_request, chunked_body, raw_request

pytestmark = pytest.mark.monoceros_only  # limit_request_body is a monoceros extension


def post(target: str, body: bytes, **kwargs) -> bytes:
    return build_request(
        "POST", target, [("Connection", "close")], body, content_length=len(body), **kwargs
    )


@pytest.fixture(scope="module")
def limited(module_server_factory):
    return module_server_factory("behaviours:app", "--limit-request-body", "100000")


def test_body_under_the_limit_reaches_the_app(limited):
    body = os.urandom(100000)
    resp = raw_request(limited.address, post("/echo", body))
    assert resp.status == 200
    assert resp.body == body


def test_content_length_over_the_limit_gets_413_before_the_body_is_sent(limited):
    head = post("/echo", b"x" * 100001)[:-100001]  # the head alone: the body never leaves
    with RawConnection(limited.address) as conn:
        conn.send(head)
        resp = conn.read_response("POST", timeout=5)
    assert resp.status == 413
    assert resp.header("Connection") == "close"
    assert raw_request(limited.address, post("/echo", b"ok")).status == 200


def test_expect_continue_over_the_limit_gets_413_instead_of_100(limited):
    head = (
        b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
        b"Content-Length: 1000000000\r\nConnection: close\r\n\r\n"
    )
    with RawConnection(limited.address) as conn:
        conn.send(head)
        resp = conn.read_response("POST", timeout=5)
    assert resp.status == 413
    assert not resp.interim


def test_chunked_body_over_the_limit_gets_413(limited):
    pieces = [b"y" * 30000] * 4  # 120000 bytes in total
    request = build_request(
        "POST",
        "/echo",
        [("Transfer-Encoding", "chunked"), ("Connection", "close")],
        chunked_body(pieces),
    )
    resp = raw_request(limited.address, request)
    assert resp.status == 413


def test_large_body_is_spooled_and_arrives_intact(server_factory, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    conf = tmp_path / "conf.py"
    conf.write_text(f"tmp_upload_dir = {str(spool)!r}\n")
    srv = server_factory("behaviours:app", "-c", str(conf))
    body = os.urandom(5 * 1024 * 1024 + 17)
    resp = raw_request(srv.address, post("/echo", body), timeout=30)
    assert resp.status == 200
    assert hashlib.sha256(resp.body).digest() == hashlib.sha256(body).digest()
    assert list(spool.iterdir()) == []  # nothing left behind


def test_tmp_upload_dir_is_where_large_bodies_go(server_factory, tmp_path):
    """A tmp_upload_dir that does not exist makes large bodies fail (500) and leaves small
    ones (kept in memory) unaffected, which shows the setting is really used."""
    conf = tmp_path / "conf.py"
    conf.write_text(f"tmp_upload_dir = {str(tmp_path / 'missing')!r}\n")
    srv = server_factory("behaviours:app", "-c", str(conf))
    assert raw_request(srv.address, post("/echo", b"small")).status == 200
    resp = raw_request(srv.address, post("/echo", os.urandom(2 * 1024 * 1024)), timeout=30)
    assert resp.status == 500
    assert raw_request(srv.address, post("/echo", b"small")).status == 200


def test_slow_upload_does_not_hold_the_only_worker(server_factory):
    """With one sync worker, a client that sends half its body and stalls does not delay
    anybody else: the body is read by the event loop, not by the app."""
    srv = server_factory("behaviours:app", "-w", "1")
    body = b"z" * 200000
    slow = socket.create_connection(srv.address)
    try:
        request = post("/echo", body)
        slow.sendall(request[: len(request) // 2])
        started = time.monotonic()
        resp = raw_request(srv.address, post("/echo", b"quick"), timeout=10)
        elapsed = time.monotonic() - started
        assert resp.status == 200
        assert resp.body == b"quick"
        assert elapsed < 5, f"a normal request waited {elapsed:.1f}s behind a stalled upload"
        slow.sendall(request[len(request) // 2 :])
        slow.settimeout(10)
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        slow.close()
