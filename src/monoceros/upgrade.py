"""SIGUSR2, the binary upgrade, as gunicorn does it.

The old master forks; the child runs the ``pre_exec`` hook and executes the same command line
again (with the environment the server started with), passing the listening sockets in
``GUNICORN_FD`` and its own pid in ``GUNICORN_PID``. The new master adopts those sockets
instead of binding, writes ``<pidfile>.2``, and takes over the usual names when the old master
exits. The operator then retires the old master with TERM (or WINCH, then TERM).

A master started by systemd socket activation hands its sockets on the way systemd does
(``LISTEN_PID``/``LISTEN_FDS``, the sockets from fd 3 on) instead of ``GUNICORN_FD``, so that the
new master knows them for systemd's too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from monoceros import systemd
from monoceros.config import ConfigError

PARENT_ENV = "GUNICORN_PID"
FDS_ENV = "GUNICORN_FD"


@dataclass(frozen=True)
class Inheritance:
    """What a new master of an upgrade received from the old one."""

    parent: int
    fds: list[int]


def take_inheritance(environ: dict[str, str], activated: list[int]) -> Inheritance | None:
    """The upgrade this process is part of, if any. ``GUNICORN_FD`` is removed from
    ``environ`` (the app must not see it); ``GUNICORN_PID`` stays until promotion. The sockets
    of a socket-activated master come as ``activated`` (see systemd.take_listen_fds)."""
    parent = environ.get(PARENT_ENV)
    fds = environ.pop(FDS_ENV, None)
    if parent and activated:
        fds = ",".join(str(fd) for fd in activated)
    if not parent or fds is None:
        return None
    try:
        return Inheritance(int(parent), [int(fd) for fd in fds.split(",") if fd.strip()])
    except ValueError:
        raise ConfigError(f"invalid {FDS_ENV}={fds!r} or {PARENT_ENV}={parent!r}") from None


@dataclass(frozen=True)
class StartContext:
    """How this server was started, to start the next master the same way."""

    argv: list[str]
    cwd: str
    environ: Mapping[str, str]

    @classmethod
    def capture(cls, environ: Mapping[str, str], cwd: str) -> StartContext:
        # Started as `python -m monoceros`, sys.argv[0] is monoceros/__main__.py, which must
        # not be run as a script (its folder would shadow the standard library's `logging`);
        # otherwise it is the `monoceros` script, run again with this interpreter.
        main = sys.modules.get("__main__")
        spec = getattr(main, "__spec__", None)
        if spec is not None and spec.name == "monoceros.__main__":
            argv = [sys.executable, "-m", "monoceros", *sys.argv[1:]]
        else:
            argv = [sys.executable, *sys.argv]
        return cls(argv, cwd, dict(environ))


def exec_new_master(
    start: StartContext, parent: int, fds: list[int], *, socket_activation: bool = False
) -> None:
    """Replace this (forked) process with a new master. Returns only if exec failed. With
    ``socket_activation`` the arbiter has put ``fds`` at 3, 4, ... (systemd's numbering)."""
    environ = dict(start.environ)
    environ[PARENT_ENV] = str(parent)
    # What the server started with is stale: this process's own sockets go on below.
    for key in (FDS_ENV, "LISTEN_PID", "LISTEN_FDS"):
        environ.pop(key, None)
    if socket_activation:
        systemd.activation_environment(environ, os.getpid(), len(fds))
    else:
        environ.pop("LISTEN_FDNAMES", None)
        environ[FDS_ENV] = ",".join(str(fd) for fd in fds)
    os.chdir(start.cwd)
    os.execve(start.argv[0], start.argv, environ)


def upgrade_pidfile(path: str | None, inheritance: Inheritance | None) -> str | None:
    """The new master of an upgrade writes ``<pidfile>.2`` until it is promoted."""
    if path and inheritance is not None:
        return path + ".2"
    return path
