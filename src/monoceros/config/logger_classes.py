"""Which ``logger_class`` values monoceros can run: loading the class, and checking it.

The class is checked with the other settings (``support``) and loaded by ``monoceros.logging``;
running it (instantiating it, its access lines) is ``monoceros.logger_class``'s job.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

from monoceros.config.setting import ConfigError

if TYPE_CHECKING:
    from monoceros.config.model import Config

__all__ = [
    "BUILTIN_NAMES",
    "LOGGER_CLASS_LABEL",
    "gunicorn_logger",
    "load_logger_class",
    "logger_class_refusal",
    "qualified_name",
]

# Names meaning "the built-in logging": gunicorn's default (and its "simple" alias) and ours.
BUILTIN_NAMES = frozenset(
    {"gunicorn.glogging.Logger", "simple", "egg:gunicorn#simple", "monoceros.logging.Logger"}
)
_BUILTIN_CLASSES = {("gunicorn.glogging", "Logger"), ("monoceros.logging", "Logger")}
LOGGER_CLASS_LABEL = "setting 'logger_class' (--logger-class)"


def load_logger_class(cfg: Config) -> type | None:
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
    name = qualified_name(cls)
    base = gunicorn_logger()
    if base is None:
        raise ConfigError(
            f"{LOGGER_CLASS_LABEL}: {name!r} is not supported: monoceros runs a custom logger "
            "class only as a subclass of gunicorn.glogging.Logger, and gunicorn is not installed"
        )
    if not (inspect.isclass(cls) and issubclass(cls, base)):
        raise ConfigError(
            f"{LOGGER_CLASS_LABEL}: {name!r} is not supported: monoceros runs a custom logger "
            "class only as a subclass of gunicorn.glogging.Logger"
        )
    return cls


def logger_class_refusal(cfg: Config) -> str | None:
    """The refusal checked with the other settings, or None. Only what is known before
    ``chdir`` and ``pythonpath`` apply: a class named by a dotted path is imported (and
    checked) later, by ``load_logger_class``, from where gunicorn would import it."""
    value = cfg.logger_class
    if isinstance(value, str) and value not in BUILTIN_NAMES and gunicorn_logger() is None:
        return (
            f"{LOGGER_CLASS_LABEL}: {value!r} is not supported: monoceros runs a custom logger "
            "class only as a subclass of gunicorn.glogging.Logger, and gunicorn is not installed"
        )
    if not isinstance(value, str):
        try:
            load_logger_class(cfg)
        except ConfigError as error:
            return str(error)
    return None


def _import_class(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ConfigError(
            f"invalid value for {LOGGER_CLASS_LABEL}: {path!r} is not a dotted class path"
        )
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except Exception as exc:
        raise ConfigError(
            f"invalid value for {LOGGER_CLASS_LABEL}: class {path!r} could not be imported "
            f"({type(exc).__name__}: {exc})"
        ) from None


def gunicorn_logger() -> type | None:
    """gunicorn's Logger class, the base every custom logger class must have; None when
    gunicorn is not installed."""
    try:
        from gunicorn.glogging import Logger
    except Exception:
        return None
    return Logger


def qualified_name(cls: Any) -> str:
    """``module.QualifiedName`` of a class (the repr of anything else), for messages."""
    if inspect.isclass(cls):
        return f"{cls.__module__}.{cls.__qualname__}"
    return repr(cls)
