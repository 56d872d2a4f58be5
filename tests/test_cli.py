"""The command line, proven through a real server process: bind forms, worker counts, config
sources and their precedence, paths and environment, logging, timeouts, refusals and master
signals.

Every test runs against monoceros (default) and gunicorn (MONOCEROS_TEST_SERVER=gunicorn).
Tests marked `monoceros_only` check a deliberate difference (see docs/differences.md or the
comment on the test); tests marked xfail(strict) pin down a monoceros bug.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from server import (
    APPS_DIR,
    RUNNING_GUNICORN,
    SERVER_MODULE,
    Server,
    ServerError,
    build_request,
    parse_response,
    pid_alive,
    wait_until,
)

PROBE = "cli_probe:app"
LISTEN_LINE_RE = re.compile(r"Listening at: (?P<urls>\S+) \((?P<pid>\d+)\)")


# ================================================================================== helpers


class CliServer(Server):
    """`Server` that may run without a positional app (app=None) and may hand file
    descriptors to the server process (pass_fds), with the harness's environment hygiene."""

    def __init__(self, app: str | None, *args: str, pass_fds: tuple[int, ...] = (), **kwargs):
        super().__init__(app or "", *args, **kwargs)
        self.app = app
        self.pass_fds = tuple(pass_fds)

    @property
    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", self.module, *self.args]
        if self.bind is not None:
            cmd += ["-b", self.bind]
        return cmd + ([self.app] if self.app else [])

    def start(self, wait: bool = True) -> CliServer:
        if not self.pass_fds:
            super().start(wait=wait)
            return self
        # Same as Server.start, plus pass_fds.
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                pass_fds=self.pass_fds,
            )
        if wait:
            try:
                self.wait_until_ready()
            except BaseException:
                self.kill()
                raise
        return self


@pytest.fixture
def cli_server(tmp_path_factory):
    """Like `server_factory`, for `CliServer`s: cli_server(app_or_None, *args, start=True,
    wait=True, **CliServer kwargs). Every server is stopped (then killed) at teardown."""
    servers: list[CliServer] = []

    def factory(app, *args, start=True, wait=True, **kwargs):
        kwargs.setdefault("tmp_dir", tmp_path_factory.mktemp("server"))
        srv = CliServer(app, *args, **kwargs)
        servers.append(srv)
        if start:
            srv.start(wait=wait)
        return srv

    yield factory
    for srv in servers:
        try:
            srv.stop(timeout=10)
        finally:
            srv.kill()


class CliResult:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"<exit {self.returncode}\n--- stdout:\n{self.stdout}--- stderr:\n{self.stderr}>"


def run_cli(*args: str, app: str | None = None, cwd=APPS_DIR, env=None, timeout=20) -> CliResult:
    """Run `python -m <server> *args [app]` to completion (for commands that must exit by
    themselves) with the harness's environment; the process group is killed on timeout."""
    spec = CliServer(app, *args, bind=None, cwd=cwd, env=env)
    try:
        proc = subprocess.Popen(
            spec.command,
            cwd=spec.cwd,
            env=spec._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(
                f"{spec.command} still running after {timeout}s:\n"
                f"{out.decode(errors='replace')}{err.decode(errors='replace')}"
            ) from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        spec.cleanup()
    return CliResult(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def assert_one_line_error(result: CliResult, *fragments: str, status: int | None = 1) -> str:
    """The command failed (with `status`, or any non-zero status when None), printed no
    traceback, and its stderr names every fragment. monoceros says it on exactly one line;
    gunicorn's wording and line count vary by error (usage line, blank lines), so for
    gunicorn only the fragments are checked. Returns the line (gunicorn: all of stderr)."""
    if status is None:
        assert result.returncode not in (0, None), result
    else:
        assert result.returncode == status, result
    assert "Traceback" not in result.stderr + result.stdout, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if RUNNING_GUNICORN:
        text = result.stderr
    else:
        assert len(lines) == 1, result
        text = lines[0]
    for fragment in fragments:
        assert fragment in text, result
    return text


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """True if a server could bind host:port now (servers set SO_REUSEADDR, so connections
    in TIME_WAIT from an earlier test do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def probe(url: str, **params) -> dict:
    """GET the cli_probe app and return its JSON."""
    r = requests.get(url, params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_http(url: str, srv: Server, timeout: float = 20.0) -> requests.Response:
    """Poll `url` until it answers (for servers whose log does not say when they are ready)."""

    def attempt():
        if not srv.is_running():
            raise ServerError(f"server exited\n{srv.describe()}")
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            return None

    return wait_until(attempt, timeout=timeout, message=f"{url} to answer\n{srv.describe()}")


def wait_file_match(path: Path, pattern: str, srv: Server, timeout: float = 10.0) -> re.Match:
    regex = re.compile(pattern, re.M)

    def found():
        try:
            return regex.search(path.read_text(errors="replace"))
        except FileNotFoundError:
            return None

    try:
        return wait_until(found, timeout=timeout, message=f"{pattern!r} in {path}")
    except AssertionError as exc:
        content = path.read_text(errors="replace") if path.exists() else "<missing>"
        raise AssertionError(f"{exc}\n--- {path}:\n{content}\n{srv.describe()}") from None


def copy_probe(directory: Path, module: str = "cli_probe") -> Path:
    """Copy the probe app into `directory` as `<module>.py`."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{module}.py"
    shutil.copy(APPS_DIR / "cli_probe.py", target)
    return target


def unix_http(path: str, data: bytes, timeout: float = 10.0):
    """Send raw request bytes over an AF_UNIX stream socket; read until the server closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        chunks = []
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            chunks.append(piece)
    return parse_response(b"".join(chunks))


def listening_urls(srv: Server) -> list[str]:
    """Every address in the `Listening at:` line(s), in order (gunicorn logs one
    comma-separated line, a server may also log one line per listener)."""
    urls: list[str] = []
    for m in LISTEN_LINE_RE.finditer(srv.log_text()):
        urls += m.group("urls").split(",")
    return urls


def live_workers(srv: Server) -> list[int]:
    return [pid for pid in srv.booted_worker_pids() if pid_alive(pid)]


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Run fn in a daemon thread; the dict gets "result" or "error"."""
    box: dict = {}

    def target():
        try:
            box["result"] = fn(*args, **kwargs)
        except Exception as exc:  # reported to the test through the box
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


# ===================================================================== 1. bind forms


@pytest.fixture
def short_tmp():
    """A short directory path (AF_UNIX paths are limited to ~107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="mcli-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_bind_unix_socket(cli_server, short_tmp):
    sock_path = str(short_tmp / "s.sock")
    srv = cli_server(PROBE, bind=f"unix:{sock_path}", wait=False)
    srv.wait_for_log(r"Listening at: unix:" + re.escape(sock_path), timeout=20)
    srv.wait_for_log(r"Booting worker with pid: \d+", timeout=20)
    assert Path(sock_path).is_socket()

    # Host with a port: SERVER_NAME / SERVER_PORT come from it.
    r = unix_http(sock_path, build_request("GET", "/", [("Connection", "close")], host="a.test:81"))
    assert r.status == 200, r
    env = json.loads(r.body)["environ"]
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("a.test", "81")
    assert env["wsgi.url_scheme"] == "http"

    # Host without a port: the port defaults to 80 for http.
    r = unix_http(sock_path, build_request("GET", "/", [("Connection", "close")], host="b.test"))
    assert r.status == 200, r
    env = json.loads(r.body)["environ"]
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("b.test", "80")

    # No Host at all (HTTP/1.0): the socket's own name and an empty port.
    r = unix_http(sock_path, build_request("GET", "/", version="HTTP/1.0", host=None))
    assert r.status == 200, r
    env = json.loads(r.body)["environ"]
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == (sock_path, "")
    assert "REMOTE_PORT" not in env

    # A graceful stop removes the socket file.
    srv.signal(signal.SIGTERM)
    assert srv.wait(timeout=15) == 0, srv.describe()
    assert not os.path.exists(sock_path), srv.describe()


def test_bind_ipv6_loopback(cli_server):
    if not ipv6_loopback_available():
        pytest.skip("IPv6 loopback (::1) is not available")
    srv = cli_server(PROBE, bind="[::1]:0")
    assert srv.host == "::1"
    assert f"Listening at: http://[::1]:{srv.port} " in srv.log_text()
    data = probe(srv.url("/"))
    assert data["environ"]["REMOTE_ADDR"] == "::1"
    assert data["environ"]["SERVER_NAME"] == "::1"
    assert data["environ"]["SERVER_PORT"] == str(srv.port)


def test_two_binds_both_answer(cli_server):
    srv = cli_server(PROBE, "-b", "127.0.0.1:0", "-b", "127.0.0.1:0")
    urls = listening_urls(srv)
    assert len(urls) == 2, srv.describe()
    ports = []
    for url in urls:
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", url)
        assert m, srv.describe()
        ports.append(int(m.group(1)))
    assert len(set(ports)) == 2
    for port in ports:
        data = probe(f"http://127.0.0.1:{port}/")
        assert data["environ"]["SERVER_PORT"] == str(port)


def test_two_binds_are_logged_on_one_listening_line(cli_server):
    srv = cli_server(PROBE, "-b", "127.0.0.1:0", "-b", "127.0.0.1:0")
    lines = LISTEN_LINE_RE.findall(srv.log_text())
    assert len(lines) == 1, srv.describe()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+,http://127\.0\.0\.1:\d+", lines[0][0])


def test_bind_fd(cli_server):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        fd = listener.fileno()
        srv = cli_server(PROBE, "-b", f"fd://{fd}", pass_fds=(fd,))
        assert srv.port == port, srv.describe()
        # The listener is closed on our side: only the server holds it now.
        listener.close()
        data = probe(f"http://127.0.0.1:{port}/")
        assert data["environ"]["SERVER_PORT"] == str(port)
        assert data["pid"] != srv.pid
    finally:
        listener.close()


def test_bind_host_alone_defaults_to_port_8000(cli_server):
    if not port_is_free("127.0.0.1", 8000):
        pytest.skip("port 8000 is in use")
    srv = cli_server(PROBE, "-b", "127.0.0.1")
    assert (srv.host, srv.port) == ("127.0.0.1", 8000), srv.describe()
    assert probe("http://127.0.0.1:8000/")["environ"]["SERVER_PORT"] == "8000"


def test_port_env_sets_the_default_bind(cli_server):
    port = free_port()
    srv = cli_server(PROBE, bind=None, env={"PORT": str(port)})
    assert (srv.host, srv.port) == ("0.0.0.0", port), srv.describe()
    assert f"Listening at: http://0.0.0.0:{port} " in srv.log_text()
    assert probe(f"http://127.0.0.1:{port}/")["environ"]["SERVER_NAME"] == "0.0.0.0"


def test_bind_on_the_command_line_beats_port_env(cli_server):
    port = free_port()
    srv = cli_server(PROBE, env={"PORT": str(port)})  # the harness adds -b 127.0.0.1:0
    assert srv.host == "127.0.0.1" and srv.port != port, srv.describe()
    assert port_is_free("0.0.0.0", port)


# =================================================================== 2. worker count


def test_workers_flag(cli_server):
    srv = cli_server(PROBE, "-w", "3")
    time.sleep(0.3)  # a fourth worker would show up by now
    pids = srv.booted_worker_pids()
    assert len(pids) == 3 and len(set(pids)) == 3, srv.describe()
    assert srv.pid not in pids
    assert all(pid_alive(p) for p in pids)
    data = probe(srv.url("/"))
    assert data["pid"] in pids
    assert data["environ"]["wsgi.multiprocess"] is True


def test_web_concurrency_env(cli_server):
    srv = cli_server(PROBE, env={"WEB_CONCURRENCY": "2"}, workers=2)
    time.sleep(0.3)
    pids = srv.booted_worker_pids()
    assert len(set(pids)) == 2 == len(pids), srv.describe()
    assert probe(srv.url("/"))["environ"]["wsgi.multiprocess"] is True


def test_workers_flag_beats_web_concurrency(cli_server):
    srv = cli_server(PROBE, "-w", "1", env={"WEB_CONCURRENCY": "3"})
    time.sleep(0.3)
    assert len(srv.booted_worker_pids()) == 1, srv.describe()
    assert probe(srv.url("/"))["environ"]["wsgi.multiprocess"] is False


# ============================================================== 3. config sources


def test_config_file_flag(cli_server, tmp_path):
    copy_probe(tmp_path)
    (tmp_path / "my_conf.py").write_text("workers = 2\nraw_env = ['FROM_CONF=yes']\n")
    srv = cli_server(PROBE, "-c", "my_conf.py", cwd=tmp_path, workers=2)
    assert len(srv.booted_worker_pids()) == 2, srv.describe()
    assert probe(srv.url("/"), env="FROM_CONF")["env"] == {"FROM_CONF": "yes"}


def test_default_config_file_in_cwd(cli_server, tmp_path):
    copy_probe(tmp_path)
    (tmp_path / "gunicorn.conf.py").write_text("raw_env = ['FROM_DEFAULT_CONF=1']\n")
    srv = cli_server(PROBE, cwd=tmp_path)
    data = probe(srv.url("/"), env="FROM_DEFAULT_CONF")
    assert data["env"] == {"FROM_DEFAULT_CONF": "1"}
    # ... and it is not read from anywhere else: the same app without the file.
    other = tmp_path / "elsewhere"
    copy_probe(other)
    srv2 = cli_server(PROBE, cwd=other)
    assert probe(srv2.url("/"), env="FROM_DEFAULT_CONF")["env"] == {"FROM_DEFAULT_CONF": None}


def test_precedence_cli_then_env_args_then_file(cli_server, tmp_path):
    copy_probe(tmp_path)
    (tmp_path / "gunicorn.conf.py").write_text(
        "workers = 3\nraw_env = ['LAYER=file']\naccesslog = '-'\n"
    )
    srv = cli_server(
        PROBE,
        "-w",
        "1",
        cwd=tmp_path,
        env={"GUNICORN_CMD_ARGS": "-w 2 -e LAYER=env-args"},
        workers=1,
    )
    time.sleep(0.3)
    # workers: the command line beats GUNICORN_CMD_ARGS and the file.
    assert len(srv.booted_worker_pids()) == 1, srv.describe()
    # raw_env: GUNICORN_CMD_ARGS beats the file.
    assert probe(srv.url("/cli-precedence"), env="LAYER")["env"] == {"LAYER": "env-args"}
    # accesslog: only the file sets it, and it applies.
    srv.wait_for_log(r'"GET /cli-precedence\?env=LAYER HTTP/1\.1" 200 ')


def test_config_flag_inside_gunicorn_cmd_args(cli_server, tmp_path):
    copy_probe(tmp_path)
    (tmp_path / "gunicorn.conf.py").write_text("raw_env = ['WHICH=default-file']\n")
    (tmp_path / "other.py").write_text("raw_env = ['WHICH=other-file']\n")
    srv = cli_server(PROBE, cwd=tmp_path, env={"GUNICORN_CMD_ARGS": "-c other.py"})
    assert probe(srv.url("/"), env="WHICH")["env"] == {"WHICH": "other-file"}


def test_wsgi_app_from_config_file(cli_server, tmp_path):
    copy_probe(tmp_path, "cli_probe_conf")
    (tmp_path / "gunicorn.conf.py").write_text("wsgi_app = 'cli_probe_conf:app'\n")
    srv = cli_server(None, cwd=tmp_path)
    assert not any(":app" in arg for arg in srv.command)  # no positional app
    data = probe(srv.url("/"))
    assert data["module_file"] == str(tmp_path / "cli_probe_conf.py")


def test_positional_app_beats_wsgi_app(cli_server, tmp_path):
    copy_probe(tmp_path, "cli_probe_a")
    copy_probe(tmp_path, "cli_probe_b")
    (tmp_path / "gunicorn.conf.py").write_text("wsgi_app = 'cli_probe_a:app'\n")
    srv = cli_server("cli_probe_b:app", cwd=tmp_path)
    assert probe(srv.url("/"))["module_file"] == str(tmp_path / "cli_probe_b.py")


# ======================================================= 4. paths and environment


def test_chdir(cli_server, tmp_path):
    app_dir = tmp_path / "appdir"
    copy_probe(app_dir, "cli_probe_chdir")
    start_dir = tmp_path / "start"
    start_dir.mkdir()
    srv = cli_server("cli_probe_chdir:app", "--chdir", str(app_dir), cwd=start_dir)
    data = probe(srv.url("/"))
    assert data["cwd"] == str(app_dir)
    assert data["module_file"] == str(app_dir / "cli_probe_chdir.py")


def test_without_chdir_the_module_is_not_found(cli_server, tmp_path):
    """The counter-test of test_chdir: the same layout without --chdir does not load."""
    app_dir = tmp_path / "appdir"
    copy_probe(app_dir, "cli_probe_chdir")
    start_dir = tmp_path / "start"
    start_dir.mkdir()
    srv = cli_server("cli_probe_chdir:app", cwd=start_dir, wait=False)
    assert srv.wait(timeout=20) != 0
    assert "cli_probe_chdir" in srv.log_text()


def test_pythonpath(cli_server, tmp_path):
    dir1, dir2 = tmp_path / "one", tmp_path / "two"
    copy_probe(dir1, "cli_probe_pp")
    dir2.mkdir()
    (dir2 / "cli_helper.py").write_text("VALUE = 'from-dir2'\n")
    start_dir = tmp_path / "start"
    start_dir.mkdir()
    srv = cli_server("cli_probe_pp:app", "--pythonpath", f"{dir1},{dir2}", cwd=start_dir)
    data = probe(srv.url("/"), helper="1")
    assert data["module_file"] == str(dir1 / "cli_probe_pp.py")
    assert data["helper"] == "from-dir2"


def test_env_flag(cli_server):
    srv = cli_server(PROBE, "-e", "CLI_ONE=1", "--env", "CLI_TWO=a=b c")
    data = probe(srv.url("/"), env=["CLI_ONE", "CLI_TWO", "CLI_THREE"])
    assert data["env"] == {"CLI_ONE": "1", "CLI_TWO": "a=b c", "CLI_THREE": None}


def test_preload_imports_the_app_in_the_master(cli_server):
    srv = cli_server(PROBE, "--preload")
    data = probe(srv.url("/"))
    assert data["import_pid"] == srv.pid
    assert data["pid"] != data["import_pid"]
    assert data["pid"] in srv.booted_worker_pids()


def test_without_preload_each_worker_imports_the_app(cli_server):
    srv = cli_server(PROBE)
    data = probe(srv.url("/"))
    assert data["import_pid"] == data["pid"]
    assert data["pid"] != srv.pid


# ======================================================================== 5. logging

DEFAULT_ACCESS_RE = (
    r"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
    r'"GET /cli-log\?q=1 HTTP/1\.1" 200 (?P<bytes>\d+) "http://ref\.test/page" "cli-test/1\.0"$'
)
CLIENT_HEADERS = {"Referer": "http://ref.test/page", "User-Agent": "cli-test/1.0"}


def test_access_log_to_stdout(cli_server):
    srv = cli_server(PROBE, "--access-logfile", "-")
    r = requests.get(srv.url("/cli-log?q=1"), headers=CLIENT_HEADERS, timeout=10)
    assert r.status_code == 200
    wait_until(
        lambda: re.search(DEFAULT_ACCESS_RE, srv.stdout_text(), re.M),
        timeout=10,
        message=f"the access line on stdout\n{srv.describe()}",
    )
    m = re.search(DEFAULT_ACCESS_RE, srv.stdout_text(), re.M)
    assert int(m.group("bytes")) == len(r.content)
    assert "/cli-log" not in srv.stderr_text()


def test_access_log_to_file(cli_server, tmp_path):
    log_file = tmp_path / "access.log"
    srv = cli_server(PROBE, "--access-logfile", str(log_file))
    r = requests.get(srv.url("/cli-log?q=1"), headers=CLIENT_HEADERS, timeout=10)
    m = wait_file_match(log_file, DEFAULT_ACCESS_RE, srv)
    assert int(m.group("bytes")) == len(r.content)
    assert "/cli-log" not in srv.log_text()


def test_access_log_format_atoms(cli_server):
    fmt = (
        "%(s)s %(m)s %(U)s %(q)s %(H)s %(B)s %(p)s %({x-custom}i)s %({content-type}o)s "
        "%({wsgi.url_scheme}e)s %(a)s"
    )
    srv = cli_server(PROBE, "--access-logfile", "-", "--access-logformat", fmt)
    r = requests.get(
        srv.url("/cli-fmt?a=1&b=2"),
        headers={"X-Custom": "custom-value", "User-Agent": "cli-test/1.0"},
        timeout=10,
    )
    worker = r.json()["pid"]
    expected = (
        f"200 GET /cli-fmt a=1&b=2 HTTP/1.1 {len(r.content)} <{worker}> custom-value "
        "application/json http cli-test/1.0"
    )
    wait_until(
        lambda: expected in srv.stdout_text().splitlines(),
        timeout=10,
        message=f"{expected!r} on stdout\n{srv.describe()}",
    )


def test_no_access_log_by_default(cli_server):
    srv = cli_server(PROBE)
    assert requests.get(srv.url("/cli-nolog?q=1"), timeout=10).status_code == 200
    srv.signal(signal.SIGTERM)
    assert srv.wait(timeout=15) == 0
    assert "cli-nolog" not in srv.log_text(), srv.describe()


def test_error_logfile(cli_server, tmp_path):
    log_file = tmp_path / "error.log"
    port = free_port()
    srv = cli_server(PROBE, "--error-logfile", str(log_file), bind=f"127.0.0.1:{port}", wait=False)
    wait_http(f"http://127.0.0.1:{port}/", srv)
    # A worker answered, so it has booted: its line is due in the file.
    wait_file_match(log_file, r"\[INFO\] Booting worker with pid: \d+$", srv, timeout=3)
    text = log_file.read_text()
    assert re.search(r"\[INFO\] Starting \S+", text), text
    assert f"Listening at: http://127.0.0.1:{port} " in text
    assert "Listening at" not in srv.log_text(), srv.describe()


def test_log_level_warning_hides_info_lines(cli_server):
    port = free_port()
    srv = cli_server(PROBE, "--log-level", "warning", bind=f"127.0.0.1:{port}", wait=False)
    wait_http(f"http://127.0.0.1:{port}/", srv)
    srv.signal(signal.SIGTERM)
    assert srv.wait(timeout=15) == 0
    log = srv.log_text()
    assert "[INFO]" not in log and "Booting worker" not in log, srv.describe()
    assert "Listening at" not in log, srv.describe()


@pytest.mark.parametrize("level", ["debug", "info"])
def test_log_level_debug_shows_debug_lines(cli_server, level):
    # A master that is not daemonized logs SIGWINCH at debug level ("SIGWINCH ignored").
    srv = cli_server(PROBE, "--log-level", level)
    mark = srv.log_mark()
    srv.signal(signal.SIGWINCH)
    if level == "debug":
        srv.wait_for_log(r"\[DEBUG\] SIGWINCH ignored", since=mark, timeout=10)
    else:
        time.sleep(1.5)  # the master handles signals at least once a second
        assert requests.get(srv.url("/"), timeout=10).status_code == 200
        assert "SIGWINCH" not in srv.log_since(mark), srv.describe()
        assert "[DEBUG]" not in srv.log_text(), srv.describe()


def test_log_level_debug_logs_configuration_and_requests(cli_server):
    srv = cli_server(PROBE, "--log-level", "debug")
    assert re.search(r"\[DEBUG\] Current configuration:", srv.log_text()), srv.describe()
    assert requests.get(srv.url("/cli-debug-path"), timeout=10).status_code == 200
    srv.wait_for_log(r"\[DEBUG\] GET /cli-debug-path$", timeout=5)


# ===================================================================== 6. timeouts


def test_timeout_kills_a_stuck_worker(cli_server):
    srv = cli_server("behaviours:app", "-t", "2")
    [old] = srv.worker_pids()
    mark = srv.log_mark()
    thread, box = in_thread(requests.get, srv.url("/sleep?s=30"), timeout=30)
    srv.wait_for_log(rf"WORKER TIMEOUT \(pid:{old}\)", since=mark, timeout=15)
    booted = srv.wait_for_log(r"Booting worker with pid: (\d+)", since=mark, timeout=15)
    assert int(booted.group(1)) != old
    thread.join(timeout=15)
    assert not thread.is_alive()
    # The stuck request never got its answer.
    assert "error" in box or box["result"].status_code != 200 or "slept" not in box["result"].text
    wait_until(lambda: not pid_alive(old), timeout=10, message="the stuck worker to be gone")
    r = requests.get(srv.url("/hello"), timeout=10)
    assert (r.status_code, r.text) == (200, "hello")


def test_graceful_timeout_bounds_shutdown(cli_server):
    srv = cli_server("behaviours:app", "--graceful-timeout", "1")
    [worker] = srv.worker_pids()
    thread, box = in_thread(requests.get, srv.url("/sleep?s=10"), timeout=20)
    srv.wait_for_log(r"sleep route: started", timeout=10)
    started = time.monotonic()
    srv.signal(signal.SIGTERM)
    srv.wait(timeout=8)
    elapsed = time.monotonic() - started
    assert 0.8 <= elapsed < 6, f"master exited after {elapsed:.1f}s\n{srv.describe()}"
    wait_until(lambda: not pid_alive(worker), timeout=5, message="the worker to be gone")
    thread.join(timeout=10)
    assert "error" in box or "slept" not in box["result"].text


# ============================================================== 7. refusals, -v, -h


@pytest.mark.monoceros_only  # 'not yet' settings are refused: docs/settings.md, README.md
def test_unsupported_setting_on_the_command_line():
    result = run_cli("--protocol", "uwsgi", app=PROBE)
    line = assert_one_line_error(result, "protocol", "not supported")
    assert line.startswith("Error: ")


@pytest.mark.monoceros_only  # 'not yet' settings are refused: docs/settings.md, README.md
def test_unsupported_setting_in_a_config_file(tmp_path):
    (tmp_path / "conf.py").write_text("protocol = 'uwsgi'\n")
    result = run_cli("-c", str(tmp_path / "conf.py"), app=PROBE)
    assert_one_line_error(result, "protocol", "not supported")


@pytest.mark.monoceros_only  # 'not yet' settings are refused: docs/settings.md, README.md
def test_unsupported_setting_in_gunicorn_cmd_args():
    result = run_cli(app=PROBE, env={"GUNICORN_CMD_ARGS": "--protocol uwsgi"})
    assert_one_line_error(result, "protocol", "not supported")


@pytest.mark.monoceros_only  # worker_class: sync, gthread and event (docs/settings.md)
def test_unsupported_worker_class():
    result = run_cli("-k", "gevent", app=PROBE)
    assert_one_line_error(result, "worker_class", "gevent", "not supported")


def test_unsupported_setting_at_its_default_is_accepted(cli_server):
    srv = cli_server(PROBE, "--http-protocols", "h1", "--control-socket-mode", "0600")
    assert probe(srv.url("/"))["pid"] in srv.booted_worker_pids()


def test_no_control_socket_is_accepted_on_the_command_line(cli_server):
    # Kubernetes configs turn gunicorn's control socket off; monoceros has none to turn off.
    srv = cli_server(PROBE, "--no-control-socket", "--log-level", "debug")
    assert probe(srv.url("/"))["pid"] in srv.booted_worker_pids()
    if not RUNNING_GUNICORN:
        assert "setting 'control_socket_disable' (--no-control-socket) has no effect" in (
            srv.log_text()
        )


def test_no_control_socket_is_accepted_in_a_config_file(cli_server, tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("control_socket_disable = True\ncontrol_socket_mode = 0o660\n")
    srv = cli_server(PROBE, "-c", str(conf))
    assert probe(srv.url("/"))["pid"] in srv.booted_worker_pids()


def test_bad_value_is_refused():
    result = run_cli("-w", "abc", app=PROBE)
    line = assert_one_line_error(result, "abc", status=None)
    assert "workers" in line


def test_bad_value_on_the_command_line():
    """gunicorn reports a bad command-line value as an argparse usage error (status 2);
    monoceros prints one line naming the setting and exits 1, the same as for a bad value in a
    config file (docs/differences.md)."""
    result = run_cli("-w", "abc", app=PROBE)
    if RUNNING_GUNICORN:
        assert result.returncode == 2
    else:
        assert_one_line_error(result, "abc", status=1)


def test_bad_value_in_a_config_file(tmp_path):
    (tmp_path / "conf.py").write_text("workers = 'abc'\n")
    result = run_cli("-c", str(tmp_path / "conf.py"), app=PROBE)
    assert_one_line_error(result, "abc", status=1)


def test_missing_config_file(tmp_path):
    missing = str(tmp_path / "nope.py")
    result = run_cli("-c", missing, app=PROBE)
    assert_one_line_error(result, missing, "doesn't exist", status=1)


@pytest.mark.monoceros_only  # a different server (docs/differences.md, Server header row)
def test_version_flag():
    import monoceros

    result = run_cli("-v")
    assert result.returncode == 0, result
    assert result.stdout.strip() == f"monoceros (version {monoceros.__version__})"


def test_version_flag_names_the_server():
    result = run_cli("--version")
    assert result.returncode == 0, result
    assert re.fullmatch(rf"{SERVER_MODULE} \(version \d+\.\d+\.\d+\S*\)", result.stdout.strip())


def test_help_flag():
    result = run_cli("-h")
    assert result.returncode == 0, result
    assert "--bind" in result.stdout and "--workers" in result.stdout
    assert result.stdout.startswith(f"usage: {SERVER_MODULE} ")


# ======================================================================= 8. port in use


def test_port_in_use(cli_server):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        srv = cli_server(PROBE, bind=f"127.0.0.1:{port}", wait=False)
        code = srv.wait(timeout=12)
    assert code == 1, srv.describe()
    log = srv.log_text()
    # gunicorn retries 5 times, 1 s apart, then gives up.
    assert log.count(f"Connection in use: ('127.0.0.1', {port})") == 5, srv.describe()
    assert f"Can't connect to ('127.0.0.1', {port})" in log, srv.describe()
    assert "Traceback" not in log
    assert not srv.booted_worker_pids(), srv.describe()


# ================================================================= 9. master signals


def test_ttin_and_ttou(cli_server):
    srv = cli_server(PROBE, "-w", "2")
    assert len(live_workers(srv)) == 2, srv.describe()
    first_two = srv.booted_worker_pids()
    srv.signal(signal.SIGTTIN)
    added = int(srv.wait_for_log(r"Booting worker with pid: (\d+)", count=3, timeout=10)[1])
    wait_until(lambda: len(live_workers(srv)) == 3, timeout=10, message="3 live workers")
    srv.signal(signal.SIGTTOU)
    wait_until(lambda: len(live_workers(srv)) == 2, timeout=10, message="2 live workers")
    time.sleep(0.3)
    assert len(live_workers(srv)) == 2, srv.describe()
    # The oldest worker goes, so the one TTIN added stays.
    assert added in live_workers(srv) and added not in first_two, srv.describe()
    assert probe(srv.url("/"))["pid"] in live_workers(srv)


def test_usr1_reopens_log_files_and_keeps_serving(cli_server, tmp_path):
    log_file = tmp_path / "access.log"
    srv = cli_server(PROBE, "--access-logfile", str(log_file))
    workers = srv.worker_pids()
    requests.get(srv.url("/cli-before"), timeout=10)
    wait_file_match(log_file, r'"GET /cli-before HTTP/1\.1" 200 ', srv)
    rotated = tmp_path / "access.log.1"
    log_file.rename(rotated)
    srv.signal(signal.SIGUSR1)

    def reopened():
        assert requests.get(srv.url("/cli-after"), timeout=10).status_code == 200
        return log_file.exists() and "/cli-after" in log_file.read_text()

    wait_until(reopened, timeout=10, interval=0.2, message=f"a new {log_file}\n{srv.describe()}")
    assert "/cli-before" in rotated.read_text()
    assert srv.is_running()
    assert srv.worker_pids() == workers  # USR1 does not restart workers
