"""The user's own logging configuration: ``logconfig_dict``, ``logconfig_json``, ``logconfig``.

It is applied as gunicorn applies it, after the handlers of errorlog, accesslog and syslog are
in place, and only the first of these three that is set: a dict, a JSON file, an ini file.

A dict or JSON configuration is merged into ``DEFAULTS`` one top-level key at a time, so a
configuration that names ``loggers`` replaces all of the default loggers, and one that leaves
``root`` out keeps the default root logger (INFO, to stdout). Under the defaults both gunicorn
loggers propagate to that root logger, so their lines show twice, exactly as with gunicorn.
"""

from __future__ import annotations

import copy
import json
import logging.config
import os
from typing import Any

from monoceros.config import ConfigError

__all__ = ["DEFAULTS", "apply_user_logging_config", "has_user_logging_config"]

_GENERIC_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
_GENERIC_DATEFMT = "[%Y-%m-%d %H:%M:%S %z]"

# What gunicorn merges a logconfig_dict into (glogging.CONFIG_DEFAULTS, same values).
DEFAULTS: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["error_console"],
            "propagate": True,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["console"],
            "propagate": True,
            "qualname": "gunicorn.access",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "stream": "ext://sys.stderr",
        },
    },
    "formatters": {
        "generic": {
            "format": _GENERIC_FORMAT,
            "datefmt": _GENERIC_DATEFMT,
            "class": "logging.Formatter",
        }
    },
}


def has_user_logging_config(cfg: Any) -> bool:
    return bool(cfg.logconfig_dict or cfg.logconfig_json or cfg.logconfig)


def apply_user_logging_config(cfg: Any) -> None:
    """Apply the first of logconfig_dict, logconfig_json and logconfig that is set.
    Raises ConfigError (one line) when it cannot be read or applied."""
    if cfg.logconfig_dict:
        _apply_dict(cfg.logconfig_dict, "'logconfig_dict'")
    elif cfg.logconfig_json:
        _apply_dict(_read_json(cfg.logconfig_json), "'logconfig_json' (--log-config-json)")
    elif cfg.logconfig:
        _apply_ini(cfg.logconfig)


def _apply_dict(user: dict[str, Any], label: str) -> None:
    merged = copy.deepcopy(DEFAULTS)  # dictConfig may alter what it is given
    merged.update(user)
    try:
        logging.config.dictConfig(merged)
    except Exception as exc:
        raise ConfigError(f"invalid value for {label}: {_reason(exc)}") from exc


def _read_json(path: str) -> dict[str, Any]:
    label = "invalid value for 'logconfig_json' (--log-config-json)"
    try:
        with open(path, encoding="utf-8") as file:
            loaded = json.load(file)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read {path!r} ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{label}: {path!r} is not valid JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{label}: {path!r} does not hold a JSON object")
    return loaded


def _apply_ini(path: str) -> None:
    """``logging.config.fileConfig`` over the handlers already set: loggers the file does not
    name keep theirs; ``%(here)s`` is the file's directory and ``%(__file__)s`` the file."""
    label = "invalid value for 'logconfig' (--log-config)"
    if not os.path.exists(path):
        raise ConfigError(f"{label}: log config {path!r} not found")
    defaults = {"__file__": path, "here": os.path.dirname(path)}
    try:
        logging.config.fileConfig(path, defaults=defaults, disable_existing_loggers=False)
    except Exception as exc:
        raise ConfigError(
            f"{label}: cannot configure logging from {path!r}: {_reason(exc)}"
        ) from exc


def _reason(exc: BaseException) -> str:
    """One line: dictConfig chains the real cause ("Unable to configure handler 'x'")."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    if cause is not None and str(cause) not in text:
        text += f" ({type(cause).__name__}: {cause})"
    return " ".join(text.split())
