"""Requests caught by a stop: a worker told to stop (TERM to the master, or HUP replacing the
workers) must answer every request whose bytes already reached it, and a client that
connects once the server is going away must get an answer or a refusal, never a reset."""

from __future__ import annotations

import signal
import time

import pytest
from server import RawConnection, get_request

APP = "behaviours:app"
WORKERS = {"event": ("-k", "event"), "gthread": ("-k", "gthread", "--threads", "1")}


@pytest.mark.monoceros_only  # gunicorn has no event worker
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
@pytest.mark.parametrize("worker", list(WORKERS))
def test_a_kept_alive_connection_whose_next_request_arrived_is_answered(
    server_factory, worker, stop
):
    srv = server_factory(APP, *WORKERS[worker], "--keep-alive", "30", "--graceful-timeout", "10")
    with RawConnection(srv.address) as kept:
        kept.send(get_request("/hello"))
        assert kept.read_next_response().body == b"hello"
        # Another client keeps the worker busy (the event worker's only thread, gthread's
        # only app thread) while the first one sends its next request.
        busy = RawConnection(srv.address)
        busy.send(get_request("/sleep?s=1.5", "Connection: close"))
        srv.wait_for_log("sleep route: started")
        kept.send(get_request("/hello"))
        time.sleep(0.3)  # the request is in the worker's socket, not read yet
        srv.signal(stop)
        resp = kept.read_next_response(timeout=15)
        assert resp.status == 200 and resp.body == b"hello"
        assert resp.header("Connection") == "close"
        assert busy.read_response(timeout=15).body == b"slept 1.5"
        busy.close()
