"""Server hooks from a config file (tests/apps/hooks_conf.py), called at gunicorn's moments with
objects that carry gunicorn's attributes. Every test here also runs against gunicorn itself
(MONOCEROS_TEST_SERVER=gunicorn), except those marked monoceros_only."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
import requests
from server import APPS_DIR, RUNNING_GUNICORN, pid_alive, wait_until

CONFIG = str(APPS_DIR / "hooks_conf.py")


def _events(path: Path, hook: str | None = None) -> list[dict]:
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in events if hook is None or e["hook"] == hook]


def _wait_for(path: Path, hook: str, count: int = 1, timeout: float = 15) -> list[dict]:
    wait_until(
        lambda: len(_events(path, hook)) >= count,
        timeout,
        message=f"{count} {hook} event(s) in {path}: {_events(path)}",
    )
    return _events(path, hook)


@pytest.fixture
def hooked(server_factory, tmp_path):
    """hooked(*args, mode="") -> (server, events file): a server with every hook set."""

    def start(*args: str, mode: str = "", app: str = "hello:app", **kwargs):
        log = tmp_path / "hooks.jsonl"
        env = {"HOOKS_LOG": str(log), "HOOKS_MODE": mode}
        srv = server_factory(app, "-c", CONFIG, *args, env=env, **kwargs)
        return srv, log

    return start


def test_master_hooks_in_order_with_the_server_object(hooked):
    srv, log = hooked("-w", "2")
    _wait_for(log, "post_worker_init", 2)
    master = srv.master_pid
    first = [e["hook"] for e in _events(log) if e["process"] == master]
    # nworkers_changed(N, None) comes first (the count is set when the arbiter is made), then
    # on_starting, when_ready, and one pre_fork per worker.
    assert first[:5] == [
        "nworkers_changed",
        "on_starting",
        "when_ready",
        "pre_fork",
        "pre_fork",
    ], first
    changed = _events(log, "nworkers_changed")[0]
    assert (changed["new"], changed["old"]) == (2, None)
    starting = _events(log, "on_starting")[0]
    assert starting["pid"] == master and starting["num_workers"] == 2
    ready = _events(log, "when_ready")[0]
    assert ready["listeners"] == [f"http://127.0.0.1:{srv.port}"]
    forks = _events(log, "pre_fork")
    assert [f["worker"]["pid"] for f in forks] == ["[booting]", "[booting]"]
    assert [f["worker"]["age"] for f in forks] == [1, 2]
    assert all(f["worker"]["ppid"] == master for f in forks)


def test_worker_hooks_see_their_own_worker(hooked):
    srv, log = hooked("-w", "2")
    inits = _wait_for(log, "post_worker_init", 2)
    forks = _events(log, "post_fork")
    workers = sorted(srv.worker_pids())
    assert sorted(e["process"] for e in forks) == workers
    for event in forks + inits:
        assert event["worker"]["pid"] == event["process"]
        assert event["worker"]["ppid"] == srv.master_pid
    assert sorted(e["worker"]["age"] for e in inits) == [1, 2]
    for init in inits:
        assert init["has_app"] and init["alive"] and init["nr"] == 0
        assert init["sockets"] == [f"http://127.0.0.1:{srv.port}"]


def test_request_hooks_get_gunicorn_shaped_req_and_resp(hooked):
    srv, log = hooked()
    response = requests.get(srv.url("/hooks/path?a=1&b=2"), headers={"X-Probe": "42"}, timeout=10)
    assert response.status_code == 200
    pre = _wait_for(log, "pre_request")[0]
    post = _wait_for(log, "post_request")[0]
    assert pre["process"] == post["process"] == pre["worker"]["pid"]
    assert pre["method"] == "GET"
    assert pre["uri"] == "/hooks/path?a=1&b=2"
    assert pre["path"] == "/hooks/path"
    assert pre["query"] == "a=1&b=2"
    assert pre["version"] == [1, 1]
    assert pre["scheme"] == "http"
    assert pre["peer"] == "127.0.0.1"
    assert ["X-PROBE", "42"] in pre["headers"]
    assert ["HOST", f"127.0.0.1:{srv.port}"] in pre["headers"]
    assert pre["nr"] == 0
    # The same req object reaches post_request, with what pre_request set on it.
    assert post["marker"] == "yes"
    assert post["path"] == "/hooks/path" and post["path_info"] == "/hooks/path"
    assert post["status"] == "200 OK" and post["status_code"] == 200
    assert post["sent"] == len(response.content)
    assert post["response_length"] == len(response.content)
    assert ["Content-Type", response.headers["Content-Type"]] in post["headers"]


def test_pre_request_exception_is_a_500_and_the_worker_lives_on(hooked):
    srv, log = hooked(mode="pre_request_raises")
    worker = srv.worker_pids()[0]
    assert requests.get(srv.url("/boom"), timeout=10).status_code == 500
    assert "pre_request refuses /boom" in srv.log_text()
    assert requests.get(srv.url("/fine"), timeout=10).status_code == 200
    assert srv.worker_pids() == [worker] and pid_alive(worker)
    posts = _wait_for(log, "post_request", 2 if not RUNNING_GUNICORN else 1)
    # monoceros passes the 500 it sent; gunicorn passes resp=None (its hook then fails on it).
    assert [p["status_code"] for p in posts] == ([500, 200] if not RUNNING_GUNICORN else [200])


def test_ttin_ttou_and_reaping_call_nworkers_changed_and_child_exit(hooked):
    srv, log = hooked()
    _wait_for(log, "post_worker_init", 1)
    srv.signal(signal.SIGTTIN)
    _wait_for(log, "post_worker_init", 2)
    srv.signal(signal.SIGTTOU)
    exits = _wait_for(log, "child_exit", 1)
    changes = [(e["new"], e["old"]) for e in _events(log, "nworkers_changed")]
    assert changes == [(1, None), (2, 1), (1, 2)]
    # TTOU retires the oldest worker; child_exit sees it gone from server.WORKERS.
    retired = exits[0]["worker"]
    assert retired["age"] == 1
    assert retired["pid"] not in exits[0]["workers"]
    # The worker itself ran worker_exit on its way out.
    worker_exits = _wait_for(log, "worker_exit", 1)
    assert worker_exits[0]["process"] == retired["pid"]


def test_worker_int_on_sigquit(hooked):
    srv, log = hooked()
    worker = srv.worker_pids()[0]
    # Its signal handlers are installed by the time it has loaded the app (before that,
    # SIGQUIT keeps its default action, in gunicorn too).
    _wait_for(log, "post_worker_init")
    os.kill(worker, signal.SIGQUIT)
    ints = _wait_for(log, "worker_int")
    assert ints[0]["process"] == worker and ints[0]["alive"] is False
    _wait_for(log, "child_exit")
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="a replacement worker")


def test_worker_abort_on_timeout(hooked):
    # A request that outlives --timeout stops the heartbeat; the master sends SIGABRT.
    srv, log = hooked("--timeout", "1", app="behaviours:app")
    worker = srv.worker_pids()[0]
    # That client still gets an answer: a 500, as from gunicorn.
    assert requests.get(srv.url("/sleep?s=20"), timeout=15).status_code == 500
    aborts = _wait_for(log, "worker_abort")
    assert aborts[0]["process"] == worker
    wait_until(lambda: not pid_alive(worker), 15, message="the aborted worker exited")
    # The error log says where the request was stuck: the app's sleeping function.
    assert re.search(r'behaviours\.py", line \d+, in sleep', srv.log_text()), srv.describe()


def test_on_exit_after_graceful_stop(hooked):
    srv, log = hooked()
    _wait_for(log, "post_worker_init")
    assert srv.stop() == 0
    names = [e["hook"] for e in _events(log) if e["process"] == srv.master_pid]
    assert names[-1] == "on_exit", names
    assert _events(log, "on_exit")[0]["pid"] == srv.master_pid


def test_worker_alive_false_retires_the_worker_after_its_request(hooked):
    srv, log = hooked(mode="retire_after_request")
    worker = srv.worker_pids()[0]
    assert requests.get(srv.url("/"), timeout=10).status_code == 200
    wait_until(lambda: not pid_alive(worker), 15, message="the worker retired")
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="a replacement worker")
    assert requests.get(srv.url("/"), timeout=10).status_code == 200


def test_server_num_workers_set_by_a_hook(hooked):
    srv, log = hooked(mode="grow_when_ready", workers=2)
    wait_until(lambda: len(srv.worker_pids()) == 2, 15, message="two workers")
    changes = [(e["new"], e["old"]) for e in _events(log, "nworkers_changed")]
    assert changes[:2] == [(1, None), (2, 1)]


@pytest.mark.monoceros_only
def test_failing_post_fork_stops_the_server_instead_of_fork_looping(hooked):
    srv, log = hooked(mode="post_fork_raises", wait=False)
    assert srv.wait(timeout=30) == 3
    assert "post_fork refuses" in srv.log_text()
    assert len(_events(log, "post_fork")) <= 2


@pytest.mark.parametrize(
    ("hook", "params", "accepted"),
    [
        ("post_request", "worker, req", True),
        ("post_request", "worker, req, environ", True),
        ("post_request", "a, b, c, d, e", False),
        ("on_starting", "server, extra", False),
        ("pre_request", "worker", False),
    ],
)
def test_hook_arity_is_checked_at_startup(server_factory, tmp_path, hook, params, accepted):
    conf = tmp_path / "conf.py"
    conf.write_text(f"def {hook}({params}):\n    pass\n")
    srv = server_factory("hello:app", "-c", str(conf), wait=accepted)
    if accepted:
        assert requests.get(srv.url("/"), timeout=10).status_code == 200
        return
    assert srv.wait(timeout=30) == 1
    err = srv.stderr_text().strip().splitlines()
    assert "Traceback" not in srv.stderr_text()
    assert any(hook in line for line in err), err


def test_dotted_path_hook(server_factory, tmp_path):
    log = tmp_path / "hooks.jsonl"
    srv = server_factory(
        "hello:app",
        "-c",
        str(tmp_path / "conf.py"),
        env={"HOOKS_LOG": str(log), "HOOKS_MODE": ""},
        start=False,
    )
    (tmp_path / "conf.py").write_text('on_starting = "hooks_conf.on_starting"\n')
    srv.start()
    assert _wait_for(log, "on_starting")[0]["pid"] == srv.master_pid
