"""The settings table, the command-line parser built from it, and configuration loading.

Every gunicorn setting is one row of ``SETTINGS`` (same names, flags, defaults and validation
rules as gunicorn, in gunicorn's declaration order), plus monoceros' own extensions at the end.
``load_config`` merges the sources in gunicorn's order of precedence::

    defaults (some read from the environment)
      < config file (-c PATH | file:PATH | python:MODULE, or ./gunicorn.conf.py)
      < GUNICORN_CMD_ARGS
      < command line

Settings that monoceros does not implement yet are accepted as long as they keep their default
value; any other value is refused at startup with a one-line message naming the setting.

Nothing here imports the C++ extension: this module must stay importable on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.machinery
import importlib.util
import inspect
import ipaddress
import os
import shlex
import ssl
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

__all__ = [
    "SECTIONS",
    "SETTINGS",
    "SETTINGS_BY_NAME",
    "Address",
    "Config",
    "ConfigError",
    "Setting",
    "build_parser",
    "load_config",
    "monoceros_version",
    "parse_address",
    "render_settings_markdown",
]


class ConfigError(Exception):
    """A configuration problem. ``str(error)`` is one readable line without an "Error:" prefix;
    the command line prints it as ``Error: <message>``, as gunicorn does."""


class _Invalid(ValueError):
    """Raised by validators. ``reason`` completes the sentence "<value> ...",
    e.g. "is not an integer"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A validator receives the raw value and the Config being filled (for the start directory and
# the environment) and returns the normalised value, or raises _Invalid.
Validator = Callable[[Any, "Config"], Any]
# A default factory computes a default from the environment and the start directory.
DefaultFactory = Callable[[Mapping[str, str], str], Any]


@dataclasses.dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    ``action`` says how the command-line flags behave:
      value    -- takes one argument (``--workers 4``)
      flag     -- takes none and stores True (``--preload``)
      const    -- takes none and stores ``const`` (``--no-sendfile`` stores False)
      append   -- takes one argument, may repeat, collects a list (``-b A -b B``)
      optional -- takes zero or one argument; alone it stores ``const`` (``--proxy-protocol``)
    """

    name: str
    section: str
    flags: tuple[str, ...]
    _: dataclasses.KW_ONLY
    help: str
    validator: Validator
    default: Any = None
    default_factory: DefaultFactory | None = None
    default_doc: str | None = None
    action: str = "value"
    metavar: str | None = None
    const: Any = None
    cli_type: Callable[[str], Any] | None = None
    supported: bool = False
    extension: bool = False

    @property
    def label(self) -> str:
        """``'workers' (--workers)``: how messages name the setting."""
        flag = self.long_flag
        return f"'{self.name}' ({flag})" if flag else f"'{self.name}'"

    @property
    def long_flag(self) -> str | None:
        for flag in self.flags:
            if flag.startswith("--"):
                return flag
        return self.flags[0] if self.flags else None

    def compute_default(self, environ: Mapping[str, str], cwd: str) -> Any:
        if self.default_factory is not None:
            return self.default_factory(environ, cwd)
        return self.default


# ----------------------------------------------------------------------------------------------
# Validators. Each returns the normalised value or raises _Invalid(reason).


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


def _worker_class_name(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


# ----------------------------------------------------------------------------------------------
# Defaults that depend on the environment or the machine.


def _default_bind(environ: Mapping[str, str], cwd: str) -> list[str]:
    if "PORT" in environ:
        return [f"0.0.0.0:{environ['PORT']}"]
    return ["127.0.0.1:8000"]


def _default_workers(environ: Mapping[str, str], cwd: str) -> Any:
    text = environ.get("WEB_CONCURRENCY")
    if text is None:
        return 1
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"invalid value for 'workers' (from WEB_CONCURRENCY): {text!r} is not an integer"
        ) from None


def _default_chdir(environ: Mapping[str, str], cwd: str) -> str:
    return cwd


def _default_uid(environ: Mapping[str, str], cwd: str) -> int:
    return os.geteuid()


def _default_gid(environ: Mapping[str, str], cwd: str) -> int:
    return os.getegid()


def _default_forwarded_allow_ips(environ: Mapping[str, str], cwd: str) -> str:
    return environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def _default_syslog_addr(environ: Mapping[str, str], cwd: str) -> str:
    if sys.platform == "darwin":
        return "unix:///var/run/syslog"
    if sys.platform.startswith(("freebsd", "dragonfly")):
        return "unix:///var/run/log"
    if sys.platform.startswith("openbsd"):
        return "unix:///dev/log"
    return "udp://localhost:514"


def _default_control_socket(environ: Mapping[str, str], cwd: str) -> str:
    runtime_dir = environ.get("XDG_RUNTIME_DIR")
    if runtime_dir and os.path.isdir(runtime_dir):
        return os.path.join(runtime_dir, "gunicorn.ctl")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".gunicorn", "gunicorn.ctl")


# Default hooks: they do nothing (pre_request logs at debug level, ssl_context builds the
# default context). Their parameter counts define what a user hook must accept.


def on_starting(server):
    pass


def on_reload(server):
    pass


def when_ready(server):
    pass


def pre_fork(server, worker):
    pass


def post_fork(server, worker):
    pass


def post_worker_init(worker):
    pass


def worker_int(worker):
    pass


def worker_abort(worker):
    pass


def pre_exec(server):
    pass


def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)


def post_request(worker, req, environ, resp):
    pass


def child_exit(server, worker):
    pass


def worker_exit(server, worker):
    pass


def nworkers_changed(server, new_value, old_value):
    pass


def on_exit(server):
    pass


def ssl_context(config, default_ssl_context_factory):
    return default_ssl_context_factory()


def on_dirty_starting(arbiter):
    pass


def dirty_post_fork(arbiter, worker):
    pass


def dirty_worker_init(worker):
    pass


def dirty_worker_exit(arbiter, worker):
    pass


# ----------------------------------------------------------------------------------------------
# The table.

LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}

CONFIG_FILE = "Config File"
SOCKET = "Server Socket"
WORKERS = "Worker Processes"
SECURITY = "Security"
DEBUGGING = "Debugging"
MECHANICS = "Server Mechanics"
LOGGING = "Logging"
NAMING = "Process Naming"
HOOKS = "Server Hooks"
TLS = "SSL"
HTTP2 = "HTTP/2"
DIRTY = "Dirty Arbiters"
DIRTY_HOOKS = "Dirty Arbiter Hooks"
CONTROL = "Control"

_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _flag(name: str, section: str, flags: tuple[str, ...], help: str, **kw: Any) -> Setting:
    """A boolean switch (``store_true``)."""
    kw.setdefault("default", False)
    return Setting(name, section, flags, help=help, validator=_bool, action="flag", **kw)


def _number(name: str, section: str, flags: tuple[str, ...], default: int, help: str, **kw):
    """A non-negative integer option (parsed as a decimal on the command line)."""
    kw.setdefault("validator", _int)
    kw.setdefault("cli_type", int)
    kw.setdefault("metavar", "INT")
    return Setting(name, section, flags, help=help, default=default, **kw)


def _text(name: str, section: str, flags: tuple[str, ...], default: Any, help: str, **kw):
    """A string option."""
    kw.setdefault("validator", _string)
    return Setting(name, section, flags, help=help, default=default, **kw)


# Every server hook is called (monoceros.hooks) except ssl_context, which comes with TLS; the
# dirty-arbiter hooks come with dirty arbiters.
_HOOKS_NOT_CALLED_YET = frozenset({"ssl_context"})


def _hook_row(name: str, section: str, fn: Callable, help: str, **kw: Any) -> Setting:
    arity = _positional_count(fn)
    params = ", ".join(inspect.signature(fn).parameters)
    validator = kw.pop("validator", _hook(arity))
    kw.setdefault("default_doc", "no-op")
    kw.setdefault("supported", section == HOOKS and name not in _HOOKS_NOT_CALLED_YET)
    return Setting(
        name,
        section,
        (),
        help=f"`{name}({params})`: {help}",
        validator=validator,
        default=fn,
        **kw,
    )


SETTINGS: tuple[Setting, ...] = (
    # -- Config File ---------------------------------------------------------------------------
    _text(
        "config",
        CONFIG_FILE,
        ("-c", "--config"),
        "./gunicorn.conf.py",
        "Configuration file to read: a path, `file:PATH`, or `python:MODULE` to import a "
        "module. Without it, `./gunicorn.conf.py` is read when it exists.",
        metavar="CONFIG",
        supported=True,
    ),
    _text(
        "wsgi_app",
        CONFIG_FILE,
        (),
        None,
        "The WSGI application as `module:callable`, for use in a config file; an APP_MODULE "
        "given on the command line wins over it.",
        metavar="STRING",
        supported=True,
    ),
    # -- Server Socket -------------------------------------------------------------------------
    Setting(
        "bind",
        SOCKET,
        ("-b", "--bind"),
        help="Address to listen on; repeat the flag to listen on several. Forms: `HOST`, "
        "`HOST:PORT`, `[IPv6]:PORT`, `tcp://HOST:PORT`, `unix:PATH`, `fd://N`.",
        validator=_string_list,
        default_factory=_default_bind,
        default_doc="`['127.0.0.1:8000']`, or `['0.0.0.0:$PORT']` when `PORT` is set",
        action="append",
        metavar="ADDRESS",
        supported=True,
    ),
    _number(
        "backlog",
        SOCKET,
        ("--backlog",),
        2048,
        "Length of the queue of connections waiting to be accepted (the listen() backlog).",
        supported=True,
    ),
    # -- Worker Processes ----------------------------------------------------------------------
    _number(
        "workers",
        WORKERS,
        ("-w", "--workers"),
        1,
        "Number of worker processes serving requests.",
        default_factory=_default_workers,
        default_doc="`$WEB_CONCURRENCY`, or `1` when unset",
        supported=True,
    ),
    _text(
        "worker_class",
        WORKERS,
        ("-k", "--worker-class"),
        "sync",
        "Kind of worker process: `sync` (gunicorn's: one request per connection, then "
        "close), `gthread` (gunicorn's: keep-alive, the app run on `threads` threads while "
        "one event loop reads requests and writes responses) or `event` (monoceros': one "
        "thread, keep-alive and pipelining, the app called as soon as a request is complete).",
        validator=_class_or_name,
        metavar="STRING",
        supported=True,
    ),
    _number(
        "threads",
        WORKERS,
        ("--threads",),
        1,
        "Threads per worker; above 1 a `sync` worker turns into a `gthread` worker.",
        supported=True,
    ),
    _number(
        "worker_connections",
        WORKERS,
        ("--worker-connections",),
        1000,
        "Upper bound on simultaneous client connections per worker (threaded and async workers).",
        supported=True,
    ),
    _number(
        "max_requests",
        WORKERS,
        ("--max-requests",),
        0,
        "Replace a worker after it has served this many requests; 0 never replaces it.",
        supported=True,
    ),
    _number(
        "max_requests_jitter",
        WORKERS,
        ("--max-requests-jitter",),
        0,
        "Add a random number between 0 and this value to max_requests for each worker, so "
        "that workers are not all replaced at once.",
        supported=True,
    ),
    _number(
        "timeout",
        WORKERS,
        ("-t", "--timeout"),
        30,
        "A worker that shows no sign of life for this many seconds is killed and replaced; "
        "0 turns the check off.",
        supported=True,
    ),
    _number(
        "graceful_timeout",
        WORKERS,
        ("--graceful-timeout",),
        30,
        "Seconds a worker gets to finish its requests after being asked to stop, before it "
        "is killed.",
        supported=True,
    ),
    _number(
        "keepalive",
        WORKERS,
        ("--keep-alive",),
        2,
        "Seconds to wait for the next request on an idle keep-alive connection. The `sync` "
        "worker closes every connection after one response and so ignores it.",
        supported=True,
    ),
    # -- Security ------------------------------------------------------------------------------
    _number(
        "limit_request_line",
        SECURITY,
        ("--limit-request-line",),
        4094,
        "Longest request line accepted, in bytes; 0 means no limit and anything above 8190 "
        "counts as 8190.",
        supported=True,
    ),
    _number(
        "limit_request_fields",
        SECURITY,
        ("--limit-request-fields",),
        100,
        "Most header fields accepted in one request; 0 or more than 32768 means 32768.",
        supported=True,
    ),
    _number(
        "limit_request_field_size",
        SECURITY,
        ("--limit-request-field_size",),
        8190,
        "Longest header field accepted, in bytes; 0 means the built-in limit of 8190.",
        supported=True,
    ),
    # -- Debugging -----------------------------------------------------------------------------
    _flag(
        "reload",
        DEBUGGING,
        ("--reload",),
        "Restart workers when the application's source files change (for development).",
        supported=True,
    ),
    _text(
        "reload_engine",
        DEBUGGING,
        ("--reload-engine",),
        "auto",
        "How --reload notices changes: auto, poll or inotify.",
        validator=_reload_engine,
        metavar="STRING",
        supported=True,
    ),
    Setting(
        "reload_extra_files",
        DEBUGGING,
        ("--reload-extra-file",),
        help="Another file (or glob pattern) whose change triggers a reload; repeatable.",
        validator=_files_or_patterns,
        default=[],
        action="append",
        metavar="FILES",
        supported=True,
    ),
    _flag(
        "spew",
        DEBUGGING,
        ("--spew",),
        "Print every line of Python each worker executes (very verbose).",
        supported=True,
    ),
    _flag(
        "check_config",
        DEBUGGING,
        ("--check-config",),
        "Check the configuration and that the application loads, then exit.",
        supported=True,
    ),
    _flag(
        "print_config",
        DEBUGGING,
        ("--print-config",),
        "Print the resolved configuration, then exit as --check-config does.",
        supported=True,
    ),
    # -- Server Mechanics ----------------------------------------------------------------------
    _flag(
        "preload_app",
        MECHANICS,
        ("--preload",),
        "Import the application in the master process, before the workers are forked.",
        supported=True,
    ),
    Setting(
        "sendfile",
        MECHANICS,
        ("--no-sendfile",),
        help="Never use sendfile() for `wsgi.file_wrapper` responses. As in gunicorn, any "
        "value set explicitly (even True) turns sendfile off; left alone, the `SENDFILE` "
        "environment variable decides, and sendfile is on if that is unset too.",
        validator=_bool,
        default=None,
        default_doc="`None` (use `$SENDFILE`, else on)",
        action="const",
        const=False,
        supported=True,
    ),
    _flag(
        "reuse_port",
        MECHANICS,
        ("--reuse-port",),
        "Set SO_REUSEPORT on the listening sockets: every worker listens on a TCP socket of "
        "its own and the kernel spreads connections across them. The master only reserves "
        "each address (bound, not listening), so bind errors show at startup and port 0 "
        "means one port for all workers. Unix sockets stay shared.",
        supported=True,
    ),
    Setting(
        "chdir",
        MECHANICS,
        ("--chdir",),
        help="Directory to change into before the application is loaded.",
        validator=_directory,
        default_factory=_default_chdir,
        default_doc="the current directory",
        supported=True,
    ),
    _flag(
        "daemon",
        MECHANICS,
        ("-D", "--daemon"),
        "Detach from the terminal and keep running in the background (umask 022, standard "
        "streams on /dev/null unless enable_stdio_inheritance, working directory kept).",
        supported=True,
    ),
    Setting(
        "raw_env",
        MECHANICS,
        ("-e", "--env"),
        help="Environment variable to set for the server and the application, as "
        "`KEY=VALUE`; repeatable.",
        validator=_raw_env,
        default=[],
        action="append",
        metavar="ENV",
        supported=True,
    ),
    _text(
        "pidfile",
        MECHANICS,
        ("-p", "--pid"),
        None,
        "File to write the process id of the master to; removed at exit. A pidfile naming "
        "a running process stops the start.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "worker_tmp_dir",
        MECHANICS,
        ("--worker-tmp-dir",),
        None,
        "Directory for the workers' heartbeat files (unlinked at once); a tmpfs such as "
        "/dev/shm avoids stalls on slow disks. Unset, heartbeats live in shared memory.",
        metavar="DIR",
        supported=True,
    ),
    Setting(
        "user",
        MECHANICS,
        ("-u", "--user"),
        help="User (name or uid) the workers run as; they switch to it after the fork, "
        "before loading the app. Unix socket files and log files are given to it.",
        validator=_account(_uid_of, "user"),
        default_factory=_default_uid,
        default_doc="the effective uid of the server",
        metavar="USER",
        supported=True,
    ),
    Setting(
        "group",
        MECHANICS,
        ("-g", "--group"),
        help="Group (name or gid) the workers run as; they switch to it after the fork, "
        "before loading the app. Unix socket files and log files are given to it.",
        validator=_account(_gid_of, "group"),
        default_factory=_default_gid,
        default_doc="the effective gid of the server",
        metavar="GROUP",
        supported=True,
    ),
    _number(
        "umask",
        MECHANICS,
        ("-m", "--umask"),
        0,
        "File mode creation mask for the Unix socket files the server binds. As in gunicorn, "
        "files the app creates keep the process's umask (022 under `--daemon`). Octal is "
        "accepted as `022` or `0o22`.",
        validator=_octal_int,
        cli_type=_octal_text,
        supported=True,
    ),
    _flag(
        "initgroups",
        MECHANICS,
        ("--initgroups",),
        "Also give the workers the supplementary groups of their user.",
        supported=True,
    ),
    _text(
        "tmp_upload_dir",
        MECHANICS,
        (),
        None,
        "Directory for the temporary files that hold large request bodies, and what write() "
        "calls queue for a client that reads slowly (default: $TMPDIR or /tmp).",
        metavar="DIR",
        supported=True,
    ),
    Setting(
        "secure_scheme_headers",
        MECHANICS,
        (),
        help="Headers a trusted proxy sets to say the client used HTTPS: a dict from "
        "upper-case header name to the exact value that means HTTPS.",
        validator=_dict,
        default={
            "X-FORWARDED-PROTOCOL": "ssl",
            "X-FORWARDED-PROTO": "https",
            "X-FORWARDED-SSL": "on",
        },
        supported=True,
    ),
    Setting(
        "forwarded_allow_ips",
        MECHANICS,
        ("--forwarded-allow-ips",),
        help="Comma-separated IP addresses or CIDR networks of the proxies whose scheme and "
        "forwarder headers are trusted; `*` trusts every peer.",
        validator=_ip_list,
        default_factory=_default_forwarded_allow_ips,
        default_doc="`$FORWARDED_ALLOW_IPS`, or `'127.0.0.1,::1'` when unset",
        metavar="STRING",
        supported=True,
    ),
    # -- Logging -------------------------------------------------------------------------------
    _text(
        "accesslog",
        LOGGING,
        ("--access-logfile",),
        None,
        "Where access log lines go: a file path, or `-` for standard output. Unset, there is "
        "no access log.",
        metavar="FILE",
        supported=True,
    ),
    _flag(
        "disable_redirect_access_to_syslog",
        LOGGING,
        ("--disable-redirect-access-to-syslog",),
        "Keep access log lines out of syslog when --log-syslog is on.",
        supported=True,
    ),
    _text(
        "access_log_format",
        LOGGING,
        ("--access-logformat",),
        _ACCESS_LOG_FORMAT,
        "Layout of an access log line, written with `%(atom)s` placeholders.",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "errorlog",
        LOGGING,
        ("--error-logfile", "--log-file"),
        "-",
        "Where the error log goes: a file path, or `-` for standard error.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "loglevel",
        LOGGING,
        ("--log-level",),
        "info",
        "Least severe error-log messages written: debug, info, warning, error or critical.",
        validator=_loglevel,
        metavar="LEVEL",
        supported=True,
    ),
    _flag(
        "capture_output",
        LOGGING,
        ("--capture-output",),
        "Send the application's standard output and error to the error log file.",
        supported=True,
    ),
    _text(
        "logger_class",
        LOGGING,
        ("--logger-class",),
        "gunicorn.glogging.Logger",
        "Python class that implements the server's logging.",
        validator=_class_or_name,
        metavar="STRING",
        supported=True,
    ),
    _text(
        "logconfig",
        LOGGING,
        ("--log-config",),
        None,
        "Set up logging from a `logging.config.fileConfig` (ini) file.",
        metavar="FILE",
        supported=True,
    ),
    Setting(
        "logconfig_dict",
        LOGGING,
        (),
        help="Set up logging from a `logging.config.dictConfig` dictionary.",
        validator=_dict,
        default={},
        supported=True,
    ),
    _text(
        "logconfig_json",
        LOGGING,
        ("--log-config-json",),
        None,
        "Set up logging from a JSON file in dictConfig layout.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "syslog_addr",
        LOGGING,
        ("--log-syslog-to",),
        None,
        "Where syslog messages go: `unix://PATH#TYPE`, `udp://HOST:PORT` or `tcp://HOST:PORT`.",
        default_factory=_default_syslog_addr,
        default_doc="`'udp://localhost:514'` on Linux; a local socket on macOS and the BSDs",
        metavar="SYSLOG_ADDR",
        supported=True,
    ),
    _flag(
        "syslog",
        LOGGING,
        ("--log-syslog",),
        "Also send the server's log messages to syslog.",
        supported=True,
    ),
    _text(
        "syslog_prefix",
        LOGGING,
        ("--log-syslog-prefix",),
        None,
        "Program name that syslog messages carry.",
        metavar="SYSLOG_PREFIX",
        supported=True,
    ),
    _text(
        "syslog_facility",
        LOGGING,
        ("--log-syslog-facility",),
        "user",
        "Syslog facility to log under.",
        metavar="SYSLOG_FACILITY",
        supported=True,
    ),
    _flag(
        "enable_stdio_inheritance",
        LOGGING,
        ("-R", "--enable-stdio-inheritance"),
        "Keep standard output and error open when running as a daemon (a terminal is "
        "still let go; standard input is always /dev/null).",
        supported=True,
    ),
    _text(
        "statsd_host",
        LOGGING,
        ("--statsd-host",),
        None,
        "StatsD server to send metrics to, as `HOST:PORT` or `unix://PATH`.",
        validator=_statsd_address,
        metavar="STATSD_ADDR",
        supported=True,
    ),
    _text(
        "dogstatsd_tags",
        LOGGING,
        ("--dogstatsd-tags",),
        "",
        "Comma-separated DogStatsD tags added to every metric.",
        metavar="DOGSTATSD_TAGS",
        supported=True,
    ),
    _text(
        "statsd_prefix",
        LOGGING,
        ("--statsd-prefix",),
        "",
        "Prefix put in front of every StatsD metric name.",
        metavar="STATSD_PREFIX",
        supported=True,
    ),
    _flag(
        "enable_backlog_metric",
        LOGGING,
        ("--enable-backlog-metric",),
        "Report the length of the listen queue as a StatsD metric.",
        supported=True,
    ),
    # -- Process Naming ------------------------------------------------------------------------
    _text(
        "proc_name",
        NAMING,
        ("-n", "--name"),
        None,
        "Base of the process titles: `monoceros: master [NAME]` and `monoceros: worker "
        "[NAME]` (cut to the length of the original command line).",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "default_proc_name",
        NAMING,
        (),
        "gunicorn",
        "Process title used when proc_name is unset; set to the APP_MODULE given on the "
        "command line.",
        supported=True,
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    _text(
        "pythonpath",
        MECHANICS,
        ("--pythonpath",),
        None,
        "Comma-separated directories to put in front of the module search path.",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "paste",
        MECHANICS,
        ("--paste", "--paster"),
        None,
        "Load the application from a PasteDeploy ini file (`FILE#SECTION`); the file's "
        "`[loggers]` section, if any, configures logging. Needs PasteDeploy installed.",
        metavar="STRING",
        supported=True,
    ),
    # -- Server Hooks --------------------------------------------------------------------------
    _hook_row("on_starting", HOOKS, on_starting, "called in the master just before it starts."),
    _hook_row("on_reload", HOOKS, on_reload, "called in the master on a SIGHUP reload."),
    _hook_row(
        "when_ready",
        HOOKS,
        when_ready,
        "called in the master once the sockets are listening.",
    ),
    _hook_row("pre_fork", HOOKS, pre_fork, "called in the master just before forking a worker."),
    _hook_row("post_fork", HOOKS, post_fork, "called in a new worker right after the fork."),
    _hook_row(
        "post_worker_init",
        HOOKS,
        post_worker_init,
        "called in a worker once it has loaded the application.",
    ),
    _hook_row(
        "worker_int",
        HOOKS,
        worker_int,
        "called in a worker that received SIGINT or SIGQUIT.",
    ),
    _hook_row(
        "worker_abort",
        HOOKS,
        worker_abort,
        "called in a worker that received SIGABRT, which usually means it timed out.",
    ),
    _hook_row(
        "pre_exec",
        HOOKS,
        pre_exec,
        "called in the forked child just before a new master is executed (SIGUSR2).",
    ),
    _hook_row(
        "pre_request",
        HOOKS,
        pre_request,
        "called in a worker before it handles a request.",
        default_doc="logs the method and path at debug level",
    ),
    _hook_row(
        "post_request",
        HOOKS,
        post_request,
        "called in a worker after a request; it may also be declared with only the "
        "first two or three parameters.",
        validator=_post_request_hook,
    ),
    _hook_row("child_exit", HOOKS, child_exit, "called in the master after a worker exited."),
    _hook_row("worker_exit", HOOKS, worker_exit, "called in a worker just before it exits."),
    _hook_row(
        "nworkers_changed",
        HOOKS,
        nworkers_changed,
        "called in the master when the number of workers changes; `old_value` is None the "
        "first time.",
    ),
    _hook_row("on_exit", HOOKS, on_exit, "called in the master just before the server exits."),
    _hook_row(
        "ssl_context",
        HOOKS,
        ssl_context,
        "builds the TLS context and must return an `ssl.SSLContext`.",
        default_doc="returns `default_ssl_context_factory()`",
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    _text(
        "proxy_protocol",
        MECHANICS,
        ("--proxy-protocol",),
        "off",
        "Expect a PROXY protocol header from the peer: off, v1, v2 or auto. The flag without "
        "a value means auto.",
        validator=_choice(
            "off",
            "v1",
            "v2",
            "auto",
            aliases={
                "false": "off",
                "0": "off",
                "none": "off",
                "true": "auto",
                "1": "auto",
                True: "auto",
                False: "off",
            },
            if_none="off",
        ),
        action="optional",
        const="auto",
        metavar="MODE",
        supported=True,
    ),
    _text(
        "proxy_allow_ips",
        MECHANICS,
        ("--proxy-allow-from",),
        "127.0.0.1,::1",
        "Comma-separated IP addresses or networks allowed to send a PROXY protocol header; "
        "`*` allows every peer.",
        validator=_ip_list,
        supported=True,
    ),
    _text(
        "protocol",
        MECHANICS,
        ("--protocol",),
        "http",
        "Protocol spoken on the listening sockets: http or uwsgi.",
        metavar="STRING",
    ),
    _text(
        "uwsgi_allow_ips",
        MECHANICS,
        ("--uwsgi-allow-from",),
        "127.0.0.1,::1",
        "Comma-separated IP addresses or networks allowed to speak the uwsgi protocol; `*` "
        "allows every peer.",
        validator=_ip_list,
    ),
    # -- SSL -----------------------------------------------------------------------------------
    _text("keyfile", TLS, ("--keyfile",), None, "TLS private key file.", metavar="FILE"),
    _text(
        "certfile",
        TLS,
        ("--certfile",),
        None,
        "TLS certificate file; setting it (or keyfile) turns TLS on.",
        metavar="FILE",
    ),
    Setting(
        "ssl_version",
        TLS,
        ("--ssl-version",),
        help="Deprecated and ignored; adjust TLS through the ssl_context hook instead.",
        validator=_keep,
        default=ssl.PROTOCOL_TLS,
        default_doc="`ssl.PROTOCOL_TLS`",
    ),
    Setting(
        "cert_reqs",
        TLS,
        ("--cert-reqs",),
        help="Whether clients must present a certificate: 0 no, 1 optional, 2 required.",
        validator=_int,
        default=ssl.CERT_NONE,
        default_doc="`0` (`ssl.CERT_NONE`)",
    ),
    _text(
        "ca_certs",
        TLS,
        ("--ca-certs",),
        None,
        "File of CA certificates used to check client certificates.",
        metavar="FILE",
    ),
    _flag(
        "suppress_ragged_eofs",
        TLS,
        ("--suppress-ragged-eofs",),
        "Treat a TLS connection the peer closed without a close_notify as a normal end of data.",
        default=True,
    ),
    _flag(
        "do_handshake_on_connect",
        TLS,
        ("--do-handshake-on-connect",),
        "Run the TLS handshake as soon as a connection is accepted.",
    ),
    _text("ciphers", TLS, ("--ciphers",), None, "OpenSSL cipher list for TLS connections."),
    # -- HTTP/2 --------------------------------------------------------------------------------
    _text(
        "http_protocols",
        HTTP2,
        ("--http-protocols",),
        "h1",
        "Comma-separated HTTP versions offered through ALPN, preferred first: h1, h2.",
        validator=_http_protocols,
        metavar="STRING",
    ),
    _text(
        "http2_cleartext",
        HTTP2,
        ("--http2-cleartext",),
        "off",
        "HTTP/2 without TLS (h2c) for trusted peers: off, prior-knowledge, upgrade or both.",
        validator=_choice(
            "off",
            "prior-knowledge",
            "upgrade",
            "both",
            aliases={True: "prior-knowledge", False: "off"},
            if_none="off",
        ),
        metavar="STRING",
    ),
    _number(
        "http2_max_concurrent_streams",
        HTTP2,
        ("--http2-max-concurrent-streams",),
        100,
        "Most HTTP/2 streams one client may have open at a time.",
        validator=_int_between(1, sys.maxsize),
    ),
    _number(
        "http2_initial_window_size",
        HTTP2,
        ("--http2-initial-window-size",),
        65535,
        "Initial HTTP/2 flow-control window, in bytes.",
        validator=_int_between(0, 2**31 - 1),
    ),
    _number(
        "http2_max_frame_size",
        HTTP2,
        ("--http2-max-frame-size",),
        16384,
        "Largest HTTP/2 frame payload accepted, from 16384 to 16777215 bytes.",
        validator=_int_between(16384, 16777215),
    ),
    _number(
        "http2_max_header_list_size",
        HTTP2,
        ("--http2-max-header-list-size",),
        65536,
        "Largest decoded HTTP/2 header list accepted, in bytes.",
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    Setting(
        "raw_paste_global_conf",
        MECHANICS,
        ("--paste-global",),
        help="PasteDeploy global variable as `KEY=VALUE`; repeatable.",
        validator=_string_list,
        default=[],
        action="append",
        metavar="CONF",
        supported=True,
    ),
    _flag(
        "permit_obsolete_folding",
        MECHANICS,
        ("--permit-obsolete-folding",),
        "Accept header values continued on the following line (obsolete line folding) "
        "instead of answering 400.",
        supported=True,
    ),
    _flag(
        "strip_header_spaces",
        MECHANICS,
        ("--strip-header-spaces",),
        "Drop whitespace between a header name and its colon. Unsafe; only for old clients.",
        supported=True,
    ),
    _flag(
        "permit_unconventional_http_method",
        MECHANICS,
        ("--permit-unconventional-http-method",),
        "Accept request methods that contain lower-case letters or `#`, or are shorter than "
        "3 or longer than 20 characters.",
        supported=True,
    ),
    _flag(
        "permit_unconventional_http_version",
        MECHANICS,
        ("--permit-unconventional-http-version",),
        "Accept HTTP versions other than 1.0 and 1.1.",
        supported=True,
    ),
    _flag(
        "casefold_http_method",
        MECHANICS,
        ("--casefold-http-method",),
        "Upper-case the request method before the application sees it (legacy).",
        supported=True,
    ),
    _text(
        "forwarder_headers",
        MECHANICS,
        ("--forwarder-headers",),
        "SCRIPT_NAME,PATH_INFO",
        "Comma-separated header names with underscores that trusted proxies may send and "
        "that are passed on to the application.",
        validator=_comma_list,
        supported=True,
    ),
    _text(
        "header_map",
        MECHANICS,
        ("--header-map",),
        "drop",
        "What to do with any other header whose name has an underscore: drop it, refuse the "
        "request (400), or pass it on (dangerous: it can impersonate the dashed name).",
        validator=_choice("drop", "refuse", "dangerous", if_none="drop"),
        supported=True,
    ),
    # -- Worker Processes (continued) ----------------------------------------------------------
    _text(
        "asgi_loop",
        WORKERS,
        ("--asgi-loop",),
        "auto",
        "Event loop of the asgi worker: auto, asyncio or uvloop.",
        validator=_choice("auto", "asyncio", "uvloop", if_none="auto"),
        metavar="STRING",
    ),
    _text(
        "asgi_lifespan",
        WORKERS,
        ("--asgi-lifespan",),
        "auto",
        "Whether the asgi worker runs the ASGI lifespan protocol: auto, on or off.",
        validator=_choice("auto", "on", "off", if_none="auto"),
        metavar="STRING",
    ),
    _number(
        "asgi_disconnect_grace_period",
        WORKERS,
        ("--asgi-disconnect-grace-period",),
        3,
        "Seconds an ASGI application may go on after the client disconnected, before it is "
        "cancelled.",
    ),
    _number(
        "websocket_max_message_size",
        WORKERS,
        ("--websocket-max-message-size",),
        16 * 1024 * 1024,
        "Largest WebSocket message the asgi worker accepts, in bytes; 0 means no limit.",
    ),
    _text(
        "http_parser",
        WORKERS,
        ("--http-parser",),
        "auto",
        "Which HTTP/1 parser gunicorn uses: auto, fast or python.",
        validator=_choice("auto", "fast", "python", if_none="auto"),
        metavar="STRING",
    ),
    _text(
        "root_path",
        MECHANICS,
        ("--root-path",),
        "",
        "The `root_path` (mount point) reported to ASGI applications.",
        metavar="STRING",
    ),
    # -- Dirty Arbiters ------------------------------------------------------------------------
    Setting(
        "dirty_apps",
        DIRTY,
        ("--dirty-app",),
        help="Application class run by the dirty workers, as `module:Class[:N]`; repeatable.",
        validator=_string_list,
        default=[],
        action="append",
        metavar="STRING",
    ),
    _number(
        "dirty_workers",
        DIRTY,
        ("--dirty-workers",),
        0,
        "Number of dirty worker processes; 0 means no dirty arbiter.",
    ),
    _number(
        "dirty_timeout",
        DIRTY,
        ("--dirty-timeout",),
        300,
        "Seconds a dirty task may run; 0 means no limit.",
    ),
    _number("dirty_threads", DIRTY, ("--dirty-threads",), 1, "Threads in each dirty worker."),
    _number(
        "dirty_graceful_timeout",
        DIRTY,
        ("--dirty-graceful-timeout",),
        30,
        "Seconds the dirty workers get to stop cleanly.",
    ),
    # -- Dirty Arbiter Hooks -------------------------------------------------------------------
    _hook_row(
        "on_dirty_starting",
        DIRTY_HOOKS,
        on_dirty_starting,
        "called before the dirty arbiter starts.",
    ),
    _hook_row(
        "dirty_post_fork",
        DIRTY_HOOKS,
        dirty_post_fork,
        "called in a dirty worker right after the fork.",
    ),
    _hook_row(
        "dirty_worker_init",
        DIRTY_HOOKS,
        dirty_worker_init,
        "called in a dirty worker once its applications are loaded.",
    ),
    _hook_row(
        "dirty_worker_exit",
        DIRTY_HOOKS,
        dirty_worker_exit,
        "called when a dirty worker has exited.",
    ),
    # -- Control -------------------------------------------------------------------------------
    _text(
        "control_socket",
        CONTROL,
        ("--control-socket",),
        None,
        "Path of the Unix socket of the control interface (gunicornc).",
        default_factory=_default_control_socket,
        default_doc="`$XDG_RUNTIME_DIR/gunicorn.ctl`, else `~/.gunicorn/gunicorn.ctl`",
        metavar="PATH",
    ),
    _number(
        "control_socket_mode",
        CONTROL,
        ("--control-socket-mode",),
        0o600,
        "Permission bits of the control socket (octal accepted).",
        validator=_octal_int,
        cli_type=_octal_text,
        default_doc="`0o600`",
    ),
    _flag(
        "control_socket_disable",
        CONTROL,
        ("--no-control-socket",),
        "Do not create the control socket.",
    ),
    # -- monoceros extensions ------------------------------------------------------------------
    _flag(
        "permit_missing_host",
        MECHANICS,
        ("--permit-missing-host",),
        "Accept HTTP/1.1 requests without a Host header, as gunicorn does (RFC 9112 §3.2 "
        "says to reject them). A monoceros extension.",
        supported=True,
        extension=True,
    ),
    _number(
        "limit_request_body",
        SECURITY,
        ("--limit-request-body",),
        0,
        "Largest request body accepted, in bytes; a larger one gets 413 before it is read "
        "(Content-Length) or as soon as it passes the limit (chunked). 0 means no limit, as in "
        "gunicorn. Bodies above 1 MiB are spooled to a temporary file in tmp_upload_dir, never "
        "held in memory. A monoceros extension.",
        supported=True,
        extension=True,
    ),
    _number(
        "max_worker_memory",
        WORKERS,
        ("--max-worker-memory",),
        0,
        "Replace a worker whose resident memory passes this many MiB; its replacement is "
        "started first and the old worker retired gracefully once the new one is ready, so "
        "capacity never dips. 0 never replaces a worker for its memory. A monoceros "
        "extension.",
        metavar="MIB",
        supported=True,
        extension=True,
    ),
    _flag(
        "identify_as_gunicorn",
        MECHANICS,
        ("--identify-as-gunicorn",),
        "Name the server as gunicorn 27.0.1 does: `SERVER_SOFTWARE` (in the environ and the "
        "process environment) is `gunicorn/27.0.1` and the `Server` header `gunicorn`, for "
        "apps that branch on the server's name (httpbin, for one, accepts chunked request "
        "bodies only from gunicorn). Off, they are `monoceros/<version>` and `monoceros`. A "
        "monoceros extension.",
        supported=True,
        extension=True,
    ),
    Setting(
        "body_spool_limit",
        SECURITY,
        ("--body-spool-limit",),
        help="Most disk, in MiB, that one worker's spooled request bodies may use at once "
        "(bodies above 1 MiB wait on disk in tmp_upload_dir until the app runs). A body that "
        "would pass it gets 503 (413 if it alone is larger), and the refusal is logged. By "
        "default a quarter of the space free in that directory when the worker starts, "
        "shared by the workers; 0 means no limit. A monoceros extension.",
        validator=_int_or_none,
        cli_type=int,
        metavar="MIB",
        default_doc="a quarter of the free space in the spool directory, shared by the workers",
        supported=True,
        extension=True,
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.section for s in SETTINGS))

# Spellings of the sync worker; gunicorn treats them alike.
_SYNC_WORKER_NAMES = frozenset({"sync", "gunicorn.workers.sync.SyncWorker", "egg:gunicorn#sync"})


_EVENT_WORKER_NAMES = frozenset({"event", "monoceros.event"})

_GTHREAD_WORKER_NAMES = frozenset(
    {"gthread", "gunicorn.workers.gthread.ThreadWorker", "egg:gunicorn#gthread"}
)


def _is_gthread(worker_class: Any) -> bool:
    return isinstance(worker_class, str) and (
        worker_class in _GTHREAD_WORKER_NAMES or worker_class.endswith("ThreadWorker")
    )


def _is_event(worker_class: Any) -> bool:
    """monoceros' own worker: one thread, keep-alive and pipelining (see README)."""
    return isinstance(worker_class, str) and worker_class in _EVENT_WORKER_NAMES


def _is_sync(worker_class: Any) -> bool:
    return isinstance(worker_class, str) and (
        worker_class in _SYNC_WORKER_NAMES or worker_class.endswith("SyncWorker")
    )


# ----------------------------------------------------------------------------------------------
# Bind addresses.


@dataclasses.dataclass(frozen=True)
class Address:
    """A parsed ``bind`` entry. kind is "tcp" (host, port), "unix" (path) or "fd" (fd)."""

    kind: str
    host: str | None = None
    port: int | None = None
    path: str | None = None
    fd: int | None = None

    def as_tuple(self) -> tuple[str, str | None, int | None, str | None, int | None]:
        return (self.kind, self.host, self.port, self.path, self.fd)

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "fd":
            return f"fd://{self.fd}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(text: str, default_port: int = 8000) -> Address:
    """Parse one bind address the way gunicorn does.

    ``unix:PATH`` / ``unix://PATH``, ``fd://N``, optional ``tcp://`` prefix, ``[v6]`` or
    ``[v6]:PORT``, ``HOST`` or ``HOST:PORT``. Hosts are lower-cased; an empty host means
    0.0.0.0. Raises ConfigError for a bad port or file descriptor.
    """

    def bad(reason: str) -> ConfigError:
        return ConfigError(f"invalid value for 'bind' (--bind): {text!r} {reason}")

    if text.startswith("unix:"):
        path = text[len("unix://") :] if text.startswith("unix://") else text[len("unix:") :]
        if not path:
            raise bad("has an empty socket path")
        return Address("unix", path=path)
    if text.startswith("fd://"):
        number = text[len("fd://") :]
        if not number.isdigit():
            raise bad(f"has {number!r}, which is not a valid file descriptor")
        return Address("fd", fd=int(number))

    netloc = text[len("tcp://") :] if text.startswith("tcp://") else text
    host, port_text = netloc, str(default_port)
    if netloc.startswith("[") and "]" in netloc:
        host, _, rest = netloc[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise bad("has text after the ']' that is not ':PORT'")
            port_text = rest[1:]
    elif ":" in netloc:
        host, _, port_text = netloc.partition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise bad(f"has {port_text!r}, which is not a valid port number") from None
    if not 0 <= port <= 65535:
        raise bad(f"has port {port}, outside 0..65535")
    return Address("tcp", host=host.lower() or "0.0.0.0", port=port)


# ----------------------------------------------------------------------------------------------
# Config.


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Config:
    """Validated settings. Read a setting as ``cfg.<name>``; change it with ``cfg.set``.

    A few names are computed the way gunicorn computes them: ``worker_class`` (a sync worker
    with threads > 1 reads as "gthread"), ``sendfile`` (a bool, see the setting),
    ``proc_name`` (falls back to default_proc_name), plus ``env``, ``uid``, ``gid``,
    ``is_ssl``, ``address`` and ``addresses``. ``cfg.get(name)`` returns the stored value.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        object.__setattr__(self, "environ", environ)
        object.__setattr__(self, "cwd", os.path.abspath(cwd or _start_directory(environ)))
        object.__setattr__(self, "app_uri", None)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_defaults", {})
        for setting in SETTINGS:
            default = setting.compute_default(environ, self.cwd)
            if default is not None:
                where = "the default"
                if setting.default_factory is not None:
                    where = "the default (computed from the environment)"
                default = self._validate(setting, default, where)
            self._defaults[setting.name] = default
            self._values[setting.name] = default

    # -- access --------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"no setting named {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SETTINGS_BY_NAME:
            raise AttributeError(f"use cfg.set({name!r}, value) to change a setting")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        changed = {n: v for n, v in self._values.items() if not self.is_default(n)}
        return f"<Config app_uri={self.app_uri!r} changed={changed!r}>"

    def get(self, name: str) -> Any:
        """The stored value of a setting, without the computed views of the properties."""
        return self._values[self._setting(name).name]

    def default(self, name: str) -> Any:
        return self._defaults[self._setting(name).name]

    def is_default(self, name: str) -> bool:
        name = self._setting(name).name
        return self._values[name] == self._defaults[name]

    def set(self, name: str, value: Any, source: str | None = None) -> None:
        """Validate and store a value. ``source`` (e.g. "GUNICORN_CMD_ARGS") only feeds the
        error message. Raises ConfigError."""
        setting = self._setting(name)
        self._values[setting.name] = self._validate(setting, value, source)

    def _setting(self, name: str) -> Setting:
        try:
            return SETTINGS_BY_NAME[name]
        except KeyError:
            raise ConfigError(f"unknown setting {name!r}") from None

    def _validate(self, setting: Setting, value: Any, source: str | None) -> Any:
        try:
            return setting.validator(value, self)
        except _Invalid as exc:
            where = f" (in {source})" if source else ""
            raise ConfigError(
                f"invalid value for {setting.label}: {_short_repr(value)} {exc.reason}{where}"
            ) from None

    # -- gunicorn's computed views -------------------------------------------------------------

    @property
    def worker_class(self) -> Any:
        """The worker class, after gunicorn's rule: a sync worker with threads > 1 is gthread."""
        value = self._values["worker_class"]
        if _is_sync(value) and self._values["threads"] > 1:
            return "gthread"
        return value

    @property
    def worker_class_str(self) -> str:
        return _worker_class_name(self.worker_class)

    @property
    def sendfile(self) -> bool:
        """gunicorn's reading: any explicit value (even True) disables sendfile; otherwise the
        SENDFILE environment variable decides (y/1/yes/true); unset means enabled."""
        if self._values["sendfile"] is not None:
            return False
        if "SENDFILE" in self.environ:
            return self.environ["SENDFILE"].lower() in ("y", "1", "yes", "true")
        return True

    @property
    def proc_name(self) -> str:
        value = self._values["proc_name"]
        return value if value is not None else self._values["default_proc_name"]

    @property
    def uid(self) -> int:
        return self._values["user"]

    @property
    def gid(self) -> int:
        return self._values["group"]

    @property
    def is_ssl(self) -> bool:
        return bool(self._values["certfile"] or self._values["keyfile"])

    @property
    def env(self) -> dict[str, str]:
        """raw_env as a dict (the validator guarantees every entry has an '=')."""
        return dict(entry.split("=", 1) for entry in self._values["raw_env"])

    @property
    def addresses(self) -> list[Address]:
        """``bind`` parsed into Address values (ConfigError on a bad entry)."""
        return [parse_address(entry) for entry in self._values["bind"]]

    @property
    def address(self) -> list[Any]:
        """gunicorn's shapes: (host, port) for TCP, the path for Unix sockets, an int for fds."""
        shapes: list[Any] = []
        for a in self.addresses:
            shapes.append((a.host, a.port) if a.kind == "tcp" else a.path or a.fd)
        return shapes

    # -- what this milestone serves ------------------------------------------------------------

    def refusals(self) -> list[str]:
        """One message per setting whose value monoceros cannot honour yet, in table order."""
        messages: list[str] = []
        for setting in SETTINGS:
            special = _SUPPORT_RULES.get(setting.name)
            if special is not None:
                message = special(self, setting)
                if message:
                    messages.append(message)
            elif (
                not setting.supported
                and not self.is_default(setting.name)
                and not self._dormant(setting.name)
            ):
                messages.append(f"setting {setting.label} is not supported by monoceros yet")
        return messages

    def _dormant(self, name: str) -> _DormantFeature | None:
        """The feature, off in this configuration, that setting ``name`` belongs to."""
        feature = _DORMANT_FEATURE_OF.get(name)
        return feature if feature is not None and not feature.is_on(self) else None

    def dormant_settings(self) -> list[str]:
        """One line per unsupported setting given a value that changes nothing, because the
        feature it belongs to is off (logged at debug level at startup)."""
        lines = []
        for setting in SETTINGS:
            feature = self._dormant(setting.name)
            if feature is not None and not setting.supported and not self.is_default(setting.name):
                lines.append(f"setting {setting.label} has no effect: {feature.description}")
        return lines

    def check_supported(self) -> None:
        """Raise ConfigError naming the first setting monoceros cannot honour yet."""
        messages = self.refusals()
        if messages:
            raise ConfigError(messages[0])

    # -- hand-off to the C++ core --------------------------------------------------------------

    def to_core(self) -> dict[str, Any]:
        """The plain values the C++ core reads, with gunicorn's adjustments applied.

        - ``bind``: list of ``(kind, host, port, path, fd)`` tuples, see Address.
        - ``limit_request_line``: 0 means unlimited; values above 8190 become 8190.
        - ``limit_request_fields``: 0 or above 32768 becomes 32768.
        - ``limit_request_field_size``: 0 becomes 8190.
        - ``sendfile``: the effective bool (see the ``sendfile`` property).
        - ``forwarder_headers``: upper-cased names; ``secure_scheme_headers``: upper-cased keys.
        - ``forwarded_allow_ips``: strings (addresses, CIDR networks or "*").
        - ``accesslog``: None (off), "-" (stdout) or a path; ``errorlog``: "-" or a path.
        - ``loglevel``: the numeric ``logging`` level.
        - ``uid``, ``gid``: the ids unix socket files are given (``user``, ``group``).
        - ``worker_tmp_dir``: "" keeps heartbeats in anonymous shared memory.
        """
        v = self._values
        line = v["limit_request_line"]
        fields = v["limit_request_fields"]
        field_size = v["limit_request_field_size"]
        return {
            "bind": [a.as_tuple() for a in self.addresses],
            "backlog": v["backlog"],
            "workers": v["workers"],
            "worker_class": _core_worker_class(self.worker_class),
            "worker_class_name": self.worker_class_str,
            "threads": v["threads"],
            "max_worker_memory": v["max_worker_memory"],
            "body_spool_limit": -1 if v["body_spool_limit"] is None else v["body_spool_limit"],
            "timeout": v["timeout"],
            "graceful_timeout": v["graceful_timeout"],
            "worker_connections": v["worker_connections"],
            "keepalive": v["keepalive"],
            "sendfile": self.sendfile,
            "limit_request_line": min(line, _MAX_REQUEST_LINE),
            "limit_request_fields": _MAX_HEADERS if not 0 < fields <= _MAX_HEADERS else fields,
            "limit_request_field_size": field_size or _DEFAULT_FIELD_SIZE,
            "permit_obsolete_folding": bool(v["permit_obsolete_folding"]),
            "strip_header_spaces": bool(v["strip_header_spaces"]),
            "permit_unconventional_http_method": bool(v["permit_unconventional_http_method"]),
            "permit_unconventional_http_version": bool(v["permit_unconventional_http_version"]),
            "casefold_http_method": bool(v["casefold_http_method"]),
            "header_map": v["header_map"],
            "forwarder_headers": [h.upper() for h in v["forwarder_headers"]],
            "forwarded_allow_ips": list(v["forwarded_allow_ips"]),
            "proxy_protocol": v["proxy_protocol"],
            "proxy_allow_ips": list(v["proxy_allow_ips"]),
            "secure_scheme_headers": {
                str(k).upper(): str(val) for k, val in v["secure_scheme_headers"].items()
            },
            "permit_missing_host": bool(v["permit_missing_host"]),
            "limit_request_body": v["limit_request_body"],
            "tmp_upload_dir": v["tmp_upload_dir"],
            "umask": v["umask"],
            "daemon": bool(v["daemon"]),
            "proc_name": self.proc_name,
            "worker_tmp_dir": v["worker_tmp_dir"] or "",
            "uid": v["user"],
            "gid": v["group"],
            "accesslog": v["accesslog"],
            "access_log_format": v["access_log_format"],
            "errorlog": v["errorlog"],
            "loglevel": LOG_LEVELS[v["loglevel"].lower()],
            "statsd": _statsd_target(v["statsd_host"]),
            "statsd_prefix": _statsd_prefix(v["statsd_prefix"]),
            "dogstatsd_tags": v["dogstatsd_tags"] or "",
            "enable_backlog_metric": bool(v["enable_backlog_metric"]),
            "reuse_port": bool(v["reuse_port"]),
        }


def _core_worker_class(worker_class: Any) -> str:
    """The worker class as the core names it: sync, event or gthread."""
    if _is_event(worker_class):
        return "event"
    return "gthread" if _is_gthread(worker_class) else "sync"


def _statsd_target(host: Any) -> dict[str, Any] | None:
    """``statsd_host`` as the core reads it: a UDP host and port, or a unix socket path."""
    if host is None:
        return None
    if isinstance(host, str):
        return {"unix_path": host}
    return {"host": str(host[0]), "port": int(host[1])}


def _statsd_prefix(prefix: str | None) -> str:
    """Metric names are joined to the prefix with exactly one dot."""
    prefix = (prefix or "").rstrip(".")
    return f"{prefix}." if prefix else ""


_MAX_REQUEST_LINE = 8190
_MAX_HEADERS = 32768
_DEFAULT_FIELD_SIZE = 8190


def _refuse_worker_class(cfg: Config, setting: Setting) -> str | None:
    value = cfg.get("worker_class")
    if _is_sync(value) or _is_event(value) or _is_gthread(value):
        return None
    return (
        f"setting {setting.label}: worker class {_worker_class_name(value)!r} is not "
        "supported by monoceros yet (only 'sync', 'gthread' and 'event' are)"
    )


def _refuse_threads(cfg: Config, setting: Setting) -> str | None:
    if cfg.get("threads") > 1 and _is_event(cfg.get("worker_class")):
        return (
            f"setting {setting.label}: the event worker runs the app on one thread; "
            f"{cfg.get('threads')} threads would be ignored"
        )
    return None


def _refuse_logger_class(cfg: Config, setting: Setting) -> str | None:
    from monoceros.logger_class import logger_class_refusal  # imports the user's class

    return logger_class_refusal(cfg)


def _refuse_unusable_reload_engine(cfg: Config, setting: Setting) -> str | None:
    # Only --reload with inotify asked for by name needs it: auto falls back to polling.
    if not cfg.get("reload") or cfg.get("reload_engine") != "inotify":
        return None
    from monoceros.inotify import unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return None
    return f"setting {setting.label}: inotify cannot work here ({reason}); use poll or auto"


@dataclasses.dataclass(frozen=True)
class _DormantFeature:
    """A gunicorn feature monoceros does not have yet, and the settings that matter only while
    it is on. With the feature off, gunicorn does nothing with those settings either, so any
    value of theirs is accepted: a config that turns the feature off (``control_socket_disable
    = True``) or tunes a feature it does not use (``ciphers`` without a certificate) runs
    unchanged. With it on, each such setting is refused by name, as any unsupported one."""

    description: str
    settings: frozenset[str]
    is_on: Callable[[Config], bool]


def _uses_asgi(cfg: Config) -> bool:
    worker_class = cfg.get("worker_class")
    return not (_is_sync(worker_class) or _is_event(worker_class) or _is_gthread(worker_class))


_DORMANT_FEATURES = (
    _DormantFeature(
        "the control socket is disabled",
        frozenset({"control_socket", "control_socket_mode", "control_socket_disable"}),
        lambda cfg: not cfg.get("control_socket_disable"),
    ),
    _DormantFeature(
        "TLS is off (no certfile or keyfile)",
        frozenset(
            {
                "ssl_context",
                "ssl_version",
                "cert_reqs",
                "ca_certs",
                "suppress_ragged_eofs",
                "do_handshake_on_connect",
                "ciphers",
            }
        ),
        lambda cfg: bool(cfg.get("certfile") or cfg.get("keyfile")),
    ),
    _DormantFeature(
        "HTTP/2 is off (http_protocols has no h2, http2_cleartext is off)",
        frozenset(
            {
                "http2_max_concurrent_streams",
                "http2_initial_window_size",
                "http2_max_frame_size",
                "http2_max_header_list_size",
            }
        ),
        lambda cfg: "h2" in cfg.get("http_protocols") or cfg.get("http2_cleartext") != "off",
    ),
    _DormantFeature(
        "the worker class is not an ASGI worker",
        frozenset(
            {
                "asgi_loop",
                "asgi_lifespan",
                "asgi_disconnect_grace_period",
                "root_path",
                "websocket_max_message_size",
            }
        ),
        _uses_asgi,
    ),
    _DormantFeature(
        "the protocol is http, not uwsgi",
        frozenset({"uwsgi_allow_ips"}),
        lambda cfg: cfg.get("protocol") == "uwsgi",
    ),
    _DormantFeature(
        "the dirty arbiter is off (it needs dirty_workers > 0 and dirty_apps)",
        frozenset(
            {
                "dirty_apps",
                "dirty_workers",
                "dirty_timeout",
                "dirty_threads",
                "dirty_graceful_timeout",
                "on_dirty_starting",
                "dirty_post_fork",
                "dirty_worker_init",
                "dirty_worker_exit",
            }
        ),
        lambda cfg: cfg.get("dirty_workers") > 0 and bool(cfg.get("dirty_apps")),
    ),
)
_DORMANT_FEATURE_OF = {name: f for f in _DORMANT_FEATURES for name in f.settings}


_SUPPORT_RULES: dict[str, Callable[[Config, Setting], str | None]] = {
    "logger_class": _refuse_logger_class,
    "reload_engine": _refuse_unusable_reload_engine,
    "worker_class": _refuse_worker_class,
    "threads": _refuse_threads,
}


# ----------------------------------------------------------------------------------------------
# Command line.


def monoceros_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("monoceros")
    except (ImportError, PackageNotFoundError):
        from monoceros import __version__

        return __version__


def _default_text(setting: Setting) -> str:
    if setting.default_doc is not None:
        return setting.default_doc
    return f"`{setting.default!r}`"


def build_parser(prog: str = "monoceros") -> argparse.ArgumentParser:
    """The argparse parser generated from SETTINGS, grouped by section.

    Every option stores None when absent so that the loader can tell "not given" apart.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        usage="%(prog)s [OPTIONS] [APP_MODULE]",
        description="Serve a WSGI application with gunicorn's settings and a C++ core.",
    )
    parser.add_argument(
        "-v",
        "--version",
        action="version",
        version=f"monoceros (version {monoceros_version()})",
        help="print the version and exit",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="APP_MODULE",
        help="the WSGI application, as module:callable (callable defaults to 'application')",
    )
    with_flags = dict.fromkeys(s.section for s in SETTINGS if s.flags)
    groups = {section: parser.add_argument_group(section) for section in with_flags}
    for setting in SETTINGS:
        if not setting.flags:
            continue
        default = _default_text(setting).replace("`", "")
        note = "" if setting.supported else " (not supported by monoceros yet)"
        kwargs: dict[str, Any] = {
            "dest": setting.name,
            "default": None,
            "help": f"{setting.help.replace('`', '')}{note} [default: {default}]".replace(
                "%", "%%"
            ),
        }
        if setting.action == "flag":
            kwargs["action"] = "store_true"
        elif setting.action == "const":
            kwargs["action"] = "store_const"
            kwargs["const"] = setting.const
        elif setting.action == "append":
            kwargs["action"] = "append"
        elif setting.action == "optional":
            kwargs["nargs"] = "?"
            kwargs["const"] = setting.const
        if setting.metavar and setting.action in ("value", "append", "optional"):
            kwargs["metavar"] = setting.metavar
        groups[setting.section].add_argument(*setting.flags, **kwargs)
    return parser


def _apply_namespace(cfg: Config, namespace: argparse.Namespace, source: str | None) -> None:
    """Set every option present in a parsed namespace (absent ones are None)."""
    for setting in SETTINGS:
        if not setting.flags:
            continue
        raw = getattr(namespace, setting.name, None)
        if raw is None:
            continue
        value = raw
        if setting.cli_type is not None and isinstance(raw, str):
            try:
                value = setting.cli_type(raw)
            except ValueError:
                where = f" (in {source})" if source else ""
                raise ConfigError(
                    f"invalid value for {setting.label}: {raw!r} is not an integer{where}"
                ) from None
        cfg.set(setting.name, value, source)


# ----------------------------------------------------------------------------------------------
# Config files.


def _start_directory(environ: Mapping[str, str]) -> str:
    """The current directory, spelled as $PWD when that names the same directory (so that
    symlinked paths survive, as in gunicorn)."""
    cwd = os.getcwd()
    pwd = environ.get("PWD")
    if pwd:
        try:
            if os.path.samefile(pwd, cwd):
                return pwd
        except OSError:
            pass
    return cwd


@contextmanager
def _on_sys_path(directory: str) -> Iterator[None]:
    """Make modules in ``directory`` importable while the configuration is read (python:
    config modules and dotted hook paths), as gunicorn's first chdir does."""
    added = directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        yield
    finally:
        if added:
            with suppress(ValueError):
                sys.path.remove(directory)


def _one_line(exc: BaseException, filename: str | None = None) -> str:
    """``Type: message (line N)`` for an exception raised while running a file."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    line = None
    if isinstance(exc, SyntaxError):
        text = f"{type(exc).__name__}: {exc.msg}"
        line = exc.lineno
    elif filename is not None:
        for frame in traceback.extract_tb(exc.__traceback__):
            if os.path.abspath(frame.filename) == os.path.abspath(filename):
                line = frame.lineno
    return f"{text} (line {line})" if line else text


def _execute_config_file(path: str) -> dict[str, Any]:
    """Run a Python config file as module ``__config__`` and return its namespace."""
    name = "__config__"
    if os.path.splitext(path)[1] in (".py", ".pyc"):
        spec = importlib.util.spec_from_file_location(name, path)
    else:
        print(
            f"Warning: configuration file {path!r} should have a .py extension.",
            file=sys.stderr,
        )
        loader = importlib.machinery.SourceFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise ConfigError(f"failed to read config file {path!r}: cannot load it as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"failed to read config file {path!r}: {_one_line(exc, path)}") from exc
    return vars(module)


def _read_config_source(location: str, cwd: str) -> tuple[dict[str, Any], str]:
    """Namespace of a config location (PATH, file:PATH or python:MODULE) and its description."""
    if location.startswith("python:"):
        module_name = location[len("python:") :]
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ConfigError(
                f"failed to import config module {module_name!r}: {_one_line(exc)}"
            ) from exc
        return vars(module), f"config module {module_name!r}"
    path = location[len("file:") :] if location.startswith("file:") else location
    full = os.path.join(cwd, path)
    if not os.path.exists(full):
        raise ConfigError(f"config file {path!r} doesn't exist")
    return _execute_config_file(full), f"config file {path!r}"


def _apply_config_file(cfg: Config, location: str) -> None:
    namespace, source = _read_config_source(location, cfg.cwd)
    for name, value in list(namespace.items()):
        if name in SETTINGS_BY_NAME:  # other names (imports, helpers) are ignored
            cfg.set(name, value, source)


def default_config_file(cwd: str) -> str | None:
    """``<cwd>/gunicorn.conf.py`` when it exists."""
    path = os.path.join(cwd, "gunicorn.conf.py")
    return path if os.path.exists(path) else None


# ----------------------------------------------------------------------------------------------
# Loading.


def load_config(
    argv: Sequence[str],
    environ: Mapping[str, str],
    cwd: str | None = None,
    *,
    check_supported: bool = True,
) -> Config:
    """Build the Config for a command line (``argv`` without the program name).

    Precedence, lowest first: defaults (WEB_CONCURRENCY, PORT, FORWARDED_ALLOW_IPS, SENDFILE
    read from ``environ``) < config file < GUNICORN_CMD_ARGS < ``argv``. The config file is
    ``-c`` from argv, else ``--config`` from GUNICORN_CMD_ARGS, else ``./gunicorn.conf.py``
    if present; relative paths are taken from ``cwd`` (default: the current directory).
    Nothing is changed in the process (no chdir, no environment); see
    ``loader.prepare_environment`` for that.

    ``-h`` and ``-v`` print and exit (SystemExit 0); unknown flags exit with status 2.
    Raises ConfigError for bad values, unreadable config files, settings monoceros cannot
    honour yet (unless ``check_supported`` is False) and a missing application.
    """
    cfg = Config(environ, cwd)
    cfg.argv = list(argv)  # kept so that SIGHUP can read the same sources again
    parser = build_parser()
    cli = parser.parse_args(list(argv))
    env_args = parser.parse_args(shlex.split(cfg.environ.get("GUNICORN_CMD_ARGS", "")))

    # A positional APP_MODULE names the app and the default process title (gunicorn ignores
    # positionals inside GUNICORN_CMD_ARGS).
    if cli.args:
        cfg.app_uri = cli.args[0]
        cfg.set("default_proc_name", cli.args[0])

    with _on_sys_path(cfg.cwd):
        location = cli.config or env_args.config or default_config_file(cfg.cwd)
        if location:
            _apply_config_file(cfg, location)
        _apply_namespace(cfg, env_args, "GUNICORN_CMD_ARGS")
        _apply_namespace(cfg, cli, None)

    if cfg.paste is not None:
        from monoceros.paste import use_paste_app  # PasteDeploy support stays optional

        use_paste_app(cfg)
    if cfg.app_uri is None:
        cfg.app_uri = cfg.wsgi_app
    cfg.addresses  # noqa: B018 -- parse bind now so that a bad address fails at startup
    if check_supported:
        cfg.check_supported()
    if not cfg.app_uri:
        raise ConfigError("No application module specified.")
    return cfg


# ----------------------------------------------------------------------------------------------
# docs/settings.md


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_settings_markdown() -> str:
    """The text of docs/settings.md: one table per section, in table order."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated by scripts/gen-settings-doc from src/monoceros/config.py; do not edit. -->",
        "",
        "monoceros reads gunicorn's settings: the same names in `gunicorn.conf.py`, the same "
        "command-line flags, the same `GUNICORN_CMD_ARGS`. Precedence, lowest first: defaults "
        "(some read from the environment) < config file < `GUNICORN_CMD_ARGS` < command line.",
        "",
        "A setting marked *not yet* is accepted while it keeps its default value, or while "
        "the feature it belongs to is off (then gunicorn does not read it either: `ciphers` "
        "without a `certfile`, the control socket settings with `--no-control-socket`); any "
        "other value stops the server at startup with a message naming the setting.",
        "",
    ]
    for section in SECTIONS:
        lines += [f"## {section}", ""]
        lines += [
            "| setting | flags | default | supported | description |",
            "|---|---|---|---|---|",
        ]
        for s in SETTINGS:
            if s.section != section:
                continue
            flags = ", ".join(f"`{f}`" for f in s.flags) if s.flags else "(config file only)"
            if s.action == "value" or s.action == "append":
                if s.flags and s.metavar:
                    flags += f" {s.metavar}"
            elif s.action == "optional":
                flags += f" [{s.metavar}]"
            if s.action == "append":
                flags += " (repeatable)"
            supported = "yes" if s.supported else "not yet"
            if not s.supported and s.name in _DORMANT_FEATURE_OF:
                supported += f" (accepted while {_DORMANT_FEATURE_OF[s.name].description})"
            if s.name == "worker_class":
                supported = "yes (`sync`, `gthread`, and monoceros' `event`)"
            elif s.name == "logger_class":
                supported = "yes (gunicorn's Logger or a subclass of it)"
            if s.extension:
                supported += " (monoceros extension)"
            cells = [f"`{s.name}`", flags, _default_text(s), supported, s.help]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)
