"""--reload, --reload-engine and --reload-extra-file: a worker restarts when its code (or an
extra watched file) changes, and the next request is answered by the new code.

Each test writes its app into tmp_path and serves it from there, so that editing it never
touches the repository. Waits are bounded polls, never sleeps."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from server import APPS_DIR, RUNNING_GUNICORN, SERVER_MODULE, wait_until

from monoceros import inotify
from monoceros.config import load_config

WAIT = 20.0  # seconds a reload may take at most (the poll engine checks once a second)

APP_SOURCE = """\
from pathlib import Path

MESSAGE = {message!r}


def app(environ, start_response):
    # extra.txt (when present) is read at import time, so a reload shows its new content.
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(MESSAGE + EXTRA).encode()]


EXTRA = Path(__file__).with_name("extra.txt").read_text() if Path(__file__).with_name(
    "extra.txt"
).exists() else ""
"""

ENGINES = ["poll", "auto"] if RUNNING_GUNICORN else ["poll", "inotify", "auto"]


def _write_app(directory: Path, message: str) -> Path:
    path = directory / "reload_app.py"
    path.write_text(APP_SOURCE.format(message=message))
    return path


def _answer(srv) -> str | None:
    """The body of GET /, or None while no worker answers (one is being replaced)."""
    try:
        return requests.get(srv.url("/"), timeout=5).text
    except requests.RequestException:
        return None


def _wait_for_answer(srv, expected: str) -> None:
    wait_until(
        lambda: _answer(srv) == expected,
        WAIT,
        message=f"the answer {expected!r}; got {_answer(srv)!r}\n{srv.describe()}",
    )


@pytest.fixture
def reload_server(server_factory, tmp_path):
    """reload_server(*args) -> server running reload_app:app from tmp_path (message "v1")."""
    _write_app(tmp_path, "v1")

    def start(*args: str, **kwargs):
        return server_factory("reload_app:app", *args, cwd=tmp_path, **kwargs)

    return start


@pytest.mark.parametrize("engine", ENGINES)
def test_editing_the_app_module_reloads_it(reload_server, tmp_path, engine):
    srv = reload_server("--reload", "--reload-engine", engine)
    assert _answer(srv) == "v1"
    first_worker = srv.worker_pids()[0]
    _write_app(tmp_path, "v2 (edited)")
    _wait_for_answer(srv, "v2 (edited)")
    # gunicorn's line, naming the file (its inotify engine names only the file itself).
    assert re.search(r"Worker reloading: \S*reload_app\.py modified", srv.log_text())
    assert "Reloader is on. Use in development only!" in srv.log_text()
    assert first_worker not in srv.worker_pids()


@pytest.mark.monoceros_only  # gunicorn's inotify engine needs the `inotify` package
def test_an_editor_save_by_rename_reloads_with_inotify(reload_server, tmp_path):
    srv = reload_server("--reload", "--reload-engine", "inotify")
    assert _answer(srv) == "v1"
    draft = tmp_path / "reload_app.py.swp"
    draft.write_text(APP_SOURCE.format(message="v2 (renamed)"))
    os.replace(draft, tmp_path / "reload_app.py")
    _wait_for_answer(srv, "v2 (renamed)")


def test_an_extra_file_matching_a_glob_reloads(reload_server, tmp_path):
    (tmp_path / "extra.txt").write_text(" one")
    srv = reload_server("--reload", "--reload-extra-file", "*.txt")
    assert _answer(srv) == "v1 one"
    (tmp_path / "extra.txt").write_text(" two")
    _wait_for_answer(srv, "v1 two")
    assert re.search(r"Worker reloading: \S*extra\.txt modified", srv.log_text())


def test_without_reload_the_old_code_keeps_serving(reload_server, server_factory, tmp_path):
    still = reload_server()
    first_worker = still.worker_pids()[0]
    # A second server with --reload on the same file tells when a reloader would have acted.
    watching = reload_server("--reload", "--reload-engine", "poll")
    assert _answer(still) == _answer(watching) == "v1"
    _write_app(tmp_path, "v2")
    _wait_for_answer(watching, "v2")
    assert _answer(still) == "v1"
    assert still.worker_pids() == [first_worker]
    assert "Reloader is on" not in still.log_text()
    assert "Worker reloading" not in still.log_text()


def test_worker_int_is_called_when_a_change_restarts_the_worker(reload_server, tmp_path):
    events = tmp_path / "hooks.jsonl"
    srv = reload_server(
        "--reload",
        "-c",
        str(APPS_DIR / "hooks_conf.py"),
        env={"HOOKS_LOG": str(events), "HOOKS_MODE": ""},
    )
    assert _answer(srv) == "v1"  # the worker serves, so its reloader watches
    worker = srv.worker_pids()[0]
    _write_app(tmp_path, "v2")
    _wait_for_answer(srv, "v2")

    def hooks_seen() -> list[dict]:
        lines = events.read_text().splitlines() if events.exists() else []
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if r["process"] == worker]

    wait_until(
        lambda: any(r["hook"] == "worker_exit" for r in hooks_seen()),
        WAIT,
        message=f"worker_exit in {hooks_seen()}\n{srv.describe()}",
    )
    names = [r["hook"] for r in hooks_seen()]
    assert names.index("worker_int") < names.index("worker_exit"), names
    assert next(r for r in hooks_seen() if r["hook"] == "worker_int")["alive"] is False


# gunicorn serves the traceback too, but its reloader takes its first mtimes in its thread,
# after the worker serves: the fix written right after the first 500 can go unnoticed there.
@pytest.mark.monoceros_only
def test_a_syntax_error_is_served_until_fixed(reload_server, tmp_path):
    srv = reload_server("--reload")
    assert _answer(srv) == "v1"
    (tmp_path / "reload_app.py").write_text("def app(:\n")

    def broken() -> bool:
        try:
            response = requests.get(srv.url("/"), timeout=5)
        except requests.RequestException:
            return False
        return response.status_code == 500 and "SyntaxError" in response.text

    wait_until(broken, WAIT, message=f"the traceback served\n{srv.describe()}")
    assert srv.is_running()
    _write_app(tmp_path, "v3 (fixed)")
    _wait_for_answer(srv, "v3 (fixed)")


def test_a_bad_engine_is_refused_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", SERVER_MODULE, "--reload", "--reload-engine", "fsevents", "x:app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "reload_engine" in lines[0] and "fsevents" in lines[0], lines


def test_inotify_asked_for_by_name_must_work(monkeypatch, tmp_path):
    monkeypatch.setattr(inotify, "unavailable_reason", lambda: "no inotify in this test")
    argv = ["--reload", "--reload-engine", "inotify", "app:app"]
    cfg = load_config(argv, {}, str(tmp_path), check_supported=False)
    assert cfg.refusals() == [
        "setting 'reload_engine' (--reload-engine): inotify cannot work here "
        "(no inotify in this test); use poll or auto"
    ]
    # auto falls back to polling, and without --reload no engine runs at all.
    for argv in (["--reload", "app:app"], ["--reload-engine", "inotify", "app:app"]):
        assert load_config(argv, {}, str(tmp_path)).refusals() == []


def test_inotify_works_here():
    assert inotify.unavailable_reason() is None
