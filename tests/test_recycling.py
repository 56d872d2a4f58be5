"""Worker recycling gunicorn lacks: max_worker_memory replaces a worker whose resident memory
passes the limit, starting its replacement first so that capacity never dips; and a worker
killed mid-request costs that one client its answer, nobody else's."""

from __future__ import annotations

import os
import signal
import threading

import pytest
import requests
from server import Load, pid_alive, wait_until

pytestmark = pytest.mark.monoceros_only  # max_worker_memory is a monoceros extension

# An app whose /grow route keeps 20 MiB more alive in the worker on every call.
GROWING_APP = """
import os
_kept = []

def app(environ, start_response):
    if environ["PATH_INFO"] == "/grow":
        _kept.append(bytearray(20 * 1024 * 1024))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _pid(url: str) -> int:
    return int(requests.get(url, timeout=10).text)


def test_a_worker_over_max_worker_memory_is_replaced_without_a_gap(server_factory, tmp_path):
    (tmp_path / "growing.py").write_text(GROWING_APP)
    srv = server_factory("growing:app", "--max-worker-memory", "80", cwd=tmp_path)
    first = srv.worker_pids()[0]
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                requests.get(srv.url("/"), timeout=10).raise_for_status()
            except requests.RequestException as error:
                failures.append(repr(error))

    client = threading.Thread(target=load, daemon=True)
    client.start()
    try:
        for _ in range(5):  # 100 MiB more: past the 80 MiB limit
            assert _pid(srv.url("/grow")) == first
        wait_until(lambda: not pid_alive(first), 30, message="the big worker retired")
        log = srv.log_text()
        assert "max_worker_memory" in log and str(first) in log, srv.describe()
        # The replacement booted before the old worker was told to stop.
        booted = srv.booted_worker_pids()
        assert len(booted) == 2
        assert log.index(f"Booting worker with pid: {booted[1]}") < log.index(
            f"Worker exiting (pid: {first})"
        )
        assert _pid(srv.url("/")) == booted[1]
    finally:
        stop.set()
        client.join(30)
    assert failures == []


def test_max_worker_memory_zero_never_recycles(server_factory, tmp_path):
    (tmp_path / "growing.py").write_text(GROWING_APP)
    srv = server_factory("growing:app", cwd=tmp_path)
    first = srv.worker_pids()[0]
    for _ in range(5):
        assert _pid(srv.url("/grow")) == first
    assert srv.worker_pids() == [first]


def test_sigkill_mid_request_fails_only_that_request(server_factory):
    srv = server_factory("behaviours:app", "-w", "2")
    results: dict[str, str] = {}

    def fetch(name: str, path: str) -> None:
        try:
            results[name] = str(requests.get(srv.url(path), timeout=30).status_code)
        except requests.RequestException as error:
            results[name] = type(error).__name__

    victim = threading.Thread(target=fetch, args=("victim", "/sleep?s=10"))
    victim.start()
    match = srv.wait_for_log(r"sleep route: started in pid (\d+)")
    os.kill(int(match.group(1)), signal.SIGKILL)
    victim.join(30)
    assert results["victim"] != "200"
    # Everyone else is served, by the surviving worker and by the replacement.
    others = [threading.Thread(target=fetch, args=(f"c{i}", "/hello")) for i in range(10)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(30)
    assert [results[f"c{i}"] for i in range(10)] == ["200"] * 10


def test_no_request_fails_across_ttin_ttou_and_max_requests(server_factory):
    srv = server_factory("behaviours:app", "-w", "2", "--max-requests", "40")

    def restarts() -> int:
        return srv.log_text().count("Autorestarting worker after current request.")

    with Load(srv.url("/pid")) as load:
        # How the kernel spreads one client's connections over the workers is its choice, so
        # wait for the replacements themselves rather than for a request count.
        wait_until(lambda: restarts() >= 2, 60, message="two max_requests replacements")
        srv.signal(signal.SIGTTIN)
        wait_until(lambda: len([p for p in srv.booted_worker_pids() if pid_alive(p)]) >= 3, 20)
        load.wait_for_more(20)
        srv.signal(signal.SIGTTOU)
        load.wait_for_more(60)
    assert load.ok >= 80
    assert load.failures == []
