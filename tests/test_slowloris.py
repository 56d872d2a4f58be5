"""Slow clients cannot lock everyone else out. Thousands of connections that each send a
header byte now and then (slowloris) held every one of a worker's worker_connections slots
for `timeout` seconds, so no normal request was served (0% at the default settings). At the
cap, the connection waiting longest for a request head now gives way to the new one. A body
trickled a byte at a time, just inside `timeout`, held its connection for ever: the whole
body now has `timeout` seconds plus one per 500 bytes received to arrive."""

from __future__ import annotations

import resource
import socket
import threading
import time

import pytest
import requests
from server import RawConnection, build_request

pytestmark = pytest.mark.monoceros_only  # gunicorn is overrun (the point here)

APP = "behaviours:app"
WORKERS = {
    "sync": ("-k", "sync"),
    "event": ("-k", "event"),
    "gthread": ("-k", "gthread", "--threads", "2"),
}


class Slowloris:
    """`count` connections that send a partial head and then one header line now and then,
    reconnecting whenever the server drops one (as the attack tools do). Bounded in time."""

    def __init__(self, address, count: int, seconds: float = 60):
        self.address = address
        self.count = count
        self.stop_at = time.monotonic() + seconds
        self.socks: list[socket.socket | None] = [None] * count
        self.reconnects = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(self.address, timeout=2)
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\n")
            return sock
        except OSError:
            return None

    def _run(self) -> None:
        for i in range(self.count):
            self.socks[i] = self._open()
        while time.monotonic() < self.stop_at:
            for i, sock in enumerate(self.socks):
                if time.monotonic() >= self.stop_at:
                    break
                try:
                    if sock is None:
                        raise OSError
                    sock.sendall(b"X-a: b\r\n")
                except OSError:
                    if sock is not None:
                        sock.close()
                    self.reconnects += 1
                    self.socks[i] = self._open()
            time.sleep(0.5)

    def __enter__(self) -> Slowloris:
        self.thread.start()
        # Every connection is open (the worker's slots are full) before normal clients come.
        while any(s is None for s in self.socks) and time.monotonic() < self.stop_at:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_at = 0
        self.thread.join(30)
        for sock in self.socks:
            if sock is not None:
                sock.close()


def normal_requests(srv, count: int) -> list[str]:
    outcomes = []
    for _ in range(count):
        try:
            outcomes.append(str(requests.get(srv.url("/hello"), timeout=10).status_code))
        except requests.RequestException as error:
            outcomes.append(type(error).__name__)
            break  # one is enough to know (and each costs the 10 s timeout)
    return outcomes


@pytest.mark.parametrize("worker", list(WORKERS))
def test_slowloris_past_the_connection_cap_does_not_lock_out_normal_clients(server_factory, worker):
    srv = server_factory(APP, *WORKERS[worker], "-w", "1", "--worker-connections", "50")
    with Slowloris(srv.address, 150):
        assert normal_requests(srv, 20) == ["200"] * 20


@pytest.fixture
def many_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"needs 4096 open files (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))  # the server inherits it
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("worker", list(WORKERS))
def test_slowloris_at_the_default_settings(server_factory, many_descriptors, worker):
    # worker_connections and timeout at their defaults (1000, 30 s): more slow connections
    # than one worker may hold.
    srv = server_factory(APP, *WORKERS[worker], "-w", "1")
    with Slowloris(srv.address, 1200, seconds=90):
        assert normal_requests(srv, 20) == ["200"] * 20


def test_a_body_trickled_inside_the_timeout_is_cut_off(server_factory):
    srv = server_factory(APP, "-k", "event", "--timeout", "2")
    head = build_request("POST", "/echo", [("Content-Length", "100000")], content_length=False)
    with RawConnection(srv.address) as conn:
        conn.send(head)
        started = time.monotonic()
        closed = False
        # A byte every half second: each read comes well within the 2 s timeout; the whole
        # body would take 14 hours.
        while time.monotonic() - started < 20:
            try:
                conn.send(b"x")
            except OSError:
                closed = True
                break
            if conn.server_closed(timeout=0.5):
                closed = True
                break
        assert closed, "the server kept a body trickling at 2 bytes/s for 20 s"


def test_a_slow_but_steady_upload_is_not_cut_off(server_factory):
    # 60 KiB at about 20 KiB/s with --timeout 1: slower than the timeout in total, far
    # faster than the minimum rate.
    srv = server_factory(APP, "-k", "event", "--timeout", "1")
    body = b"y" * (60 * 1024)
    length = [("Content-Length", str(len(body)))]
    head = build_request("POST", "/echo", length, content_length=False)
    with RawConnection(srv.address, timeout=30) as conn:
        conn.send(head)
        for offset in range(0, len(body), 2048):
            conn.send(body[offset : offset + 2048])
            time.sleep(0.1)
        resp = conn.read_next_response(method="POST")
    assert resp.status == 200 and resp.body == body
