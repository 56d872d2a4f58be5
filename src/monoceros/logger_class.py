"""``logger_class``: gunicorn's default Logger, our equivalent of it, or a user's subclass of it.

gunicorn builds its logger as ``logger_class(cfg)`` and then calls ``setup(cfg)``, ``info()``,
``error()``, ``reopen_files()``, ..., and ``access(resp, req, environ, request_time)`` once per
request. What people write in practice is a subclass of ``gunicorn.glogging.Logger`` that
changes ``setup`` (their own handlers or formats) or the access line (``access``, ``atoms``,
``now``). That is what runs here, when gunicorn is installed: the class is instantiated with
our Config (it has every attribute gunicorn's Logger reads). Anything else is refused; which
classes can run is decided with the other settings, in ``monoceros.config.logger_classes``.

The access line of such a class is formatted by the class itself only when it changes how
(then it costs a Python call per request, as in gunicorn); otherwise the C++ worker formats it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from monoceros.config import ConfigError
from monoceros.config.logger_classes import LOGGER_CLASS_LABEL, gunicorn_logger, qualified_name
from monoceros.hooks import Request, Response

__all__ = ["AccessThroughLogger", "formats_access_itself", "instantiate_logger_class"]

# What a subclass may override to change the access line.
_ACCESS_FORMATTING = ("access", "atoms", "now", "atoms_wrapper_class")


def instantiate_logger_class(cls: type, cfg: Any) -> Any:
    try:
        return cls(cfg)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"{LOGGER_CLASS_LABEL}: {qualified_name(cls)}(cfg) failed: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())}"
        ) from exc


def formats_access_itself(logger: Any) -> bool:
    """Whether a gunicorn Logger subclass changes how access lines are made."""
    base = gunicorn_logger()
    if base is None or not isinstance(logger, base):
        return False
    cls = type(logger)
    return any(getattr(cls, name) is not getattr(base, name) for name in _ACCESS_FORMATTING)


class AccessThroughLogger:
    """Per-request callables for the C++ worker that hand each request to
    ``logger.access(resp, req, environ, request_time)``, around the user's request hooks.
    As in gunicorn, the clock starts before ``pre_request`` and the access line is logged
    before ``post_request`` runs."""

    def __init__(
        self,
        logger: Any,
        pre_request: Callable[[dict], Any] | None,
        post_request: Callable[..., Any] | None,
    ) -> None:
        self.logger = logger
        self.hook_pre_request = pre_request
        self.hook_post_request = post_request
        self._started: dict[int, datetime] = {}

    def pre_request(self, environ: dict) -> None:
        self._started[id(environ)] = datetime.now()
        if self.hook_pre_request is not None:
            self.hook_pre_request(environ)

    def post_request(
        self,
        environ: dict,
        status: str | None,
        headers: list[tuple[str, str]],
        sent: int,
        response_length: int | None,
    ) -> None:
        now = datetime.now()
        started = self._started.pop(id(environ), now)
        request = Request(environ)
        response = Response(status, headers, sent, response_length, request.version)
        try:
            self.logger.access(response, request, environ, now - started)
        except Exception:
            self.logger.exception("Exception in the access() of the logger class")
        if self.hook_post_request is not None:
            self.hook_post_request(environ, status, headers, sent, response_length)
