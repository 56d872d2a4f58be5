"""The event worker's loop is fair: each ready client gets a turn per round, whether it
arrives on a new connection, on a kept-alive one, or with many pipelined requests. Before,
one wake-up accepted up to 64 new connections and ran each one's request before any
kept-alive connection was read, and a client pipelining a hundred requests had all of them
answered before anyone else. The order of service is read from apps/turns_app.py (one
worker, so its counter orders every request); no timing is measured here (see bench/)."""

from __future__ import annotations

import time

import pytest
from server import RawConnection, get_request

pytestmark = pytest.mark.monoceros_only  # gunicorn has no event worker

APP = "turns_app:app"


def turn_of(resp) -> int:
    assert resp.status == 200, resp.raw
    return int(resp.body)


@pytest.fixture
def event_server(server_factory):
    return server_factory(APP, "-k", "event", "-w", "1", "--keep-alive", "30")


def kept_alive_clients(srv, count: int) -> list[RawConnection]:
    """Connections that have had one request answered and stay open."""
    clients = [RawConnection(srv.address) for _ in range(count)]
    for conn in clients:
        conn.send(get_request("/first"))
        conn.read_next_response()
    return clients


def hold_the_worker(srv) -> RawConnection:
    busy = RawConnection(srv.address)
    busy.send(get_request("/busy?s=1", "Connection: close"))
    srv.wait_for_log("busy route: started")
    return busy


def test_new_connections_do_not_starve_kept_alive_ones(event_server):
    srv = event_server
    kept = kept_alive_clients(srv, 6)
    busy = hold_the_worker(srv)
    # While the worker is busy: 30 new connections send their request, then the kept-alive
    # clients send their next one. All of it is waiting when the worker comes back.
    fresh = [RawConnection(srv.address) for _ in range(30)]
    for conn in fresh:
        conn.send(get_request("/new", "Connection: close"))
    time.sleep(0.2)
    for conn in kept:
        conn.send(get_request("/again"))
    kept_turns = [turn_of(conn.read_next_response()) for conn in kept]
    fresh_turns = [turn_of(conn.read_response()) for conn in fresh]
    busy.read_response()
    # One round: every client that was ready gets one turn, so no kept-alive client waits
    # for all thirty newcomers.
    assert max(kept_turns) < max(fresh_turns), (sorted(kept_turns), sorted(fresh_turns))
    for conn in [*kept, *fresh, busy]:
        conn.close()


def test_a_long_pipeline_does_not_starve_other_clients(event_server):
    srv = event_server
    others = kept_alive_clients(srv, 5)
    busy = hold_the_worker(srv)
    pipeliner = RawConnection(srv.address)
    pipeliner.send(b"".join(get_request(f"/p{i}") for i in range(100)))
    time.sleep(0.2)
    for conn in others:
        conn.send(get_request("/again"))
    other_turns = [turn_of(conn.read_next_response()) for conn in others]
    pipelined_turns = [turn_of(pipeliner.read_next_response(timeout=20)) for _ in range(100)]
    busy.read_response()
    assert pipelined_turns == sorted(pipelined_turns)  # answered in order
    assert max(other_turns) < max(pipelined_turns), (sorted(other_turns), pipelined_turns[-5:])
    for conn in [*others, pipeliner, busy]:
        conn.close()
