"""Validators of setting values. Each returns the normalised value or raises _Invalid(reason)."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from monoceros.config.address import parse_address
from monoceros.config.setting import ConfigError, Validator, _Invalid

if TYPE_CHECKING:
    from monoceros.config.model import Config

# The names loglevel accepts, and their ``logging`` levels.
LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def _string(value: Any, cfg: Config) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("is not a string")
    return value.strip()


def _int(value: Any, cfg: Config) -> int:
    """A non-negative integer. Strings are read with Python's literal prefixes (0x, 0o, 0b)."""
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            raise _Invalid("is not an integer") from None
    elif isinstance(value, int):
        value = int(value)  # bool and IntEnum become plain ints
    else:
        raise _Invalid("is not an integer")
    if value < 0:
        raise _Invalid("is negative (expected 0 or more)")
    return value


def _octal_text(text: str) -> int:
    """Command-line integers where a leading zero means octal: ``022`` == ``0o22``."""
    text = text.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        text = text.replace("0", "0o", 1)
    return int(text, 0)


def _octal_int(value: Any, cfg: Config) -> int:
    """Like _int, but a string with a leading zero is octal (for umask and file modes)."""
    if isinstance(value, str):
        try:
            value = _octal_text(value)
        except ValueError:
            raise _Invalid("is not an integer (octal like 022 or 0o22 is accepted)") from None
    return _int(value, cfg)


def _bool(value: Any, cfg: Config) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "true":
            return True
        if word == "false":
            return False
    raise _Invalid("is not a boolean (expected true or false)")


def _dict(value: Any, cfg: Config) -> dict:
    if not isinstance(value, dict):
        raise _Invalid("is not a dict")
    return value


def _string_list(value: Any, cfg: Config) -> list[str]:
    """A list of strings; a single string is a one-element list (gunicorn's legacy form)."""
    if not value:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _Invalid("is not a list of strings")
    return [v.strip() for v in value]


def _comma_list(value: Any, cfg: Config) -> list[str]:
    """A comma-separated string (a list of strings is accepted too); empty items are dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise _Invalid("is not a comma-separated string")
    return [item.strip() for item in items if item.strip()]


def _ip_list(value: Any, cfg: Config) -> list[str]:
    """Comma-separated IP addresses and CIDR networks (host bits must be zero), or ``*``."""
    items = _comma_list(value, cfg)
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item)
        except ValueError:
            if len(items) == 1:
                raise _Invalid("is not an IP address or network (with zero host bits)") from None
            raise _Invalid(f"contains {item!r}, which is not an IP address or network") from None
    return items


def _raw_env(value: Any, cfg: Config) -> list[str]:
    items = _string_list(value, cfg)
    for item in items:
        if "=" not in item:
            raise _Invalid(f"contains {item!r}, which is not of the form KEY=VALUE")
    return items


def _choice(*choices: str, aliases: Mapping[Any, str] | None = None, if_none: str | None = None):
    """A word from ``choices`` (case-insensitive), or an alias mapped onto one."""
    table = {c: c for c in choices} | dict(aliases or {})

    def validate(value: Any, cfg: Config) -> str | None:
        if value is None:
            return if_none
        if isinstance(value, bool) and value in table:
            return table[value]
        if isinstance(value, str):
            word = value.strip().lower()
            if word in table:
                return table[word]
        raise _Invalid(f"is not one of: {', '.join(choices)}")

    return validate


def _loglevel(value: Any, cfg: Config) -> str:
    # gunicorn silently falls back to "info" for an unknown level; we refuse it instead.
    text = _string(value, cfg)
    if text is None or text.lower() not in LOG_LEVELS:
        raise _Invalid(f"is not one of: {', '.join(LOG_LEVELS)}")
    return text


def _class_or_name(value: Any, cfg: Config) -> Any:
    """A dotted class path, a class, or a function returning one (worker and logger classes)."""
    if inspect.isfunction(value) or inspect.ismethod(value):
        value = value()
    if inspect.isclass(value):
        return value
    return _string(value, cfg)


def _import_dotted(path: str) -> Any:
    module_name, sep, attr = path.rpartition(".")
    if not sep or not module_name or not attr:
        raise _Invalid("is not a dotted import path such as 'package.module.function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Invalid(f"could not be imported ({exc})") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise _Invalid(f"could not be imported (module {module_name!r} has no {attr!r})") from None


def _positional_count(fn: Callable) -> int:
    """How many positional parameters ``fn`` declares (defaults count, *args does not)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        raise _Invalid("has no inspectable signature") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in signature.parameters.values() if p.kind in kinds)


def _callable_value(value: Any) -> Callable:
    if isinstance(value, str):
        value = _import_dotted(value)
    if not callable(value):
        raise _Invalid("is not callable")
    return value


def _hook(arity: int) -> Validator:
    """A server hook: a callable (or dotted path to one) taking exactly ``arity`` positionals."""

    def validate(value: Any, cfg: Config) -> Callable:
        fn = _callable_value(value)
        count = _positional_count(fn)
        if count != arity:
            raise _Invalid(f"takes {count} positional arguments; the hook is called with {arity}")
        return fn

    return validate


def _post_request_hook(value: Any, cfg: Config) -> Callable:
    """post_request may take (worker, req), (worker, req, environ) or all four arguments;
    shorter forms are wrapped so that callers always pass four."""
    fn = _callable_value(value)
    count = _positional_count(fn)
    if count == 4:
        return fn
    if count == 3:
        return lambda worker, req, environ, resp: fn(worker, req, environ)
    if count == 2:
        return lambda worker, req, environ, resp: fn(worker, req)
    raise _Invalid(f"takes {count} positional arguments; the hook accepts 2, 3 or 4")


def _account(lookup: Callable[[str], int], what: str) -> Validator:
    def validate(value: Any, cfg: Config) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"is not a {what} name or id")
        if isinstance(value, str) and value.strip().removeprefix("-").isdigit():
            value = int(value)
        if isinstance(value, int):
            # (uid_t)-1 means "no change" to the kernel, so it is no id.
            if not 0 <= value < 2**32 - 1:
                raise _Invalid(f"is not a valid {what} id (0 to 4294967294)")
            return int(value)
        if not isinstance(value, str):
            raise _Invalid(f"is not a {what} name or id")
        try:
            return lookup(value)
        except KeyError:
            raise _Invalid(f"is not a known {what}") from None

    return validate


def _uid_of(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def _gid_of(name: str) -> int:
    import grp

    return grp.getgrnam(name).gr_gid


def _directory(value: Any, cfg: Config) -> str:
    """An existing directory; a relative path is taken from the start directory."""
    text = _string(value, cfg)
    if text is None:
        raise _Invalid("is not a string")
    path = os.path.abspath(os.path.join(cfg.cwd, text))
    if not os.path.isdir(path):
        raise _Invalid("is not an existing directory")
    return path


def _files_or_patterns(value: Any, cfg: Config) -> list[str]:
    """Existing files, or glob patterns (kept unexpanded, they may match nothing yet)."""
    items = _string_list(value, cfg)
    for item in items:
        is_pattern = any(ch in item for ch in "*?[")
        if not is_pattern and not os.path.exists(os.path.join(cfg.cwd, item)):
            raise _Invalid(f"contains {item!r}, which does not exist")
    return items


def _statsd_address(value: Any, cfg: Config) -> Any:
    """``HOST[:PORT]`` (port 8125) or ``unix:PATH``; stored in gunicorn's parsed form."""
    text = _string(value, cfg)
    if text is None:
        return None
    rest = text[len("unix:") :]
    if text.startswith("unix:") and rest.isdigit():
        return ("unix", int(rest))  # gunicorn keeps this pre-20.0 reading of "unix:PORT"
    try:
        address = parse_address(text, default_port=8125)
    except ConfigError:
        raise _Invalid("is not 'HOST:PORT' or 'unix://PATH'") from None
    if address.kind == "unix":
        return address.path
    if address.kind == "fd":
        raise _Invalid("is not 'HOST:PORT' or 'unix://PATH'")
    return (address.host, address.port)


def _keep(value: Any, cfg: Config) -> Any:
    """Accepted as is (gunicorn ignores ssl_version entirely)."""
    return value


def _http_protocols(value: Any, cfg: Config) -> list[str]:
    if value is None:
        return ["h1"]
    if not isinstance(value, str):
        raise _Invalid("is not a string")
    protocols = [p.strip().lower() for p in value.split(",") if p.strip()]
    if not protocols:
        return ["h1"]
    for proto in protocols:
        if proto not in ("h1", "h2"):
            raise _Invalid(f"names {proto!r}; the choices are h1 and h2")
    if len(set(protocols)) != len(protocols):
        raise _Invalid("lists a protocol twice")
    return protocols


def _int_or_none(value: Any, cfg: Config) -> int | None:
    """A non-negative integer, or None (the setting's automatic value)."""
    return None if value is None else _int(value, cfg)


def _int_between(low: int, high: int) -> Validator:
    def validate(value: Any, cfg: Config) -> int:
        number = _int(value, cfg)
        if not low <= number <= high:
            raise _Invalid(f"is outside {low}..{high}")
        return number

    return validate


def _reload_engine(value: Any, cfg: Config) -> str:
    if value not in ("auto", "poll", "inotify"):
        raise _Invalid("is not one of: auto, poll, inotify")
    return value
