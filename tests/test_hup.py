"""SIGHUP: the configuration is read again, new workers start with it (and with the app's code
as it is now, unless preloaded), the old workers are retired gracefully, and no request fails
meanwhile. Runs against gunicorn too (MONOCEROS_TEST_SERVER=gunicorn)."""

from __future__ import annotations

import signal
import socket

import pytest
import requests
from server import Load, pid_alive, wait_until

APP_V1 = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"v1"]
"""


def _site(tmp_path, config: str, app: str = APP_V1):
    (tmp_path / "site_app.py").write_text(app)
    (tmp_path / "site.conf.py").write_text(config)
    return str(tmp_path / "site.conf.py")


def _body(srv) -> str:
    return requests.get(srv.url("/"), timeout=10).text


def test_hup_applies_the_new_config_without_failing_a_request(server_factory, tmp_path):
    conf = _site(tmp_path, "workers = 1\n")
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path)
    old = srv.worker_pids()
    with Load(srv.url("/")) as load:
        wait_until(lambda: load.ok > 5, 10, message="some traffic")
        (tmp_path / "site.conf.py").write_text("workers = 2\n")
        mark = srv.log_mark()
        srv.signal(signal.SIGHUP)
        srv.wait_for_log("Hang up: Master", since=mark)
        wait_until(lambda: not any(pid_alive(p) for p in old), 20, message="old worker retired")
        wait_until(lambda: len(srv.booted_worker_pids()) >= 3, 20, message="two new workers")
        served_before = load.ok
        wait_until(lambda: load.ok > served_before + 5, 10, message="traffic after the reload")
    assert load.failures == []
    live = [p for p in srv.booted_worker_pids() if pid_alive(p)]
    assert len(live) == 2 and not set(live) & set(old)


def test_hup_reloads_the_app_code(server_factory, tmp_path):
    conf = _site(tmp_path, "workers = 1\n")
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path)
    assert _body(srv) == "v1"
    (tmp_path / "site_app.py").write_text(APP_V1.replace("v1", "v2"))
    srv.signal(signal.SIGHUP)
    wait_until(lambda: _body(srv) == "v2", 20, message="the new code answering")


def test_hup_keeps_a_preloaded_app(server_factory, tmp_path):
    conf = _site(tmp_path, "workers = 1\npreload_app = True\n")
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path)
    old = srv.worker_pids()
    (tmp_path / "site_app.py").write_text(APP_V1.replace("v1", "v2"))
    srv.signal(signal.SIGHUP)
    wait_until(lambda: not any(pid_alive(p) for p in old), 20, message="old worker retired")
    assert {_body(srv) for _ in range(5)} == {"v1"}


@pytest.mark.monoceros_only
def test_hup_with_a_broken_config_keeps_serving(server_factory, tmp_path):
    conf = _site(tmp_path, "workers = 1\n")
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path)
    (tmp_path / "site.conf.py").write_text("workers = 'many'\n")
    mark = srv.log_mark()
    srv.signal(signal.SIGHUP)
    srv.wait_for_log("workers", since=mark)
    assert _body(srv) == "v1"
    assert srv.is_running()


def test_hup_calls_on_reload_and_nworkers_changed(server_factory, tmp_path):
    log = tmp_path / "hooks.txt"
    hooks = (
        "workers = 1\n"
        f"def on_reload(server):\n    open({str(log)!r}, 'a').write('on_reload\\n')\n"
        "def nworkers_changed(server, new, old):\n"
        f"    open({str(log)!r}, 'a').write(f'changed {{new}} {{old}}\\n')\n"
    )
    conf = _site(tmp_path, hooks)
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path)
    (tmp_path / "site.conf.py").write_text(hooks.replace("workers = 1", "workers = 2"))
    srv.signal(signal.SIGHUP)
    wait_until(lambda: log.exists() and "changed 2 1" in log.read_text(), 20)
    lines = log.read_text().splitlines()
    assert lines[0] == "changed 1 None"
    # As in gunicorn: the new count is set while the config is applied, before on_reload.
    assert lines.index("changed 2 1") < lines.index("on_reload")


def test_hup_moves_to_a_new_bind(server_factory, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        new_port = probe.getsockname()[1]
    conf = _site(tmp_path, "workers = 1\nbind = '127.0.0.1:0'\n")
    srv = server_factory("site_app:app", "-c", conf, cwd=tmp_path, bind=None)
    assert _body(srv) == "v1"
    (tmp_path / "site.conf.py").write_text(f"workers = 1\nbind = '127.0.0.1:{new_port}'\n")
    srv.signal(signal.SIGHUP)
    wait_until(lambda: _try(f"http://127.0.0.1:{new_port}/") == "v1", 20, message="the new address")


def _try(url: str) -> str | None:
    try:
        return requests.get(url, timeout=5).text
    except requests.RequestException:
        return None
