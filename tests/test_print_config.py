"""``monoceros --print-config`` compared line by line with ``gunicorn --print-config``.

Both commands run in the same directory with the same environment, for configurations coming
from the command line, a config file, GUNICORN_CMD_ARGS, the environment and a PasteDeploy ini
file. Every line must be identical except the ones listed below, each with its reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import gunicorn"], capture_output=True).returncode,
    reason="gunicorn (the reference) is not installed",
)

# Lines allowed to differ. Keep each entry explained; everything else must match exactly.
ONLY_IN_MONOCEROS = {
    "permit_missing_host",  # monoceros extension setting, unknown to gunicorn
    "limit_request_body",  # monoceros extension setting, unknown to gunicorn
    "max_worker_memory",  # monoceros extension setting, unknown to gunicorn
    "identify_as_gunicorn",  # monoceros extension setting, unknown to gunicorn
    "body_spool_limit",  # monoceros extension setting, unknown to gunicorn
}
# Settings that a gunicorn newer than monoceros' table added (none with gunicorn 27).
ONLY_IN_GUNICORN: set[str] = set()
# Settings printed by both whose values legitimately differ (none so far).
VALUE_MAY_DIFFER: set[str] = set()

APP = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'']\n"
PASTE_APP = "def make_app(global_conf, **local):\n    return lambda environ, start_response: []\n"
PASTE_INI = """\
[app:main]
paste.app_factory = pasteapp:make_app

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = INFO
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = %(message)s
"""
CONFIG_FILE = """\
import multiprocessing

bind = ["127.0.0.1:9100", "unix:/tmp/monoceros-print.sock"]
workers = multiprocessing.cpu_count() * 2 + 1
timeout = 90
keepalive = 7
raw_env = ["DJANGO_SETTINGS_MODULE=site.settings", "MODE=prod"]
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
forwarded_allow_ips = "10.0.0.0/8,192.168.0.1"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(L)s'
loglevel = "warning"
preload_app = True
proc_name = "web"
max_requests = 1000
max_requests_jitter = 50
statsd_host = "localhost:9125"
umask = 0o022

def post_fork(server, worker):
    pass

def when_ready(server):
    pass
"""

# name -> (command-line arguments, extra environment, files to write)
CASES = {
    "defaults": (["app:app"], {}, {}),
    "command line": (
        [
            "-w", "3", "-b", "0.0.0.0:9001", "-b", "[::1]:9002", "--backlog", "64", "-t", "10",
            "--graceful-timeout", "5", "--keep-alive", "4", "--limit-request-line", "100",
            "--limit-request-fields", "20", "--limit-request-field_size", "300", "--preload",
            "--no-sendfile", "-e", "A=1", "-e", "B=x=y", "--pythonpath", "lib,vendor",
            "--forwarded-allow-ips", "*", "--access-logfile", "-", "--log-level", "DEBUG",
            "--header-map", "refuse", "--proxy-protocol", "--spew", "--max-requests", "7",
            "--reload", "-n", "named", "--paste-global", "K=V", "app:app",
        ],
        {},
        {},
    ),
    "config file": (["-c", "conf.py", "app:app"], {}, {"conf.py": CONFIG_FILE}),
    "default config file and GUNICORN_CMD_ARGS": (
        ["--workers", "9", "app:app"],
        {"GUNICORN_CMD_ARGS": "--workers 5 --timeout 11 --access-logformat '%(h)s %(r)s'"},
        {"gunicorn.conf.py": "timeout = 3\nbacklog = 12\n"},
    ),
    "environment defaults": (
        ["app:app"],
        {"WEB_CONCURRENCY": "4", "PORT": "9300", "FORWARDED_ALLOW_IPS": "10.1.1.1"},
        {},
    ),
    "paste ini": (
        ["--paste", "site.ini", "--paste-global", "who=bob"],
        {},
        {"site.ini": PASTE_INI, "pasteapp.py": PASTE_APP},
    ),
}  # fmt: skip


def _print_config(module: str, args: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in _INHERITED_SETTINGS}
    full_env.update(PWD=str(cwd), XDG_RUNTIME_DIR=str(cwd), PYTHONDONTWRITEBYTECODE="1", **env)
    proc = subprocess.run(
        [sys.executable, "-m", module, "--print-config", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.stdout, f"{module} printed nothing (exit {proc.returncode}):\n{proc.stderr}"
    return proc.stdout.splitlines()


# Settings read from the environment must come only from each case.
_INHERITED_SETTINGS = {
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "PORT",
    "FORWARDED_ALLOW_IPS",
    "SENDFILE",
    "PYTHONPATH",
}


def _by_name(lines: list[str]) -> dict[str, str]:
    return {line.split(" ", 1)[0]: line for line in lines}


@pytest.mark.parametrize("case", list(CASES))
def test_print_config_matches_gunicorn_line_by_line(case, tmp_path):
    args, env, files = CASES[case]
    (tmp_path / "app.py").write_text(APP)
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    ours = _print_config("monoceros", args, env, tmp_path)
    theirs = _print_config("gunicorn", args, env, tmp_path)

    ours_by_name, theirs_by_name = _by_name(ours), _by_name(theirs)
    assert set(ours_by_name) - set(theirs_by_name) == ONLY_IN_MONOCEROS
    assert set(theirs_by_name) - set(ours_by_name) == ONLY_IN_GUNICORN
    # Same order and same text for every shared line (the padding included).
    shared_ours = [line for line in ours if line.split(" ", 1)[0] in theirs_by_name]
    shared_theirs = [line for line in theirs if line.split(" ", 1)[0] in ours_by_name]
    mismatches = [
        f"monoceros: {a}\ngunicorn:  {b}"
        for a, b in zip(shared_ours, shared_theirs, strict=True)
        if a != b and a.split(" ", 1)[0] not in VALUE_MAY_DIFFER
    ]
    assert not mismatches, "\n".join(mismatches)
    assert ours == sorted(ours)  # the extension lines sit in name order too


def test_the_comparison_notices_a_different_value(tmp_path):
    # Guard against a comparison that cannot fail: different flags must show up.
    (tmp_path / "app.py").write_text(APP)
    ours = _by_name(_print_config("monoceros", ["-w", "2", "app:app"], {}, tmp_path))
    theirs = _by_name(_print_config("gunicorn", ["-w", "3", "app:app"], {}, tmp_path))
    assert ours["workers"] != theirs["workers"]
