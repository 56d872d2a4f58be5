"""Logging settings against real servers: logconfig_dict / logconfig_json / logconfig, syslog
(UDP and TCP), capture_output, logger_class and USR1 reopening.

Most tests run twice: against the server under test and against gunicorn itself, with the
same expectations, so that the lines are proven to be gunicorn's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from server import APPS_DIR, SERVER_MODULE, module_available, wait_until

HAVE_GUNICORN = module_available("gunicorn")
needs_gunicorn = pytest.mark.skipif(not HAVE_GUNICORN, reason="gunicorn is not installed")
# The server under test, and gunicorn as the reference for the same expectations.
BOTH = pytest.mark.parametrize(
    "module",
    [SERVER_MODULE, pytest.param("gunicorn", marks=needs_gunicorn, id="gunicorn")],
    ids=lambda m: m,
)

PLAIN_FORMAT = "%(name)s|%(levelname)s|%(message)s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_quiet(server_factory, app: str, *args: str, module: str):
    """Start a server whose error log may not be on stderr: ready once it accepts."""
    port = free_port()
    srv = server_factory(app, *args, "-b", f"127.0.0.1:{port}", bind=None, module=module,
                         wait=False)  # fmt: skip
    srv.host, srv.port = "127.0.0.1", port

    def accepts() -> bool:
        assert srv.is_running(), srv.describe()
        try:
            socket.create_connection(srv.address, timeout=1).close()
            return True
        except OSError:
            return False

    wait_until(accepts, 20, message=f"{module} to accept connections")
    return srv


def get(srv, path: str) -> bytes:
    with urllib.request.urlopen(srv.url(path), timeout=10) as response:
        return response.read()


def wait_for_text(path: Path, text: str, timeout: float = 10) -> str:
    def found() -> str | None:
        content = path.read_text() if path.exists() else ""
        return content if text in content else None

    return wait_until(found, timeout, message=f"{text!r} in {path}")


def run_to_exit(*args: str, cwd: Path = APPS_DIR) -> subprocess.CompletedProcess:
    """Run ``python -m <server under test> ARGS`` expecting it to stop by itself."""
    return subprocess.run(
        [sys.executable, "-m", SERVER_MODULE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def file_logging_dict(path: Path) -> dict:
    """Both gunicorn loggers to one file, in a format of their own, nothing to the root."""
    return {
        "version": 1,
        "formatters": {"plain": {"format": PLAIN_FORMAT}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(path), "formatter": "plain"}
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["file"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["file"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": [], "level": "WARNING"},
    }


ACCESS_LINE = re.compile(
    r'gunicorn\.access\|INFO\|127\.0\.0\.1 - - \[[^\]]+\] "GET /(?P<path>\w+) HTTP/1\.1" 200 '
)


# ------------------------------------------------------------------------------------------------
# logconfig_dict, logconfig_json, logconfig


@BOTH
def test_logconfig_dict_sends_both_loggers_to_a_file_and_usr1_reopens_it(
    server_factory, tmp_path, module
):
    log = tmp_path / "app.log"
    conf = tmp_path / "conf.py"
    conf.write_text(f"logconfig_dict = {file_logging_dict(log)!r}\n")
    srv = start_quiet(server_factory, "hello:app", "-c", str(conf), module=module)
    wait_for_text(log, f"gunicorn.error|INFO|Listening at: http://127.0.0.1:{srv.port} (")
    get(srv, "first")
    assert ACCESS_LINE.search(wait_for_text(log, "GET /first")).group("path") == "first"
    assert "Listening at" not in srv.stderr_text()  # the dict replaced the stderr handler

    log.rename(tmp_path / "app.log.1")
    srv.signal(signal.SIGUSR1)
    wait_until(log.exists, 10, message="the log file reopened by the master")
    time.sleep(0.5)  # the master passes USR1 on to the workers
    get(srv, "second")
    wait_for_text(log, "GET /second")
    assert "GET /second" not in (tmp_path / "app.log.1").read_text()


@BOTH
def test_logconfig_dict_is_merged_into_gunicorns_defaults(server_factory, tmp_path, module):
    # Only "version" given: the default loggers propagate to the default root (stdout), so
    # error lines show on stderr and stdout, and access lines twice on stdout.
    conf = tmp_path / "conf.py"
    conf.write_text("logconfig_dict = {'version': 1}\n")
    srv = server_factory("hello:app", "-c", str(conf), module=module)
    get(srv, "dup")
    srv.wait_for_log(r'"GET /dup HTTP/1\.1" 200', count=2)
    stdout = srv.stdout_text()
    assert re.search(r"\[\d+\] \[INFO\] Listening at: ", stdout)
    assert re.search(r"\[\d+\] \[INFO\] Listening at: ", srv.stderr_text())
    assert len(re.findall(r'\[INFO\] 127\.0\.0\.1 - - .*"GET /dup HTTP/1\.1" 200', stdout)) == 2


@BOTH
def test_logconfig_json_file(server_factory, tmp_path, module):
    log = tmp_path / "json.log"
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(file_logging_dict(log)))
    srv = start_quiet(server_factory, "hello:app", "--log-config-json", str(config),
                      module=module)  # fmt: skip
    wait_for_text(log, "gunicorn.error|INFO|Listening at: ")
    get(srv, "json")
    assert ACCESS_LINE.search(wait_for_text(log, "GET /json"))


INI = """\
[loggers]
keys=root,error,access

[handlers]
keys=file

[formatters]
keys=plain

[logger_root]
level=WARNING
handlers=

[logger_error]
level=INFO
handlers=file
propagate=0
qualname=gunicorn.error

[logger_access]
level=INFO
handlers=file
propagate=0
qualname=gunicorn.access

[handler_file]
class=FileHandler
args=('%(here)s/ini.log', 'a')
formatter=plain

[formatter_plain]
format=%(name)s|%(levelname)s|%(message)s
"""


@BOTH
def test_log_config_ini_file_with_here(server_factory, tmp_path, module):
    config = tmp_path / "logging.ini"
    config.write_text(INI)
    srv = start_quiet(server_factory, "hello:app", "--log-config", str(config), module=module)
    log = tmp_path / "ini.log"
    wait_for_text(log, "gunicorn.error|INFO|Listening at: ")
    get(srv, "ini")
    assert ACCESS_LINE.search(wait_for_text(log, "GET /ini"))


@pytest.mark.monoceros_only
@pytest.mark.parametrize(
    "args, conf, message",
    [
        (
            [],
            "logconfig_dict = {'handlers': {'h': {'class': 'nosuch.Handler'}}}",
            r"invalid value for 'logconfig_dict': ValueError: Unable to configure handler 'h'",
        ),
        (["--log-config", "missing.ini"], None, r"log config 'missing.ini' not found"),
        (["--log-config-json", "missing.json"], None, r"cannot read 'missing.json'"),
        (["--log-syslog", "--log-syslog-facility", "nosuch"], None, r"unknown facility 'nosuch'"),
        (["--log-syslog", "--log-syslog-to", "bogus://x"], None, r"'bogus://x' is not unix://"),
        (["--log-syslog", "--log-syslog-to", "udp://h:port"], None, r"not a valid port number"),
        (
            ["--logger-class", "logging_probe.NotAGunicornLogger"],
            None,
            r"'logging_probe\.NotAGunicornLogger' is not supported: monoceros runs a custom "
            r"logger class only as a subclass of gunicorn\.glogging\.Logger",
        ),
        (["--logger-class", "no_such_module.Logger"], None, r"could not be imported"),
    ],
)
def test_bad_logging_settings_stop_with_one_line(tmp_path, args, conf, message):
    if conf is not None:
        (tmp_path / "gunicorn.conf.py").write_text(conf + "\n")
    result = run_to_exit(*args, "--pythonpath", str(APPS_DIR), "hello:app", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert re.search(message, lines[0]), lines[0]


# ------------------------------------------------------------------------------------------------
# syslog


class UdpSyslog:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = f"udp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received: list[bytes] = []

    def wait_for(self, pattern: bytes, timeout: float = 10) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for datagram in self.received:
                if match := regex.fullmatch(datagram):
                    return match
            with contextlib.suppress(TimeoutError):
                self.received.append(self.sock.recv(65536))
        raise AssertionError(f"no datagram matching {pattern!r} in {self.received!r}")


class TcpSyslog:
    """A stream syslog server: records end with NUL, as the standard library sends them."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.data = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn:
            while chunk := conn.recv(65536):
                with self.lock:
                    self.data += chunk

    def records(self) -> list[bytes]:
        with self.lock:
            return self.data.split(b"\x00")


@BOTH
def test_syslog_udp_error_and_access_lines(server_factory, module):
    syslog = UdpSyslog()
    srv = server_factory(
        "hello:app",
        "--log-syslog",
        "--log-syslog-to",
        syslog.address,
        "--log-syslog-prefix",
        "web",
        "--log-syslog-facility",
        "local3",
        module=module,
    )
    # <158> = facility local3 (19) * 8 + severity info (6); the standard library ends with NUL.
    syslog.wait_for(rb"<158>gunicorn\.web\.error: \[\d+\] Listening at: http://127\.0\.0\.1:\d+ "
                    rb"\(\d+\)\x00")  # fmt: skip
    get(srv, "sys")
    syslog.wait_for(
        rb'<158>gunicorn\.web\.access: \[\d+\] 127\.0\.0\.1 - - \[[^\]]+\] "GET /sys HTTP/1\.1"'
        rb' 200 13 "-" "Python-urllib/[\d.]+"\x00'
    )
    assert "GET /sys" not in srv.stdout_text()  # no accesslog: syslog only


@BOTH
def test_syslog_tcp_default_prefix_without_access_lines(server_factory, module):
    syslog = TcpSyslog()
    srv = server_factory(
        "hello:app",
        "--log-syslog",
        "--log-syslog-to",
        syslog.address,
        "--disable-redirect-access-to-syslog",
        module=module,
    )
    # No prefix: the process name, "hello:app" with ":" made "."; facility user: <14>.
    listening = re.compile(rb"<14>gunicorn\.hello\.app\.error: \[\d+\] Listening at: .*")
    wait_until(lambda: any(listening.fullmatch(r) for r in syslog.records()), 10,
               message="the listening line over TCP syslog")  # fmt: skip
    get(srv, "quiet")
    time.sleep(0.5)
    assert not [r for r in syslog.records() if b"access" in r or b"/quiet" in r]


# ------------------------------------------------------------------------------------------------
# capture_output


@BOTH
def test_capture_output_sends_app_output_to_the_error_log_and_follows_rotation(
    server_factory, tmp_path, module
):
    log = tmp_path / "error.log"
    srv = start_quiet(server_factory, "logging_probe:printing_app", "--error-logfile", str(log),
                      "--capture-output", module=module)  # fmt: skip
    get(srv, "one")
    wait_for_text(log, "app printed /one")
    wait_for_text(log, "app wrote to stderr /one")
    assert "app printed" not in srv.stdout_text() + srv.stderr_text()

    log.rename(tmp_path / "error.log.1")
    srv.signal(signal.SIGUSR1)
    wait_until(log.exists, 10, message="the error log reopened by the master")
    time.sleep(0.5)  # the master passes USR1 on to the workers
    get(srv, "two")
    wait_for_text(log, "app printed /two")
    assert "/two" not in (tmp_path / "error.log.1").read_text()


@BOTH
def test_without_capture_output_prints_stay_on_stdout(server_factory, tmp_path, module):
    log = tmp_path / "error.log"
    srv = start_quiet(server_factory, "logging_probe:printing_app", "--error-logfile", str(log),
                      module=module)  # fmt: skip
    get(srv, "plain")
    wait_until(lambda: "app printed /plain" in srv.stdout_text(), 10, message="print on stdout")
    assert "app printed" not in log.read_text()


# ------------------------------------------------------------------------------------------------
# logger_class


@BOTH
def test_logger_class_subclass_changing_the_error_format(server_factory, module):
    srv = server_factory("hello:app", "--logger-class", "logging_probe.TaggedErrorLogger",
                         module=module)  # fmt: skip
    assert re.search(r"^TAGGED INFO Listening at: ", srv.stderr_text(), re.M)


@BOTH
def test_logger_class_subclass_making_its_own_access_lines(server_factory, module):
    srv = server_factory(
        "hello:app",
        "--logger-class",
        "logging_probe.CustomAccessLogger",
        "--access-logfile",
        "-",
        "--access-logformat",
        "%(t)s %(Z)s %(r)s %(s)s %(b)s",
        module=module,
    )
    get(srv, "mine")
    srv.wait_for_log(r"\[fixed-time\] custom-GET-200 GET /mine HTTP/1\.1 200 13\n")


@pytest.mark.parametrize("name", ["gunicorn.glogging.Logger", "simple", "monoceros.logging.Logger"])
def test_logger_class_builtin_names_serve_as_usual(server_factory, name):
    if name.startswith("monoceros") and SERVER_MODULE != "monoceros":
        pytest.skip("monoceros' own class name")
    srv = server_factory("hello:app", "--logger-class", name, "--access-logfile", "-")
    assert get(srv, "x") == b"Hello, World!"
    srv.wait_for_log(r'"GET /x HTTP/1\.1" 200 13')


# ------------------------------------------------------------------------------------------------
# No access line is even formatted when none could be written


@pytest.mark.monoceros_only
def test_access_sink_only_when_a_handler_could_receive_lines(tmp_path):
    from monoceros import logging as mlog
    from monoceros.config import load_config

    def sink_for(*argv: str, conf: str = "") -> object:
        (tmp_path / "gunicorn.conf.py").write_text(conf)
        mlog.setup_logging(load_config([*argv, "app"], {}, str(tmp_path)))
        return mlog.access_log_sink(load_config([*argv, "app"], {}, str(tmp_path)))

    root_handlers = list(logging.root.handlers)  # pytest's own capture handlers
    try:
        assert sink_for() is None
        assert sink_for("--access-logfile", "-") is not None
        assert sink_for(conf="logconfig_dict = {'version': 1}\n") is not None
        quiet = "logconfig_dict = {'loggers': {'gunicorn.access': {'level': 'WARNING'}}}\n"
        assert sink_for(conf=quiet) is None
    finally:
        # Leave logging as pytest's caplog expects it for the tests that follow.
        for name in (mlog.ERROR_LOGGER, mlog.ACCESS_LOGGER, ""):
            logger = logging.getLogger(name or None)
            for handler in list(logger.handlers):
                if handler not in root_handlers:
                    logger.removeHandler(handler)
                    handler.close()
            logger.setLevel(logging.WARNING if not name else logging.NOTSET)
            logger.propagate = True
