"""Server hooks: the objects gunicorn's hooks receive, and the calls at gunicorn's moments.

gunicorn hands its hooks its own ``Arbiter``, ``Worker``, ``Request`` and ``Response``
objects. monoceros' master and workers are C++, so the hooks get stand-ins here with the
attributes hooks use (``server.WORKERS``, ``worker.alive``, ``req.headers``, ...), built only
when a hook is set: a hook left at its default costs nothing, per request or otherwise.

The C++ arbiter reports its moments to ``MasterEvents`` (on_starting, pre_fork, ...); the
worker side is called from ``monoceros.runner`` and, for each request, from the C++ worker
through ``RequestHooks``.
"""

from __future__ import annotations

import os
import random
import socket
from typing import Any
from urllib.parse import urlsplit

from monoceros.config import SETTINGS_BY_NAME

# The hooks the master calls, and those a worker calls once per request.
MASTER_HOOKS = (
    "on_starting",
    "on_reload",
    "when_ready",
    "pre_fork",
    "child_exit",
    "worker_exit",
    "nworkers_changed",
    "on_exit",
)
REQUEST_HOOKS = ("pre_request", "post_request")


def is_set(cfg: Any, name: str) -> bool:
    """Whether the user replaced the hook's default."""
    return cfg.get(name) is not SETTINGS_BY_NAME[name].default


def call_hook(cfg: Any, log: Any, name: str, *args: Any) -> None:
    """Run a hook; its exception is logged with the traceback and does not stop the server."""
    try:
        cfg.get(name)(*args)
    except Exception:
        log.exception("Exception in %s hook", name)


class Listener:
    """A listening socket as hooks see ``server.LISTENERS`` and ``worker.sockets``."""

    def __init__(self, fd: int, url: str) -> None:
        self.fd = fd
        self.url = url
        self._sock: socket.socket | None = None

    def __str__(self) -> str:
        return self.url

    def fileno(self) -> int:
        return self.fd

    @property
    def sock(self) -> socket.socket:
        # A duplicate, made on first use: closing it leaves the server's socket open.
        if self._sock is None:
            self._sock = socket.socket(fileno=os.dup(self.fd))
        return self._sock

    def getsockname(self) -> Any:
        return self.sock.getsockname()


class Server:
    """gunicorn's ``Arbiter`` as hooks see it (the ``server`` argument)."""

    def __init__(self, cfg: Any, log: Any, app: Any) -> None:
        self.cfg = cfg
        self.log = log
        self.app = app
        self.pid = os.getpid()
        self.master_pid = 0
        self.reexec_pid = 0
        self.WORKERS: dict[int, Worker] = {}
        self.LISTENERS: list[Listener] = []
        self.proc_name = cfg.proc_name or cfg.default_proc_name
        self.timeout = cfg.timeout
        self.graceful_timeout = cfg.graceful_timeout
        self._arbiter: Any = None

    def attach(self, arbiter: Any) -> None:
        self._arbiter = arbiter

    @property
    def num_workers(self) -> int:
        return self._arbiter.num_workers if self._arbiter is not None else self.cfg.workers

    @num_workers.setter
    def num_workers(self, count: int) -> None:
        # As in gunicorn, a hook may change the target; the arbiter spawns or retires workers.
        self._arbiter.num_workers = count

    def refresh_listeners(self) -> None:
        if self._arbiter is not None:
            self.LISTENERS = [Listener(fd, url) for fd, url in self._arbiter.listeners]


class Worker:
    """gunicorn's ``Worker`` as hooks see it: made in the master before the fork (``pid`` is
    ``"[booting]"`` then), carried into the worker process, and tied to its C++ loop there."""

    def __init__(self, server: Server, age: int) -> None:
        self.age = age
        self.pid: int | str = "[booting]"
        self.ppid = server.pid
        self.cfg = server.cfg
        self.log = server.log
        self.sockets = server.LISTENERS
        # gunicorn draws the jitter once per worker; 0 means the worker is never replaced.
        jitter = server.cfg.max_requests_jitter
        if server.cfg.max_requests > 0:
            self.max_requests = server.cfg.max_requests + random.randint(0, max(jitter, 0))
        else:
            self.max_requests = 0
        self.timeout = server.cfg.timeout / 2.0
        self.booted = False
        self.aborted = False
        self.wsgi: Any = None
        self.tmp: Any = None
        self._loop: Any = None  # the C++ worker, once this process runs one
        self._alive = True

    def attach(self, loop: Any) -> None:
        self._loop = loop
        self.booted = True

    @property
    def alive(self) -> bool:
        return self._alive and (self._loop is None or self._loop.alive)

    def mark_stopping(self) -> None:
        """``alive`` reads False from now on, but the loop keeps running until told to stop:
        a hook called now (worker_int) still runs before the worker begins to exit."""
        self._alive = False

    @alive.setter
    def alive(self, value: bool) -> None:
        # Hooks set ``worker.alive = False`` to retire a worker after its current request.
        self._alive = bool(value)
        if not value and self._loop is not None:
            self._loop.stop()

    @property
    def nr(self) -> int:
        """Requests handled so far."""
        return self._loop.requests if self._loop is not None else 0


class MasterEvents:
    """Receives the C++ arbiter's moments and calls the hooks of gunicorn's master."""

    def __init__(self, server: Server, worker_config: Any) -> None:
        self.server = server
        self.worker_config = worker_config  # the _core.WorkerConfig new workers start from
        self.booting: Worker | None = None  # the worker being forked (pre_fork until spawned)
        self.reloader: Any = None  # monoceros.hangup.Reloader, for SIGHUP
        self.upgrader: Any = None  # callable(parent, fds) that execs a new master (SIGUSR2)
        self.on_promotion: Any = None  # called when this upgraded master is promoted

    def _call(self, name: str, *args: Any) -> None:
        call_hook(self.server.cfg, self.server.log, name, *args)

    def on_starting(self) -> None:
        self._call("on_starting", self.server)

    def when_ready(self) -> None:
        self.server.refresh_listeners()
        self._call("when_ready", self.server)

    def pre_fork(self, age: int) -> None:
        self.booting = Worker(self.server, age)
        self._call("pre_fork", self.server, self.booting)

    def worker_spawned(self, pid: int, age: int) -> None:
        worker = self.booting if self.booting is not None else Worker(self.server, age)
        worker.pid = pid
        self.server.WORKERS[pid] = worker
        self.booting = None

    def child_exit(self, pid: int, age: int) -> None:
        self._call("child_exit", self.server, self._forget(pid, age))

    def worker_vanished(self, pid: int, age: int) -> None:
        # gunicorn calls worker_exit in the master for a worker that died unseen.
        self._call("worker_exit", self.server, self._forget(pid, age))

    def nworkers_changed(self, count: int, old_count: int) -> None:
        self._call("nworkers_changed", self.server, count, None if old_count < 0 else old_count)

    def on_exit(self) -> None:
        self._call("on_exit", self.server)

    def reload(self) -> Any:
        """SIGHUP: the master's new _core.ArbiterConfig, or None to keep the configuration.
        Workers forked from now on start from the new _core.WorkerConfig."""
        fresh = self.reloader.reload() if self.reloader is not None else None
        if fresh is None:
            return None
        self.worker_config = fresh.worker
        return fresh.arbiter

    def on_reload(self) -> None:
        self._call("on_reload", self.server)

    def exec_new_master(self, parent: int, fds: list[int]) -> None:
        """SIGUSR2, in the forked child: pre_exec, then exec (see monoceros.upgrade)."""
        self._call("pre_exec", self.server)
        try:
            self.upgrader(parent, fds)
        except OSError as error:
            self.server.log.error("Could not exec a new master: %s", error)

    def promoted(self) -> None:
        if self.on_promotion is not None:
            self.on_promotion()

    def _forget(self, pid: int, age: int) -> Worker:
        worker = self.server.WORKERS.pop(pid, None)
        if worker is None:
            worker = Worker(self.server, age)
            worker.pid = pid
        worker._alive = False
        return worker

    def worker_in_child(self, age: int) -> Worker:
        """In a new worker process: the Worker object pre_fork saw, now with this pid."""
        worker = self.booting if self.booting is not None else Worker(self.server, age)
        self.booting = None
        worker.pid = os.getpid()
        return worker


class Request:
    """gunicorn's parsed ``Request`` as ``pre_request``/``post_request`` see it, read from the
    request's environ. The same object reaches both hooks, so attributes a hook sets on it in
    pre_request are there in post_request."""

    def __init__(self, environ: dict) -> None:
        self._environ = environ
        self.method = environ.get("REQUEST_METHOD")
        self.uri = environ.get("RAW_URI")
        parts = urlsplit(self.uri or "")
        self.path = parts.path
        self.query = environ.get("QUERY_STRING", "")
        self.fragment = parts.fragment
        protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.0")
        major, _, minor = protocol.partition("/")[2].partition(".")
        self.version = (int(major or 1), int(minor or 0))
        self.scheme = environ.get("wsgi.url_scheme", "http")
        self.body = environ.get("wsgi.input")
        self.trailers: list[tuple[str, str]] = []
        self.req_number = 1
        self.proxy_protocol_info = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """``(UPPER-CASE-NAME, value)`` pairs, as gunicorn keeps them."""
        out = []
        for key, value in self._environ.items():
            if key.startswith("HTTP_"):
                out.append((key[5:].replace("_", "-"), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                out.append((key.replace("_", "-"), value))
        return out

    @property
    def peer_addr(self) -> Any:
        host = self._environ.get("REMOTE_ADDR")
        port = self._environ.get("REMOTE_PORT")
        return (host, int(port)) if port else host

    remote_addr = peer_addr


class Response:
    """gunicorn's ``Response`` as ``post_request`` sees it: what was sent."""

    def __init__(
        self,
        status: str | None,
        headers: list[tuple[str, str]],
        sent: int,
        response_length: int | None,
        version: tuple[int, int],
    ) -> None:
        self.status = status
        self.status_code = int(status.split(" ", 1)[0]) if status else None
        self.headers = headers
        self.sent = sent
        self.response_length = response_length
        self.headers_sent = status is not None
        self.chunked = (
            self.headers_sent
            and response_length is None
            and version >= (1, 1)
            and self.status_code not in (204, 304)
            and self.status_code >= 200
        )


class RequestHooks:
    """The per-request callables handed to the C++ worker (None for a hook left unset)."""

    def __init__(self, cfg: Any, worker: Worker) -> None:
        self.cfg = cfg
        self.worker = worker
        self.pre_request = self._pre_request if is_set(cfg, "pre_request") else None
        self.post_request = self._post_request if is_set(cfg, "post_request") else None
        # The request object between the two hooks, by environ (one request at a time here,
        # but keyed so that a threaded worker can share this).
        self._requests: dict[int, Request] = {}

    def _pre_request(self, environ: dict) -> None:
        request = Request(environ)
        if self.post_request is not None:
            self._requests[id(environ)] = request
        # An exception here propagates: the C++ worker answers 500, as gunicorn does.
        self.cfg.pre_request(self.worker, request)

    def _post_request(
        self,
        environ: dict,
        status: str | None,
        headers: list[tuple[str, str]],
        sent: int,
        response_length: int | None,
    ) -> None:
        request = self._requests.pop(id(environ), None) or Request(environ)
        response = Response(status, headers, sent, response_length, request.version)
        worker = self.worker
        call_hook(self.cfg, worker.log, "post_request", worker, request, environ, response)
