"""A client that sends its requests and then closes its sending side (half-close) is owed
every answer (RFC 9112 §9.6: a half-close is not an abort). Pipelined requests that arrived
with the end of the stream must all be answered, on every worker class that keeps
connections; the sync worker answers the first and closes, as gunicorn's does."""

from __future__ import annotations

import socket

import pytest
from server import build_request, chunked_body, parse_responses

APP = "behaviours:app"
TRIES = 30  # the lost answer was a race: 851 of 900 tries lost it before the fix


def pipelined_then_half_closed(address, requests: list[bytes]) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"".join(requests))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


REQUESTS = [
    build_request("GET", "/hello"),
    build_request("POST", "/echo", body=b"second"),
    build_request(
        "POST",
        "/echo",
        [("Transfer-Encoding", "chunked")],
        chunked_body([b"thi", b"rd"]),
        content_length=False,
    ),
]


@pytest.mark.monoceros_only  # gunicorn has no event worker
@pytest.mark.parametrize("worker", [("-k", "event"), ("-k", "gthread", "--threads", "2")])
def test_pipelined_requests_before_a_half_close_are_all_answered(server_factory, worker):
    srv = server_factory(APP, *worker)
    for _ in range(TRIES):
        data = pipelined_then_half_closed(srv.address, REQUESTS)
        responses = parse_responses(data, 3)
        assert [r.body for r in responses] == [b"hello", b"second", b"third"], data
        assert responses[-1].extra == b""


def test_sync_answers_the_first_request_and_closes(server_factory):
    srv = server_factory(APP, "-k", "sync")
    data = pipelined_then_half_closed(srv.address, REQUESTS[:2])
    (response,) = parse_responses(data, 1)
    assert response.body == b"hello"
    assert response.header("Connection") == "close"
    assert response.extra == b""
