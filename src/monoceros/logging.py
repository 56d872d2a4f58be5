"""gunicorn-compatible logging: the ``gunicorn.error`` and ``gunicorn.access`` loggers.

The names, formats and destinations are gunicorn's, so that existing logging configurations
and log parsers keep working:

- ``gunicorn.error``: ``%(asctime)s [%(process)d] [%(levelname)s] %(message)s`` with dates as
  ``[%Y-%m-%d %H:%M:%S %z]``, to stderr (``errorlog = "-"``) or appended to a file, at the
  level named by ``loglevel``.
- ``gunicorn.access``: ``%(message)s`` (the line is formatted beforehand from
  ``access_log_format``), to stdout (``accesslog = "-"``), to a file, or nowhere (None).

Neither logger propagates to the root logger.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from monoceros.config import LOG_LEVELS, ConfigError

__all__ = [
    "ACCESS_LOGGER",
    "ACCESS_LOG_FORMAT",
    "ERROR_LOGGER",
    "ERROR_LOG_DATEFMT",
    "ERROR_LOG_FORMAT",
    "WSGIErrors",
    "access_logger",
    "error_logger",
    "reopen_files",
    "setup_logging",
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


def error_logger() -> logging.Logger:
    return logging.getLogger(ERROR_LOGGER)


def access_logger() -> logging.Logger:
    return logging.getLogger(ACCESS_LOGGER)


def _open_handler(target: str, stream: TextIO, setting: str) -> logging.Handler:
    if target == "-":
        handler: logging.Handler = logging.StreamHandler(stream)
    else:
        try:
            handler = logging.FileHandler(target, mode="a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"invalid value for '{setting}': cannot open {target!r} for appending "
                f"({exc.strerror or exc})"
            ) from exc
    setattr(handler, _OURS, True)
    return handler


def _drop_our_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, _OURS, False):
            logger.removeHandler(handler)
            handler.close()


def setup_logging(cfg: Any) -> None:
    """Install the error and access handlers described by ``cfg`` (errorlog, loglevel,
    accesslog). Calling it again replaces the handlers it installed before.
    Raises ConfigError when a log file cannot be opened."""
    errors = error_logger()
    access = access_logger()
    # Open the new files first, so that a failure leaves the previous setup in place.
    error_handler = _open_handler(cfg.errorlog, sys.stderr, "errorlog")
    try:
        access_handler = (
            None if cfg.accesslog is None else _open_handler(cfg.accesslog, sys.stdout, "accesslog")
        )
    except ConfigError:
        error_handler.close()
        raise

    _drop_our_handlers(errors)
    error_handler.setFormatter(logging.Formatter(ERROR_LOG_FORMAT, ERROR_LOG_DATEFMT))
    errors.addHandler(error_handler)
    errors.setLevel(LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO))
    errors.propagate = False

    _drop_our_handlers(access)
    if access_handler is None:
        access.setLevel(_DISABLED)
    else:
        access_handler.setFormatter(logging.Formatter(ACCESS_LOG_FORMAT))
        access.addHandler(access_handler)
        access.setLevel(logging.INFO)
    access.propagate = False


def reopen_files() -> None:
    """Reopen the log files (after log rotation, on SIGUSR1)."""
    for logger in (error_logger(), access_logger()):
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler):
                continue
            handler.acquire()
            try:
                if handler.stream is not None:
                    handler.stream.flush()
                    handler.stream.close()
                handler.stream = open(  # noqa: SIM115 -- owned by the handler
                    handler.baseFilename, handler.mode, encoding=handler.encoding
                )
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
