"""Requests caught by a stop: a worker told to stop (TERM to the master, or HUP replacing the
workers) must answer every request whose bytes already reached it, and a client that
connects once the server is going away must get an answer or a refusal, never a reset."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from server import RawConnection, get_request, wait_until

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


def _attempt(address, path: str) -> str:
    """One request on a new connection: "200", "refused", or what went wrong."""
    try:
        with RawConnection(address, timeout=15) as conn:
            conn.send(get_request(path, "Connection: close"))
            resp = conn.read_response(timeout=15)
            return str(resp.status) if resp.complete else f"incomplete: {resp.raw[:200]!r}"
    except ConnectionRefusedError:
        return "refused"
    except (OSError, AssertionError) as error:
        return f"failed: {error!r}"


ALL_WORKERS = {"sync": ("-k", "sync"), **WORKERS}
# With reuse_port each worker listens on a socket of its own, which it closes itself.
STEADY = {**ALL_WORKERS, "event-reuse-port": ("-k", "event", "--reuse-port")}


@pytest.mark.parametrize("worker", list(ALL_WORKERS))
def test_a_client_that_connects_during_a_graceful_stop_is_answered_or_refused(
    server_factory, worker
):
    srv = server_factory(APP, *ALL_WORKERS[worker], "--graceful-timeout", "10")
    address = srv.address
    busy = RawConnection(address)
    busy.send(get_request("/sleep?s=2", "Connection: close"))
    srv.wait_for_log("sleep route: started")
    srv.signal(signal.SIGTERM)
    time.sleep(0.3)
    late = _attempt(address, "/hello")
    assert late in ("200", "refused"), late
    assert busy.read_response(timeout=15).body == b"slept 2"
    busy.close()
    assert srv.wait(timeout=30) == 0


@pytest.mark.parametrize("worker", list(STEADY))
def test_steady_new_connections_across_a_term_are_answered_or_refused(server_factory, worker):
    srv = server_factory(APP, *STEADY[worker], "-w", "2", "--graceful-timeout", "10")
    address = srv.address
    outcomes: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 60

    def client() -> None:
        # New connections, one after the other, until the server is gone (bounded in time).
        while time.monotonic() < stop_at:
            outcome = _attempt(address, "/pid?sleep=0.02")
            with lock:
                outcomes.append(outcome)
            if outcome == "refused":
                return

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(outcomes) >= 60, timeout=30, message="requests before TERM")
    srv.signal(signal.SIGTERM)
    for thread in threads:
        thread.join(90)
    failures = [o for o in outcomes if o not in ("200", "refused")]
    assert not failures, f"{len(failures)} of {len(outcomes)}: {failures[:5]}"
    assert outcomes.count("refused") == len(threads), outcomes[-10:]
    assert srv.wait(timeout=30) == 0
