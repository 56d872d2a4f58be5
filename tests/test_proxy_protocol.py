"""PROXY protocol (HAProxy v1 text and v2 binary) before the first request of a connection:
the client's address from the header replaces the proxy's in the environ, a sender outside
`proxy_allow_ips` gets 403, and a malformed header gets 400 without reaching the app."""

from __future__ import annotations

import json
import struct

import pytest
from server import RUNNING_GUNICORN, raw_request

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
REQUEST = b"GET /environ HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n"


def v2_header(command: int, family: int, addresses: bytes) -> bytes:
    length = struct.pack(">H", len(addresses))
    return SIGNATURE + bytes([0x20 | command, family]) + length + addresses


def v2_ipv4(client: str, client_port: int, proxy: str, proxy_port: int) -> bytes:
    packed = bytes(int(part) for part in client.split(".")) + bytes(
        int(part) for part in proxy.split(".")
    )
    return v2_header(1, 0x11, packed + struct.pack(">HH", client_port, proxy_port))


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("behaviours:app", "--proxy-protocol", "auto")


def environ_of(srv, data: bytes) -> dict:
    resp = raw_request(srv.address, data)
    assert resp.status == 200, resp.raw[:300]
    return json.loads(resp.body)


def test_v1_header_sets_the_client_address(srv):
    environ = environ_of(srv, b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n" + REQUEST)
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    assert environ["REMOTE_PORT"] == "40000"
    assert environ["PROXY_PROTOCOL"] == "TCP4"
    assert environ["PROXY_ADDR"] == "192.0.2.1"
    assert environ["PROXY_PORT"] == "443"


def test_v1_tcp6(srv):
    environ = environ_of(srv, b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 8443\r\n" + REQUEST)
    assert environ["REMOTE_ADDR"] == "2001:db8::7"
    assert environ["PROXY_PROTOCOL"] == "TCP6"


def test_v2_header_sets_the_client_address(srv):
    environ = environ_of(srv, v2_ipv4("198.51.100.9", 50000, "192.0.2.1", 443) + REQUEST)
    assert environ["REMOTE_ADDR"] == "198.51.100.9"
    assert environ["REMOTE_PORT"] == "50000"
    assert environ["PROXY_PROTOCOL"] == "TCP4"


@pytest.mark.monoceros_only  # gunicorn sets REMOTE_ADDR to None here (docs/differences.md)
def test_v2_local_keeps_the_connection_address(srv):
    environ = environ_of(srv, v2_header(0, 0x00, b"") + REQUEST)
    assert environ["PROXY_PROTOCOL"] == "LOCAL"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"


def test_no_header_in_auto_mode_is_plain_http(srv):
    environ = environ_of(srv, REQUEST)
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert "PROXY_PROTOCOL" not in environ


@pytest.mark.parametrize(
    "header",
    [
        b"PROXY TCP4 192.168.0.1 192.168.0.11 65iii 100000\r\n",
        b"PROXY TCP4 not-an-ip 192.168.0.11 56324 443\r\n",
        b"PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n",
    ],
)
def test_malformed_header_gets_400(srv, header):
    resp = raw_request(srv.address, header + REQUEST)
    assert resp.status == 400
    assert resp.header("Connection") == "close"
    assert raw_request(srv.address, REQUEST).status == 200  # the server still answers


def test_sender_outside_proxy_allow_ips_gets_403(server_factory):
    srv = server_factory(
        "behaviours:app", "--proxy-protocol", "auto", "--proxy-allow-from", "192.0.2.99"
    )
    resp = raw_request(srv.address, b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n" + REQUEST)
    assert resp.status == 403
    # Without a PROXY header the same peer is served normally.
    assert raw_request(srv.address, REQUEST).status == 200


@pytest.mark.skipif(RUNNING_GUNICORN, reason="gunicorn parses the header only in its modes")
def test_v1_only_mode_treats_v2_as_bad_http(server_factory):
    srv = server_factory("behaviours:app", "--proxy-protocol", "v1")
    resp = raw_request(srv.address, v2_ipv4("198.51.100.9", 50000, "192.0.2.1", 443) + REQUEST)
    assert resp.status == 400
