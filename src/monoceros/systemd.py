"""systemd socket activation, read as gunicorn reads it.

When systemd starts the server for a ``.socket`` unit it passes the listening sockets as fds
3, 4, ... and says so in ``LISTEN_FDS`` (how many) and ``LISTEN_PID`` (for which process: a
variable inherited by some other process must be ignored). The master then adopts those
sockets instead of binding. Notifications to ``NOTIFY_SOCKET`` (READY=1 and the rest) are sent
by the C++ arbiter, which knows when each moment comes.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from monoceros.config import ConfigError

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START
ACTIVATION_KEYS = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


def take_listen_fds(environ: MutableMapping[str, str], pid: int) -> list[int]:
    """The sockets systemd passed to this process, or [] when it passed none. When they are
    ours, the LISTEN_* variables are removed from ``environ``, so that neither the workers nor
    the app take them for theirs."""
    try:
        listen_pid = int(environ.get("LISTEN_PID", "0"))
        count = int(environ.get("LISTEN_FDS", "0"))
    except ValueError:
        listen_pid, count = 0, 0  # malformed: not for us, as systemd's own reader decides
    if listen_pid != pid:
        return []
    for key in ACTIVATION_KEYS:
        environ.pop(key, None)
    if count < 0:
        raise ConfigError(f"invalid LISTEN_FDS={count}")
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + count))


def activation_environment(environ: MutableMapping[str, str], pid: int, count: int) -> None:
    """Hand ``count`` sockets (already at fds 3, 4, ...) to the process ``pid`` about to exec,
    the way systemd does: the SIGUSR2 upgrade of a socket-activated master."""
    environ["LISTEN_PID"] = str(pid)
    environ["LISTEN_FDS"] = str(count)


def daemon_warning(environ: MutableMapping[str, str]) -> str | None:
    """gunicorn warns that a daemon under ``Type=notify`` is a mistake: systemd watches the
    process it started, which exits as soon as the daemon forks away."""
    if environ.get("NOTIFY_SOCKET"):
        return (
            "Warning: you shouldn't specify `daemon = True` when launching by systemd "
            "with `Type = notify`"
        )
    return None
