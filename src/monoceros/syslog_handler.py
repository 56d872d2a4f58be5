"""Syslog output for the ``syslog*`` settings: gunicorn's addresses, facilities and line shape.

A syslog line reads ``<PRI>gunicorn.<prefix>.<error|access>: [<pid>] <message>``, where the
prefix is ``syslog_prefix``, else the process name with ``:`` turned into ``.``; the standard
library's ``SysLogHandler`` adds the priority and sends one datagram (or stream record) per line.
"""

from __future__ import annotations

import logging
import logging.handlers
import socket
from typing import Any

from monoceros.config import ConfigError

__all__ = ["FACILITIES", "make_syslog_handler", "parse_syslog_address", "syslog_facility"]

DEFAULT_PORT = 514

# The facility names gunicorn accepts ("security" is an old alias of "auth").
FACILITIES = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "security": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    **{f"local{n}": 16 + n for n in range(8)},
}

_SETTING = "invalid value for 'syslog_addr' (--log-syslog-to)"


def parse_syslog_address(text: str) -> tuple[int | None, Any]:
    """``(socket type, address)`` for ``unix://PATH[#dgram]``, ``udp://HOST[:PORT]`` or
    ``tcp://HOST[:PORT]``. A unix address without ``#dgram`` has no type: the handler tries a
    datagram socket, then a stream one. Raises ConfigError for anything else."""
    if text.startswith("unix://"):
        path, _, kind = text[len("unix://") :].partition("#")
        return (socket.SOCK_DGRAM if kind == "dgram" else None), path
    for scheme, kind in (("udp://", socket.SOCK_DGRAM), ("tcp://", socket.SOCK_STREAM)):
        if text.startswith(scheme):
            return kind, _host_and_port(text[len(scheme) :], text)
    raise ConfigError(
        f"{_SETTING}: {text!r} is not unix://PATH, udp://HOST:PORT or tcp://HOST:PORT"
    )


def _host_and_port(rest: str, text: str) -> tuple[str, int]:
    if rest.startswith("[") and "]" in rest:  # [IPv6]:PORT
        host, _, after = rest[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
    else:
        host, _, port = rest.partition(":")
    if port and not port.isdigit():
        raise ConfigError(f"{_SETTING}: {port!r} is not a valid port number (in {text!r})")
    return (host.lower() or "localhost"), int(port) if port else DEFAULT_PORT


def syslog_facility(cfg: Any) -> int:
    name = str(cfg.syslog_facility).lower()
    if name not in FACILITIES:
        raise ConfigError(
            f"invalid value for 'syslog_facility' (--log-syslog-facility): unknown facility "
            f"{cfg.syslog_facility!r}; use one of {', '.join(sorted(FACILITIES))}"
        )
    return FACILITIES[name]


def make_syslog_handler(cfg: Any, stream_name: str) -> logging.Handler:
    """A handler sending one logger's records (``stream_name``: error or access) to syslog."""
    prefix = cfg.syslog_prefix or str(cfg.proc_name).replace(":", ".")
    prefix = prefix.replace("%", "%%")  # a literal in the format string
    socktype, address = parse_syslog_address(cfg.syslog_addr)
    facility = syslog_facility(cfg)
    try:
        handler = logging.handlers.SysLogHandler(
            address=address, facility=facility, socktype=socktype
        )
    except OSError as exc:
        raise ConfigError(
            f"{_SETTING}: cannot reach syslog at {cfg.syslog_addr!r} ({exc.strerror or exc})"
        ) from exc
    handler.setFormatter(
        logging.Formatter(f"gunicorn.{prefix}.{stream_name}: [%(process)d] %(message)s")
    )
    return handler
