"""Ten realistic gunicorn config files (tests/configs/) load unchanged and serve, each with a
check that its distinctive settings took effect. Runs against gunicorn too
(MONOCEROS_TEST_SERVER=gunicorn), which is how the configs are known to be realistic."""

from __future__ import annotations

import http.client
import json
import re
import socket
from pathlib import Path

import pytest
import requests
from server import APPS_DIR, TESTS_DIR, wait_until

CONFIGS = TESTS_DIR / "configs"


@pytest.fixture
def run_dir(tmp_path) -> Path:
    path = tmp_path / "run"
    path.mkdir()
    return path


def _start(server_factory, run_dir: Path, config: str, app: str, *args: str, **kwargs):
    env = {"CONFIG_RUN_DIR": str(run_dir), "CONFIG_APP_DIR": str(APPS_DIR), **kwargs.pop("env", {})}
    return server_factory(app, "-c", str(CONFIGS / config), *args, env=env, **kwargs)


def _get(srv, path: str = "/", **kwargs) -> requests.Response:
    return requests.get(srv.url(path), timeout=10, **kwargs)


def _unix_get(path: Path, target: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("localhost", timeout=10)
    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.sock.settimeout(10)
    conn.sock.connect(str(path))
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_django_classic(server_factory, run_dir):
    # Everything goes to files and a unix socket, as behind nginx: readiness is the socket.
    _start(server_factory, run_dir, "django_classic.py", "djproject.wsgi:application",
           bind=None, wait=False)  # fmt: skip
    sock, pidfile = run_dir / "django.sock", run_dir / "django.pid"
    wait_until(lambda: sock.exists() and pidfile.exists(), 30, message="the socket and pidfile")
    status, _ = wait_until(lambda: _unix_get(sock), 30, message="an answer on the socket")
    assert status == 200
    master = int(pidfile.read_text())
    error_log = (run_dir / "error.log").read_text()
    assert f"Listening at: unix:{sock} ({master})" in error_log
    wait_until(lambda: '"GET / HTTP/1.1" 200' in (run_dir / "access.log").read_text(), 10)
    # umask 007: the socket file is not world-accessible.
    assert sock.stat().st_mode & 0o007 == 0


def test_flask_container(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "flask_container.py", "flask_app:app",
                 env={"WEB_CONCURRENCY": "2", "LOG_LEVEL": "info"}, workers=2)  # fmt: skip
    assert len(srv.worker_pids()) == 2
    assert _get(srv, "/json").status_code == 200
    line = wait_until(
        lambda: next((ln for ln in srv.stdout_text().splitlines() if '"request"' in ln), None),
        10,
        message="a JSON access line on stdout",
    )
    entry = json.loads(line)
    assert entry["request"] == "GET /json HTTP/1.1" and entry["status"] == 200


def test_kubernetes_hooks(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "kubernetes_hooks.py", "flask_app:app", workers=2)
    assert (run_dir / "ready").read_text() == str(srv.master_pid)
    assert _get(srv, "/json").status_code == 200
    wait_until(lambda: "GET /json took" in srv.log_text(), 10, message="the timing line")
    assert srv.stop() == 0
    assert not (run_dir / "ready").exists()


def test_statsd_datadog(server_factory, run_dir):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as agent:
        agent.bind(("127.0.0.1", 0))
        agent.settimeout(10)
        env = {"STATSD_HOST": f"127.0.0.1:{agent.getsockname()[1]}"}
        srv = _start(server_factory, run_dir, "statsd_datadog.py", "hello:app", env=env,
                     workers=2)  # fmt: skip
        assert _get(srv).status_code == 200
        seen = []
        while not any(d.startswith("shop.gunicorn.requests:1|c") for d in seen):
            seen.append(agent.recv(4096).decode())
        assert all(d.endswith("|#env:staging,service:shop") for d in seen), seen


def test_logconfig_dict(server_factory, run_dir):
    # Both loggers write to app.log only: readiness is read from there.
    _start(server_factory, run_dir, "logconfig_dict.py", "hello:app", wait=False)
    log = run_dir / "app.log"
    found = wait_until(
        lambda: log.exists() and re.search(r"Listening at: (http://\S+) \(", log.read_text()),
        30,
        message="the Listening line in app.log",
    )
    url = found.group(1)
    wait_until(lambda: "Booting worker with pid" in log.read_text(), 30, message="a worker")
    response = wait_until(lambda: _try_get(url + "/hello-log"), 30, message="an answer")
    assert response.status_code == 200
    wait_until(lambda: "/hello-log" in log.read_text(), 10, message="the access line")
    text = log.read_text()
    assert re.search(r" INFO gunicorn\.error Booting worker with pid: \d+", text), text
    assert re.search(r' INFO gunicorn\.access .*"GET /hello-log HTTP/1\.1" 200', text), text


def _try_get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=10)
    except requests.ConnectionError:
        return None


def test_preload_recycling(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "preload_recycling.py", "behaviours:app", workers=2)
    pids = {int(_get(srv, "/pid").text.split()[-1]) for _ in range(10)}
    assert pids <= set(srv.worker_pids())


def test_behind_nginx(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "behind_nginx.py", "behaviours:app", workers=3)
    environ = _get(srv, "/environ", headers={"X-Forwarded-Proto": "https"}).json()
    assert environ["wsgi.url_scheme"] == "https"
    # limit_request_fields = 50
    many = {f"X-Field-{i}": "v" for i in range(60)}
    assert _get(srv, "/environ", headers=many).status_code == 431


def test_development(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "development.py", "behaviours:app")
    assert _get(srv, "/pid").status_code == 200
    assert "[DEBUG]" in srv.log_text()


def test_paas_env(server_factory, run_dir):
    # No APP_MODULE on the command line: wsgi_app in the config file names it.
    srv = _start(server_factory, run_dir, "paas_env.py", "", cwd=run_dir, workers=2)
    assert _get(srv, "/json").json()["framework"] == "flask"


def test_hardened(server_factory, run_dir):
    srv = _start(server_factory, run_dir, "hardened.py", "behaviours:app", workers=2)
    assert (run_dir / "app.pid").read_text().strip() == str(srv.master_pid)
    assert _get(srv, "/environ").status_code == 200
    # header_map = "refuse": a header with an underscore is an error, not silently dropped.
    assert _get(srv, "/environ", headers={"X_Sneaky": "1"}).status_code == 400
