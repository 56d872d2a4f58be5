"""``logger_class``: gunicorn's default Logger, our equivalent of it, or a user's subclass of it.

gunicorn builds its logger as ``logger_class(cfg)`` and then calls ``setup(cfg)``, ``info()``,
``error()``, ``reopen_files()``, ..., and ``access(resp, req, environ, request_time)`` once per
request. What people write in practice is a subclass of ``gunicorn.glogging.Logger`` that
changes ``setup`` (their own handlers or formats) or the access line (``access``, ``atoms``,
``now``). That is what runs here, when gunicorn is installed: the class is instantiated with
our Config (it has every attribute gunicorn's Logger reads). Anything else is refused.

The access line of such a class is formatted by the class itself only when it changes how
(then it costs a Python call per request, as in gunicorn); otherwise the C++ worker formats it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from monoceros.config import ConfigError

__all__ = [
    "BUILTIN_NAMES",
    "AccessThroughLogger",
    "formats_access_itself",
    "instantiate_logger_class",
    "load_logger_class",
    "logger_class_refusal",
]

# Names meaning "the built-in logging": gunicorn's default (and its "simple" alias) and ours.
BUILTIN_NAMES = frozenset(
    {"gunicorn.glogging.Logger", "simple", "egg:gunicorn#simple", "monoceros.logging.Logger"}
)
_BUILTIN_CLASSES = {("gunicorn.glogging", "Logger"), ("monoceros.logging", "Logger")}
_LABEL = "setting 'logger_class' (--logger-class)"
# What a subclass may override to change the access line.
_ACCESS_FORMATTING = ("access", "atoms", "now", "atoms_wrapper_class")


def load_logger_class(cfg: Any) -> type | None:
    """None for the built-in logging; else the user's subclass of gunicorn's Logger.
    Raises ConfigError (one line) for a class monoceros cannot run."""
    value = cfg.logger_class
    if isinstance(value, str):
        if value in BUILTIN_NAMES:
            return None
        cls = _import_class(value)
    else:
        cls = value
    if (getattr(cls, "__module__", None), getattr(cls, "__qualname__", None)) in _BUILTIN_CLASSES:
        return None
    name = _name_of(cls)
    base = _gunicorn_logger()
    if base is None:
        raise ConfigError(
            f"{_LABEL}: {name!r} is not supported: monoceros runs a custom logger class only "
            "as a subclass of gunicorn.glogging.Logger, and gunicorn is not installed"
        )
    if not (inspect.isclass(cls) and issubclass(cls, base)):
        raise ConfigError(
            f"{_LABEL}: {name!r} is not supported: monoceros runs a custom logger class only "
            "as a subclass of gunicorn.glogging.Logger"
        )
    return cls


def logger_class_refusal(cfg: Any) -> str | None:
    """The refusal checked with the other settings, or None. Only what is known before
    ``chdir`` and ``pythonpath`` apply: a class named by a dotted path is imported (and
    checked) later, by ``load_logger_class``, from where gunicorn would import it."""
    value = cfg.logger_class
    if isinstance(value, str) and value not in BUILTIN_NAMES and _gunicorn_logger() is None:
        return (
            f"{_LABEL}: {value!r} is not supported: monoceros runs a custom logger class only "
            "as a subclass of gunicorn.glogging.Logger, and gunicorn is not installed"
        )
    if not isinstance(value, str):
        try:
            load_logger_class(cfg)
        except ConfigError as error:
            return str(error)
    return None


def instantiate_logger_class(cls: type, cfg: Any) -> Any:
    try:
        return cls(cfg)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"{_LABEL}: {_name_of(cls)}(cfg) failed: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())}"
        ) from exc


def formats_access_itself(logger: Any) -> bool:
    """Whether a gunicorn Logger subclass changes how access lines are made."""
    base = _gunicorn_logger()
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
        from monoceros.hooks import Request, Response

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


def _import_class(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"invalid value for {_LABEL}: {path!r} is not a dotted class path")
    import importlib

    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except Exception as exc:
        raise ConfigError(
            f"invalid value for {_LABEL}: class {path!r} could not be imported "
            f"({type(exc).__name__}: {exc})"
        ) from None


def _gunicorn_logger() -> type | None:
    try:
        from gunicorn.glogging import Logger
    except Exception:
        return None
    return Logger


def _name_of(cls: Any) -> str:
    if inspect.isclass(cls):
        return f"{cls.__module__}.{cls.__qualname__}"
    return repr(cls)
