"""The servers the suite measures: one table, one entry per server and worker class.

Every server gets the same app (a `module:callable` under bench/apps), the same number of
worker processes, the same listen backlog where it can be set, and no access log. What differs
is stated in `settings`, which LATEST.md prints next to the command line.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The monoceros worker classes; their flags come from WORKER_CLASS_FLAGS, shared with gunicorn.
MONOCEROS_WORKER_CLASSES = ("sync", "gthread", "event")

GTHREAD_THREADS = 4
WORKER_CONNECTIONS = 12_000  # room for the 10,000 idle connections, where a server has a limit
BACKLOG = 2048  # gunicorn's default; set on every server that lets us

# Flags per worker class, shared by gunicorn and monoceros so both run the same configuration.
WORKER_CLASS_FLAGS = {
    "sync": [],
    "gthread": ["--threads", str(GTHREAD_THREADS)],
    "gevent": [],
    "event": [],
}


@dataclass(frozen=True)
class Launch:
    """Where and how one server instance starts."""

    bin: Path  # the bench venv's bin/ (python, gunicorn, granian, uwsgi, monoceros)
    apps: Path  # bench/apps, the working directory of every app server
    host: str
    port: int
    workers: int
    app: str  # module:callable under bench/apps
    scratch: Path  # a private folder for config files, pid files and logs


@dataclass(frozen=True)
class Server:
    name: str
    command: Callable[[Launch], list[str]]
    settings: str  # the non-default settings, in words, for LATEST.md
    package: str  # the PyPI package (version looked up in the venv) or "apt:NAME"
    ceiling: bool = False  # nginx: runs only the scenarios that have a ceiling
    monoceros: bool = False
    root_is_worker: bool = False  # bjoern: the process we start serves requests itself
    quick: bool = False  # part of `bench/run --quick`
    missing: Callable[[Path], str | None] = lambda bin: None  # reason it cannot run, or None


def _gunicorn_style(exe: str | Path, worker_class: str) -> Callable[[Launch], list[str]]:
    """`exe` is a name in the bench venv's bin/, or an absolute path."""

    def command(ln: Launch) -> list[str]:
        return [
            str(ln.bin / exe),
            "--workers", str(ln.workers),
            "--worker-class", worker_class,
            *WORKER_CLASS_FLAGS.get(worker_class, []),
            "--worker-connections", str(WORKER_CONNECTIONS),
            "--backlog", str(BACKLOG),
            "--bind", f"{ln.host}:{ln.port}",
            "--chdir", str(ln.apps),
            ln.app,
        ]  # fmt: skip

    return command


def _gunicorn_settings(worker_class: str) -> str:
    flags = " ".join(["-k", worker_class, *WORKER_CLASS_FLAGS.get(worker_class, [])])
    return f"{flags} --worker-connections {WORKER_CONNECTIONS} --backlog {BACKLOG}"


def _granian(ln: Launch) -> list[str]:
    return [
        str(ln.bin / "granian"),
        "--interface", "wsgi",
        "--http", "1",
        "--no-ws",
        "--workers", str(ln.workers),
        "--backlog", str(BACKLOG),
        "--backpressure", str(WORKER_CONNECTIONS),
        "--host", ln.host,
        "--port", str(ln.port),
        "--working-dir", str(ln.apps),
        ln.app,
    ]  # fmt: skip


def _uwsgi(ln: Launch) -> list[str]:
    module, _, callable_ = ln.app.partition(":")
    return [
        str(ln.bin / "uwsgi"),
        "--http11-socket", f"{ln.host}:{ln.port}",
        "--master",
        "--processes", str(ln.workers),
        "--listen", str(BACKLOG),
        "--chdir", str(ln.apps),
        "--module", module,
        "--callable", callable_,
        "--need-app",
        "--disable-logging",
        "--die-on-term",
        "--single-interpreter",
    ]  # fmt: skip


def _bjoern(ln: Launch) -> list[str]:
    serve = ln.apps / "bjoern_serve.py"
    return [str(ln.bin / "python"), str(serve), ln.app, ln.host, str(ln.port), str(ln.workers)]


NGINX_CONF = """\
worker_processes {workers};
pid {scratch}/nginx.pid;
error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {scratch}/body;
    server {{
        listen {host}:{port} backlog={backlog};
        location / {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
    }}
}}
"""


def _nginx(ln: Launch) -> list[str]:
    conf = ln.scratch / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workers=ln.workers, scratch=ln.scratch, host=ln.host, port=ln.port, backlog=BACKLOG
        )
    )
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    return [exe, "-p", str(ln.scratch), "-e", str(ln.scratch / "nginx-error.log"),
            "-c", str(conf), "-g", "daemon off; master_process on;"]  # fmt: skip


def _needs_exe(name: str) -> Callable[[Path], str | None]:
    def missing(bin: Path) -> str | None:
        return None if (bin / name).exists() else f"{name} is not installed in the bench venv"

    return missing


def _needs_module(module: str) -> Callable[[Path], str | None]:
    def missing(bin: Path) -> str | None:
        probe = subprocess.run(
            [str(bin / "python"), "-c", f"import {module}"], capture_output=True, timeout=30
        )
        return None if probe.returncode == 0 else f"python module {module} does not import"

    return missing


def _nginx_missing(bin: Path) -> str | None:
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return None
    return "nginx is not installed (apt-get install nginx failed or apt is unavailable)"


def _monoceros_servers() -> list[Server]:
    return [
        Server(
            name=f"monoceros-{wc}",
            command=_gunicorn_style("monoceros", wc),
            settings=_gunicorn_settings(wc),
            package="monoceros",
            monoceros=True,
            quick=True,
        )
        for wc in MONOCEROS_WORKER_CLASSES
    ]


def baseline_servers(exe: Path, measured: list[Server]) -> list[Server]:
    """Another monoceros build (`bench/run --baseline EXE`), one server per worker class
    measured, so that a change is judged against the build before it in the same rounds."""
    found = exe.is_file()
    return [
        Server(
            name=f"baseline-{srv.name.removeprefix('monoceros-')}",
            command=_gunicorn_style(exe, srv.name.removeprefix("monoceros-")),
            settings=f"{srv.settings} (baseline: {exe})",
            package="monoceros",
            missing=lambda bin: None if found else f"{exe} does not exist",
        )
        for srv in measured
        if srv.monoceros
    ]


SERVERS: list[Server] = [
    *_monoceros_servers(),
    Server("gunicorn-sync", _gunicorn_style("gunicorn", "sync"), _gunicorn_settings("sync"),
           "gunicorn", quick=True),
    Server("gunicorn-gthread", _gunicorn_style("gunicorn", "gthread"),
           _gunicorn_settings("gthread"), "gunicorn", quick=True),
    Server("gunicorn-gevent", _gunicorn_style("gunicorn", "gevent"),
           _gunicorn_settings("gevent"), "gevent", missing=_needs_module("gevent")),
    Server("granian", _granian, "--interface wsgi --http 1 --no-ws --backpressure "
           f"{WORKER_CONNECTIONS} (its connection limit); granian's defaults: 1 runtime thread, "
           "blocking (app) threads started on demand up to backpressure/2", "granian", quick=True,
           missing=_needs_exe("granian")),
    Server("uwsgi", _uwsgi, "--http11-socket (keep-alive http-socket), --master, "
           "--single-interpreter, no threads: a process serves one keep-alive connection at a "
           "time while the others wait, so its latencies cover only the connections served",
           "uwsgi", missing=_needs_exe("uwsgi")),
    Server("bjoern", _bjoern, "bjoern.listen + fork (bench/apps/bjoern_serve.py); "
           "its own backlog", "bjoern", root_is_worker=True, missing=_needs_module("bjoern")),
    Server("nginx", _nginx, '`return 200 "Hello, World!"`, access_log off, '
           "keepalive_requests 1000000", "apt:nginx", ceiling=True, quick=True,
           missing=_nginx_missing),
]  # fmt: skip


def by_name(names: list[str] | None) -> list[Server]:
    if not names:
        return list(SERVERS)
    known = {s.name: s for s in SERVERS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown server(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
