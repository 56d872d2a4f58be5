"""Process settings, applied where gunicorn applies them.

Master: ``worker_tmp_dir`` is checked, log files are handed to ``user``/``group``, then the
server detaches (``daemon``, ``enable_stdio_inheritance``) and writes ``pidfile``. Worker:
switches to ``group``, the supplementary groups (``initgroups``) and ``user`` before loading
the app. (The process titles of ``proc_name``, the unix socket's owner and mode and the
``worker_tmp_dir`` heartbeat files are the C++ arbiter's business.)

A failure before the server starts raises ConfigError: one line, exit status 1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from monoceros import systemd
from monoceros.config import ConfigError
from monoceros.logging import access_logger, error_logger

__all__ = [
    "Pidfile",
    "become_worker_user",
    "daemonize",
    "master_pidfile",
    "prepare_master",
    "switch_user",
]

# gunicorn's umask for a daemon: files it creates are not group- or world-writable.
DAEMON_UMASK = 0o022


# ----------------------------------------------------------------------------------------------
# Master.


def prepare_master(cfg: Any, pidfile: str | None, upgrading: bool = False) -> None:
    """Everything the master does between reading the settings and starting the arbiter,
    except writing ``pidfile`` (see ``master_pidfile``). The new master of a binary upgrade
    (``upgrading``) is detached already: its parent is the old master. Raises ConfigError."""
    check_worker_tmp_dir(cfg.worker_tmp_dir)
    if pidfile:
        Pidfile(pidfile).check()  # refuse now, while the terminal still shows errors
    give_log_files_to(cfg.uid, cfg.gid)
    if cfg.daemon and not upgrading:
        warning = systemd.daemon_warning(os.environ)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        daemonize(keep_stdio=cfg.enable_stdio_inheritance)


def check_worker_tmp_dir(directory: str | None) -> None:
    """A worker_tmp_dir must exist and take a new file, or no worker could get a heartbeat."""
    if not directory:
        return
    if not os.path.isdir(directory):
        raise ConfigError(f"{directory} doesn't exist. Can't create workertmp.")
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise ConfigError(
            f"{directory} is not writable ({error.strerror}). Can't create workertmp."
        ) from None


def give_log_files_to(uid: int, gid: int) -> None:
    """Workers running as another user reopen the log files on SIGUSR1: make those files
    theirs, as gunicorn does. Failures are ignored (e.g. /dev/null as a log file)."""
    if uid == os.geteuid() and gid == os.getegid():
        return
    for logger in (error_logger(), access_logger()):
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler):
                with contextlib.suppress(OSError):
                    os.chown(handler.baseFilename, uid, gid)


def daemonize(*, keep_stdio: bool) -> None:
    """Detach from the terminal as gunicorn does: fork, setsid, fork again (the command
    returns at once), umask 022 and stdin on /dev/null. The working directory is kept.

    stdout and stderr go to /dev/null too, unless ``keep_stdio`` (enable_stdio_inheritance):
    then they stay where the shell sent them, except a terminal, which is let go as well."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if os.fork():
        os._exit(0)
    os.setsid()  # a new session: no controlling terminal, no SIGHUP when the shell exits
    if os.fork():
        os._exit(0)  # the session leader leaves, so no terminal can ever be acquired again
    os.umask(DAEMON_UMASK)

    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(null, 0)
        for fd in (1, 2):
            if not keep_stdio or os.isatty(fd):
                os.dup2(null, fd)
    finally:
        if null > 2:
            os.close(null)


class Pidfile:
    """The file holding the master's pid, gunicorn's rules: a pidfile naming a live process
    refuses to start, a stale one is replaced, and it is removed at exit only while it still
    holds our pid (so a newer server's pidfile survives an older server's exit)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid: int | None = None

    def check(self) -> None:
        """Raise ConfigError when the file names a running process other than this one."""
        other = _live_pid_in(self.path)
        if other is not None and other != os.getpid():
            raise ConfigError(
                f"Already running on PID {other} (or pid file '{self.path}' is stale)"
            )

    def create(self, pid: int) -> None:
        """Write ``pid`` atomically (a temp file renamed over the path), mode 0644."""
        self.check()
        directory = os.path.dirname(self.path)
        if directory and not os.path.isdir(directory):
            raise ConfigError(f"{directory} doesn't exist. Can't create pidfile.")
        try:
            fd, temp = tempfile.mkstemp(dir=directory or None, prefix=".monoceros-pid-")
        except OSError as error:
            raise ConfigError(f"Can't create pidfile {self.path!r}: {error.strerror}") from None
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"{pid}\n")
            os.chmod(temp, 0o644)
            os.rename(temp, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise ConfigError(f"Can't create pidfile {self.path!r}: {error.strerror}") from None
        self.pid = pid

    def rename(self, path: str) -> None:
        """Move our pid to ``path`` (a promoted upgrade master takes the usual pidfile)."""
        pid = self.pid
        self.remove()
        self.path = path
        if pid is not None:
            self.create(pid)

    def remove(self) -> None:
        """Remove the file if it still holds the pid we wrote; never raises."""
        if self.pid is None:
            return
        with contextlib.suppress(OSError, ValueError):
            with open(self.path) as f:
                written = int(f.read() or 0)
            if written == self.pid:
                os.unlink(self.path)


def _live_pid_in(path: str) -> int | None:
    """The pid a pidfile names if that process exists; None for a missing, unreadable-as-a-
    number or stale file."""
    try:
        with open(path) as f:
            pid = int(f.read().strip() or 0)
    except FileNotFoundError:
        return None
    except ValueError:
        return None
    except OSError as error:
        raise ConfigError(f"Can't read pidfile {path!r}: {error.strerror}") from None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, owned by someone else
    return pid


@contextlib.contextmanager
def master_pidfile(path: str | None) -> Iterator[Pidfile | None]:
    """Write the master's pid for the duration of the block; remove it at the end, in the
    master only: a forked worker leaving the block leaves the file alone."""
    if not path:
        yield None
        return
    pidfile = Pidfile(path)
    pidfile.create(os.getpid())
    try:
        yield pidfile
    finally:
        if os.getpid() == pidfile.pid:
            pidfile.remove()


# ----------------------------------------------------------------------------------------------
# Worker.


def become_worker_user(cfg: Any) -> bool:
    """``switch_user`` for the settings; False after logging why it failed (the worker then
    exits as a boot failure, which stops the arbiter rather than forking the failure again)."""
    try:
        switch_user(cfg.uid, cfg.gid, cfg.initgroups)
        return True
    except OSError as error:
        error_logger().error(
            "Can't run the worker as user %s and group %s: %s",
            cfg.uid,
            cfg.gid,
            error.strerror or error,
        )
        return False


def switch_user(uid: int, gid: int, initgroups: bool) -> None:
    """Become ``uid``/``gid`` in a new worker, before the app is loaded: the group first (it
    needs the privileges the user switch gives up), then the supplementary groups, then the
    user. Raises OSError (e.g. EPERM when the master is not root)."""
    if uid == os.getuid() and gid == os.getgid() and not initgroups:
        return
    if gid != os.getgid():
        os.setgid(gid)
    name = _user_name(uid)
    if initgroups and name is not None:
        os.initgroups(name, gid)
    elif uid != os.getuid() and os.geteuid() == 0:
        # Leaving root: drop root's supplementary groups too (gunicorn keeps them; see
        # docs/differences.md), else the worker could still use files of group root.
        os.setgroups([gid])
    if uid != os.getuid():
        os.setuid(uid)


def _user_name(uid: int) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None  # a bare numeric uid: no group list to initialise (gunicorn skips it too)
