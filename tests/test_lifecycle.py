"""Process lifecycle: startup log lines, worker count, worker respawn, graceful and quick
shutdown on signals, and clean failures when the app cannot be imported."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest
import requests
from server import pid_alive, wait_until

LOG_PREFIX = r"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}\] \[(?P<pid>\d+)\] \[INFO\] "


def test_startup_log_lines(server_factory):
    srv = server_factory("hello:app")
    log = srv.log_text()
    m = re.search(LOG_PREFIX + r"Starting \S+", log, re.M)
    assert m, srv.describe()
    assert int(m.group("pid")) == srv.pid
    m = re.search(
        LOG_PREFIX + r"Listening at: http://127\.0\.0\.1:(?P<port>\d+) \((?P<master>\d+)\)$",
        log,
        re.M,
    )
    assert m, srv.describe()
    assert int(m.group("port")) == srv.port
    assert int(m.group("master")) == srv.pid == srv.master_pid
    assert re.search(LOG_PREFIX + r"Using worker: sync$", log, re.M), srv.describe()
    m = re.search(LOG_PREFIX + r"Booting worker with pid: (?P<worker>\d+)$", log, re.M)
    assert m, srv.describe()
    # The worker logs its own boot line with its own pid.
    assert m.group("pid") == m.group("worker")
    assert int(m.group("worker")) != srv.pid
    # Order: Starting, Listening, Using worker, then workers boot.
    positions = [
        log.index("Starting "),
        log.index("Listening at: "),
        log.index("Using worker: "),
        log.index("Booting worker with pid: "),
    ]
    assert positions == sorted(positions), srv.describe()


def test_three_workers(server_factory):
    srv = server_factory("hello:app", "-w", "3")
    pids = srv.worker_pids()
    assert len(pids) == 3, srv.describe()
    assert len(set(pids)) == 3
    assert srv.pid not in pids
    assert all(pid_alive(p) for p in pids)
    assert requests.get(srv.url("/"), timeout=10).status_code == 200


def test_killed_worker_is_replaced(server_factory):
    srv = server_factory("behaviours:app")
    [old] = srv.worker_pids()
    assert int(requests.get(srv.url("/pid"), timeout=10).text) == old
    mark = srv.log_mark()
    os.kill(old, signal.SIGKILL)
    match = srv.wait_for_log(r"Booting worker with pid: (\d+)", since=mark, timeout=15)
    new = int(match.group(1))
    assert new != old
    wait_until(lambda: old not in srv.worker_pids(), timeout=10, message="old worker reaped")
    assert srv.worker_pids() == [new], srv.describe()
    r = wait_until(
        lambda: requests.get(srv.url("/pid"), timeout=10), timeout=10, message="new worker"
    )
    assert r.status_code == 200
    assert int(r.text) == new
    assert srv.is_running()


def test_sigterm_is_graceful(server_factory):
    srv = server_factory("behaviours:app")
    result: dict = {}

    def slow_request():
        try:
            result["response"] = requests.get(srv.url("/sleep?s=2"), timeout=20)
            result["done_at"] = time.monotonic()
        except BaseException as exc:  # reported by the asserts below
            result["error"] = exc

    mark = srv.log_mark()
    thread = threading.Thread(target=slow_request)
    thread.start()
    try:
        srv.wait_for_log(r"sleep route: started", since=mark, timeout=10)
        signaled_at = time.monotonic()
        srv.signal(signal.SIGTERM)
        code = srv.wait(timeout=15)
        exited_at = time.monotonic()
    finally:
        thread.join(20)
    assert "error" not in result, f"{result.get('error')!r}\n{srv.describe()}"
    r = result["response"]
    assert r.status_code == 200
    assert r.text == "slept 2"
    assert code == 0, srv.describe()
    # The in-flight request finished before the master went away.
    assert result["done_at"] <= exited_at + 0.5
    assert exited_at - signaled_at >= 1.0, "master did not wait for the in-flight request"
    log = srv.log_text()
    assert "Shutting down: Master" in log, srv.describe()
    assert "Handling signal: term" in log, srv.describe()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT], ids=["SIGINT", "SIGQUIT"])
def test_quick_shutdown(server_factory, sig):
    """INT and QUIT stop the server at once, even with a long request in flight."""
    srv = server_factory("behaviours:app", "-w", "2")
    workers = srv.worker_pids()
    outcome: dict = {}

    def long_request():
        try:
            outcome["response"] = requests.get(srv.url("/sleep?s=30"), timeout=30)
        except requests.RequestException as exc:
            outcome["error"] = exc

    mark = srv.log_mark()
    thread = threading.Thread(target=long_request, daemon=True)
    thread.start()
    srv.wait_for_log(r"sleep route: started", since=mark, timeout=10)
    start = time.monotonic()
    srv.signal(sig)
    code = srv.wait(timeout=10)
    elapsed = time.monotonic() - start
    thread.join(5)
    assert elapsed < 5, f"quick shutdown took {elapsed:.1f}s\n{srv.describe()}"
    assert code == 0, srv.describe()
    assert "Shutting down: Master" in srv.log_text()
    # The 30 s request was cut off, not completed. (gunicorn's worker exits through
    # SystemExit raised inside the app, which its error handler turns into a 500; a server
    # that just closes the connection is fine too.)
    if "response" in outcome:
        assert outcome["response"].status_code == 500, outcome["response"].text
    wait_until(lambda: not any(pid_alive(p) for p in workers), timeout=5, message="workers gone")


# ------------------------------------------------------------------ app load failures


def traceback_count(log: str) -> int:
    return log.count("Traceback (most recent call last)")


def start_failing(server_factory, app, *args):
    srv = server_factory(app, *args, wait=False)
    start = time.monotonic()
    code = srv.wait(timeout=15)
    return srv, code, time.monotonic() - start


def test_missing_module_exits_nonzero(server_factory):
    srv, code, elapsed = start_failing(server_factory, "nosuchmodule:app")
    log = srv.log_text()
    assert code not in (0, None), srv.describe()
    assert code > 0, f"killed by a signal instead of exiting: {code}\n{srv.describe()}"
    assert elapsed < 10
    assert "nosuchmodule" in log, srv.describe()
    assert traceback_count(log) <= 1, srv.describe()
    assert "Shutting down: Master" in log, srv.describe()


@pytest.mark.monoceros_only
def test_missing_module_exit_code_is_4(server_factory):
    """monoceros reports an app that cannot be imported as APP_LOAD_ERROR (4). gunicorn 27
    exits 3 (WORKER_BOOT_ERROR) here, because only its AppImportError (a missing attribute)
    maps to 4; a plain ImportError falls through to the generic boot failure."""
    srv, code, _ = start_failing(server_factory, "nosuchmodule:app")
    assert code == 4, srv.describe()


def test_missing_attribute_exits_with_app_load_error(server_factory):
    """Module imports but the callable is missing: gunicorn and monoceros both exit 4."""
    srv, code, elapsed = start_failing(server_factory, "hello:no_such_callable")
    assert code == 4, srv.describe()
    assert elapsed < 10
    assert "no_such_callable" in srv.log_text(), srv.describe()


def test_import_time_exception_exits_nonzero(server_factory):
    srv, code, elapsed = start_failing(server_factory, "import_error_app:app")
    log = srv.log_text()
    assert code > 0, srv.describe()
    assert elapsed < 10
    assert "import_error_app refuses to import" in log, srv.describe()
    assert "ImportTimeBoom" in log, srv.describe()
    assert traceback_count(log) == 1, srv.describe()


@pytest.mark.monoceros_only
def test_import_time_exception_exit_code_is_4(server_factory):
    """Same reasoning as test_missing_module_exit_code_is_4 (gunicorn 27 exits 3)."""
    srv, code, _ = start_failing(server_factory, "import_error_app:app")
    assert code == 4, srv.describe()


@pytest.mark.monoceros_only
@pytest.mark.parametrize("app", ["nosuchmodule:app", "import_error_app:app"])
def test_import_traceback_shown_once_with_many_workers(server_factory, app):
    """design.md §6: the traceback of an import error is shown once, not per worker.
    gunicorn 27 prints it once per worker that got to load the app (1-3 times with -w 3)."""
    srv, code, _ = start_failing(server_factory, app, "-w", "3")
    assert code > 0
    assert traceback_count(srv.log_text()) == 1, srv.describe()
