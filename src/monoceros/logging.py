"""gunicorn-compatible logging: the ``gunicorn.error`` and ``gunicorn.access`` loggers.

The names, formats and destinations are gunicorn's, so that existing logging configurations
and log parsers keep working:

- ``gunicorn.error``: ``%(asctime)s [%(process)d] [%(levelname)s] %(message)s`` with dates as
  ``[%Y-%m-%d %H:%M:%S %z]``, to stderr (``errorlog = "-"``) or appended to a file, at the
  level named by ``loglevel``.
- ``gunicorn.access``: ``%(message)s`` (the line is formatted beforehand from
  ``access_log_format``), to stdout (``accesslog = "-"``), to a file, or nowhere (None).
- ``syslog``: both loggers also go to syslog (the access one unless
  ``disable_redirect_access_to_syslog``), see ``monoceros.syslog_handler``.
- ``logconfig_dict`` / ``logconfig_json`` / ``logconfig`` are applied last, over all of the
  above, see ``monoceros.log_config``.
- ``capture_output``: the process's stdout and stderr are pointed at the error log file.

Neither logger propagates to the root logger unless a logging configuration says so.
``logger_class`` may replace all of this with a subclass of gunicorn's own Logger
(``monoceros.logger_class``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from monoceros.config import LOG_LEVELS, ConfigError
from monoceros.config.logger_classes import load_logger_class
from monoceros.log_config import apply_user_logging_config, has_user_logging_config
from monoceros.logger_class import (
    AccessThroughLogger,
    formats_access_itself,
    instantiate_logger_class,
)
from monoceros.syslog_handler import make_syslog_handler

__all__ = [
    "ACCESS_LOGGER",
    "ACCESS_LOG_FORMAT",
    "ERROR_LOGGER",
    "ERROR_LOG_DATEFMT",
    "ERROR_LOG_FORMAT",
    "Logger",
    "WSGIErrors",
    "access_log_enabled",
    "access_log_sink",
    "access_logger",
    "error_logger",
    "redirect_output_to_error_log",
    "reopen_files",
    "setup_logging",
    "worker_request_logging",
]

ERROR_LOGGER = "gunicorn.error"
ACCESS_LOGGER = "gunicorn.access"
ERROR_LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
ERROR_LOG_DATEFMT = "[%Y-%m-%d %H:%M:%S %z]"
ACCESS_LOG_FORMAT = "%(message)s"

# Set on the handlers we install, so that a second setup (config reload) replaces only ours
# and leaves handlers added by the user's own logging configuration alone.
_OURS = "_monoceros_handler"
_DISABLED = logging.CRITICAL + 1

# The logger object setup_logging made (ours or the user's logger_class), and the error log
# file that stdout and stderr point at (capture_output), both redone by reopen_files().
_active: Any = None
_captured_path: str | None = None


def error_logger() -> logging.Logger:
    return logging.getLogger(ERROR_LOGGER)


def access_logger() -> logging.Logger:
    return logging.getLogger(ACCESS_LOGGER)


def access_log_enabled(cfg: Any) -> bool:
    """gunicorn's rule: access lines are produced only when something may receive them."""
    return bool(
        cfg.accesslog
        or has_user_logging_config(cfg)
        or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)
    )


def access_log_sink(cfg: Any) -> Callable[[str], Any] | None:
    """The callable the C++ worker hands each formatted access line to, or None when no line
    could reach a handler (then the worker does not even format them: zero cost)."""
    if not access_log_enabled(cfg):
        return None
    log = access_logger()
    return log.info if log.isEnabledFor(logging.INFO) else None


def worker_request_logging(
    cfg: Any,
    logger: Any,
    pre_request: Callable[[dict], Any] | None,
    post_request: Callable[..., Any] | None,
) -> tuple[Any, Any, Callable[[str], Any] | None]:
    """``(pre_request, post_request, access sink)`` for the C++ worker, given the request
    hooks' callables (None when unset). A logger class that makes its own access lines gets
    every request through its ``access()``; otherwise the worker formats the lines."""
    if formats_access_itself(logger):
        through = AccessThroughLogger(logger, pre_request, post_request)
        return through.pre_request, through.post_request, None
    return pre_request, post_request, access_log_sink(cfg)


def setup_logging(cfg: Any) -> Any:
    """Configure logging from ``cfg`` and return the logger object hooks see as
    ``server.log``: a ``Logger``, or an instance of the user's ``logger_class``. Calling it
    again replaces the handlers it installed before. Raises ConfigError (one line) when a log
    file, a syslog address or a logging configuration cannot be used."""
    global _active
    user_class = load_logger_class(cfg)
    _active = Logger(cfg) if user_class is None else instantiate_logger_class(user_class, cfg)
    return _active


class Logger:
    """gunicorn's logger interface (``server.log``, ``worker.log``: ``info()``, ``error()``,
    ``log()``, ``reopen_files()``, ...) over the two loggers. ``logger_class`` names it as
    ``monoceros.logging.Logger`` or as gunicorn's ``gunicorn.glogging.Logger``."""

    LOG_LEVELS = LOG_LEVELS

    def __init__(self, cfg: Any) -> None:
        self.error_log = error_logger()
        self.access_log = access_logger()
        self.error_log.propagate = False
        self.access_log.propagate = False
        self.cfg = cfg
        self.setup(cfg)

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        _install_handlers(cfg)
        apply_user_logging_config(cfg)

    @property
    def access_log_enabled(self) -> bool:
        return access_log_enabled(self.cfg)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.critical(msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.error(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.warning(msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.info(msg, *args, **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.debug(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.exception(msg, *args, **kwargs)

    def log(self, level: int | str, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(level, str):
            level = LOG_LEVELS.get(level.lower(), logging.INFO)
        self.error_log.log(level, msg, *args, **kwargs)

    def reopen_files(self) -> None:
        try:
            _redirect_output(_captured_path)
        except ConfigError as error:  # e.g. its directory is gone: keep serving, say so
            self.error_log.error("%s", error)
        _reopen_file_handlers()

    def close_on_exec(self) -> None:
        """Nothing to do: Python opens every file non-inheritable (PEP 446)."""


def _open_handler(target: str, stream: TextIO, setting: str) -> logging.Handler:
    if target == "-":
        return logging.StreamHandler(stream)
    try:
        return logging.FileHandler(target, mode="a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"invalid value for '{setting}': cannot open {target!r} for appending "
            f"({exc.strerror or exc})"
        ) from exc


def _new_handlers(cfg: Any) -> tuple[list[logging.Handler], list[logging.Handler]]:
    """The error and access handlers cfg asks for, all opened (or none: ConfigError)."""
    opened: list[logging.Handler] = []
    try:
        error_handler = _open_handler(cfg.errorlog, sys.stderr, "errorlog")
        opened.append(error_handler)
        error_handler.setFormatter(logging.Formatter(ERROR_LOG_FORMAT, ERROR_LOG_DATEFMT))
        errors, access = [error_handler], []
        if cfg.accesslog is not None:
            access_handler = _open_handler(cfg.accesslog, sys.stdout, "accesslog")
            opened.append(access_handler)
            access_handler.setFormatter(logging.Formatter(ACCESS_LOG_FORMAT))
            access.append(access_handler)
        if cfg.syslog:
            errors.append(make_syslog_handler(cfg, "error"))
            opened.append(errors[-1])
            if not cfg.disable_redirect_access_to_syslog:
                access.append(make_syslog_handler(cfg, "access"))
                opened.append(access[-1])
    except ConfigError:
        for handler in opened:
            handler.close()
        raise
    for handler in opened:
        setattr(handler, _OURS, True)
    return errors, access


def _install_handlers(cfg: Any) -> None:
    # Open everything first, so that a failure leaves the previous setup in place.
    error_handlers, access_handlers = _new_handlers(cfg)
    errors, access = error_logger(), access_logger()
    for logger, handlers in ((errors, error_handlers), (access, access_handlers)):
        _drop_our_handlers(logger)
        for handler in handlers:
            logger.addHandler(handler)
    errors.setLevel(LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO))
    access.setLevel(logging.INFO if access_log_enabled(cfg) else _DISABLED)


def _drop_our_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, _OURS, False):
            logger.removeHandler(handler)
            handler.close()


def redirect_output_to_error_log(cfg: Any) -> None:
    """``capture_output``: point file descriptors 1 and 2 at the error log file, so that what
    the app prints (and anything a C extension writes there) lands in it. Does nothing when the
    error log is stderr. Call it after daemonizing, which points them at /dev/null."""
    global _captured_path
    if cfg.capture_output and cfg.errorlog != "-":
        _captured_path = cfg.errorlog
        _redirect_output(_captured_path)


def _redirect_output(path: str | None) -> None:
    if path is None:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise ConfigError(
            f"invalid value for 'capture_output': cannot open {path!r} ({exc.strerror or exc})"
        ) from exc
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def reopen_files() -> None:
    """Reopen the log files (after log rotation, on SIGUSR1), through the active logger."""
    if _active is not None:
        _active.reopen_files()
    else:
        _reopen_file_handlers()


def _reopen_file_handlers() -> None:
    """Every file handler of every named logger, as gunicorn does (so handlers added by a
    logging configuration follow a rotation too); each handler once."""
    seen: set[int] = set()
    for logger in list(logging.root.manager.loggerDict.values()):
        for handler in getattr(logger, "handlers", ()):  # placeholders have none
            if isinstance(handler, logging.FileHandler) and id(handler) not in seen:
                seen.add(id(handler))
                _reopen(handler)


def _reopen(handler: logging.FileHandler) -> None:
    handler.acquire()
    try:
        if handler.stream is None:
            return  # never opened (delay=True) or closed: it opens on its next record
        handler.stream.flush()
        handler.stream.close()
        # If the file cannot be opened now, the handler retries on its next record.
        handler.stream = None  # type: ignore[assignment]
        handler.stream = open(  # noqa: SIM115 -- owned by the handler
            handler.baseFilename, handler.mode, encoding=handler.encoding
        )
    except OSError as error:
        sys.stderr.write(f"cannot reopen log file {handler.baseFilename!r}: {error}\n")
    finally:
        handler.release()


class WSGIErrors:
    """``environ['wsgi.errors']``: a text stream writing to wherever the error log goes.

    The target streams are those of the ``gunicorn.error`` handlers (stderr when errorlog is
    ``-``, the log file otherwise, plus any stream handler a logging configuration added),
    looked up on every write so that reopened log files are followed. Each write is flushed.
    """

    def __init__(self, cfg: Any = None) -> None:
        self._use_stderr = cfg is not None and getattr(cfg, "errorlog", None) == "-"

    def _streams(self) -> list[TextIO]:
        streams: list[TextIO] = [sys.stderr] if self._use_stderr else []
        for handler in error_logger().handlers:
            if self._use_stderr and getattr(handler, _OURS, False):
                continue  # our stderr handler: already covered by sys.stderr
            stream = getattr(handler, "stream", None)
            if stream is not None and all(stream is not s for s in streams):
                streams.append(stream)
        return streams or [sys.stderr]

    def write(self, data: str) -> int:
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data).decode("utf-8", "replace")
        for stream in self._streams():
            stream.write(data)
            stream.flush()
        return len(data)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        for stream in self._streams():
            stream.flush()
