"""Defaults that are code: values read from the environment, and the hooks that do nothing."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from monoceros.config.setting import ConfigError

# ----------------------------------------------------------------------------------------------
# Defaults that depend on the environment or the machine.


def _default_bind(environ: Mapping[str, str], cwd: str) -> list[str]:
    if "PORT" in environ:
        return [f"0.0.0.0:{environ['PORT']}"]
    return ["127.0.0.1:8000"]


def _default_workers(environ: Mapping[str, str], cwd: str) -> Any:
    text = environ.get("WEB_CONCURRENCY")
    if text is None:
        return 1
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"invalid value for 'workers' (from WEB_CONCURRENCY): {text!r} is not an integer"
        ) from None


def _default_chdir(environ: Mapping[str, str], cwd: str) -> str:
    return cwd


def _default_uid(environ: Mapping[str, str], cwd: str) -> int:
    return os.geteuid()


def _default_gid(environ: Mapping[str, str], cwd: str) -> int:
    return os.getegid()


def _default_forwarded_allow_ips(environ: Mapping[str, str], cwd: str) -> str:
    return environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def _default_syslog_addr(environ: Mapping[str, str], cwd: str) -> str:
    if sys.platform == "darwin":
        return "unix:///var/run/syslog"
    if sys.platform.startswith(("freebsd", "dragonfly")):
        return "unix:///var/run/log"
    if sys.platform.startswith("openbsd"):
        return "unix:///dev/log"
    return "udp://localhost:514"


def _default_control_socket(environ: Mapping[str, str], cwd: str) -> str:
    runtime_dir = environ.get("XDG_RUNTIME_DIR")
    if runtime_dir and os.path.isdir(runtime_dir):
        return os.path.join(runtime_dir, "gunicorn.ctl")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".gunicorn", "gunicorn.ctl")


# Default hooks: they do nothing (pre_request logs at debug level, ssl_context builds the
# default context). Their parameter counts define what a user hook must accept.


def on_starting(server):
    pass


def on_reload(server):
    pass


def when_ready(server):
    pass


def pre_fork(server, worker):
    pass


def post_fork(server, worker):
    pass


def post_worker_init(worker):
    pass


def worker_int(worker):
    pass


def worker_abort(worker):
    pass


def pre_exec(server):
    pass


def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)


def post_request(worker, req, environ, resp):
    pass


def child_exit(server, worker):
    pass


def worker_exit(server, worker):
    pass


def nworkers_changed(server, new_value, old_value):
    pass


def on_exit(server):
    pass


def ssl_context(config, default_ssl_context_factory):
    return default_ssl_context_factory()


def on_dirty_starting(arbiter):
    pass


def dirty_post_fork(arbiter, worker):
    pass


def dirty_worker_init(worker):
    pass


def dirty_worker_exit(arbiter, worker):
    pass
