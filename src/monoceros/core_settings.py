"""The hand-off to the C++ core: a validated Config becomes the typed structs the arbiter and
the workers run on (``_core.ArbiterConfig``, ``_core.WorkerConfig`` and their parts).

This is the one place where gunicorn's readings of a setting are applied before the core uses
it (limit clamps, MiB to bytes, worker class to kind, names upper-cased, ...). The C++ structs
carry no defaults of their own, so a default is written only in the settings table. Each
struct is filled from a mapping of attribute -> value by ``_make``; the tests check that the
mapping names every attribute the bindings expose, so a field added to a struct and bound but
left unfilled fails them.

Only the public surface of Config is used (``cfg.<setting>``, ``cfg.addresses``,
``cfg.worker_class``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from monoceros import _core

T = TypeVar("T")

# gunicorn's clamps of the request limits (its message.py): a request line is never longer
# than this, whatever limit_request_line says (0 means "no limit", which is this limit too).
MAX_REQUEST_LINE = 8190
MAX_HEADERS = 32768  # limit_request_fields: 0 or more than this means this
DEFAULT_FIELD_SIZE = 8190  # limit_request_field_size: 0 means this

MIB = 1024 * 1024

# How gunicorn spells its workers: a name, a dotted class path or an egg entry point.
_EVENT_NAMES = frozenset({"event", "monoceros.event"})
_GTHREAD_NAMES = frozenset(
    {"gthread", "gunicorn.workers.gthread.ThreadWorker", "egg:gunicorn#gthread"}
)

_UNDERSCORE_HEADERS = {
    "drop": _core.UnderscoreHeaders.drop,
    "refuse": _core.UnderscoreHeaders.refuse,
    "dangerous": _core.UnderscoreHeaders.dangerous,
}
_PROXY_PROTOCOL = {
    "off": _core.ProxyProtocolMode.off,
    "v1": _core.ProxyProtocolMode.v1,
    "v2": _core.ProxyProtocolMode.v2,
    "auto": _core.ProxyProtocolMode.any,
}
_LISTEN_KINDS = {
    "tcp": _core.ListenSpec.Kind.tcp,
    "unix": _core.ListenSpec.Kind.unix_path,
    "fd": _core.ListenSpec.Kind.fd,
}


class CoreConfigs(NamedTuple):
    """One configuration as the core takes it: the master's part and the workers' part."""

    arbiter: _core.ArbiterConfig
    worker: _core.WorkerConfig


def _make(cls: type[T], values: Mapping[str, Any]) -> T:
    """A new ``cls`` with each attribute set from ``values``."""
    made = cls()
    for name, value in values.items():
        setattr(made, name, value)
    return made


# -- gunicorn's readings -------------------------------------------------------------------


def worker_kind(worker_class: Any) -> _core.WorkerKind:
    """``cfg.worker_class`` (already promoted to gthread when a sync worker has threads > 1)
    as the core runs it. The config refuses any class other than these three."""
    if isinstance(worker_class, str):
        if worker_class in _EVENT_NAMES:
            return _core.WorkerKind.event
        if worker_class in _GTHREAD_NAMES or worker_class.endswith("ThreadWorker"):
            return _core.WorkerKind.gthread
    return _core.WorkerKind.sync


def statsd_target(host: Any) -> _core.StatsdTarget | None:
    """``statsd_host`` as the config stores it: None, a unix socket path, or (host, port)."""
    if host is None:
        return None
    if isinstance(host, str):
        return _make(_core.StatsdTarget, {"host": "", "port": 0, "unix_path": host})
    return _make(_core.StatsdTarget, {"host": str(host[0]), "port": int(host[1]), "unix_path": ""})


def statsd_prefix(prefix: str | None) -> str:
    """Metric names are joined to the prefix with exactly one dot."""
    prefix = (prefix or "").rstrip(".")
    return f"{prefix}." if prefix else ""


def _listen_spec(address: Any, uid: int, gid: int) -> _core.ListenSpec:
    """One ``cfg.addresses`` entry. Unix socket files are given to ``user`` and ``group`` so
    that the workers, once they have switched to them, may still use the socket."""
    tcp = address.kind == "tcp"
    return _make(
        _core.ListenSpec,
        {
            "kind": _LISTEN_KINDS[address.kind],
            "host": address.host if tcp else "",
            "port": address.port if tcp else 0,
            "path": address.path if address.kind == "unix" else "",
            "owner_uid": uid,
            "owner_gid": gid,
            "fd": address.fd if address.kind == "fd" else -1,
        },
    )


# -- the master ----------------------------------------------------------------------------


def arbiter_config(
    cfg: Any,
    *,
    version: str,
    upgrade_parent: int = 0,
    inherited_fds: Iterable[int] = (),
    socket_activation: bool = False,
) -> _core.ArbiterConfig:
    """What the master acts on. ``upgrade_parent`` and ``inherited_fds`` describe a binary
    upgrade (SIGUSR2) or systemd's sockets (``socket_activation``): facts of this start, not
    settings."""
    uid, gid = cfg.user, cfg.group
    memory_mib = cfg.max_worker_memory
    return _make(
        _core.ArbiterConfig,
        {
            "binds": [_listen_spec(address, uid, gid) for address in cfg.addresses],
            "backlog": cfg.backlog,
            "workers": cfg.workers,
            "timeout": float(cfg.timeout),
            "graceful_timeout": float(cfg.graceful_timeout),
            "umask": cfg.umask,
            "worker_tmp_dir": cfg.worker_tmp_dir or "",  # "": heartbeats in shared memory
            "daemon": bool(cfg.daemon),
            "proc_name": cfg.proc_name,
            "statsd": statsd_target(cfg.statsd_host),
            "statsd_prefix": statsd_prefix(cfg.statsd_prefix),
            "dogstatsd_tags": cfg.dogstatsd_tags or "",
            "backlog_metric": bool(cfg.enable_backlog_metric),
            "upgrade_parent": upgrade_parent,
            "inherited_fds": list(inherited_fds),
            "socket_activation": socket_activation,
            "reuse_port": bool(cfg.reuse_port),
            "max_worker_memory": memory_mib * MIB if memory_mib > 0 else 0,
            "worker_class_name": cfg.worker_class_str,  # as the user wrote it, for the log
            "version": version,
        },
    )


# -- the workers ---------------------------------------------------------------------------


def parser_options(cfg: Any) -> _core.ParserOptions:
    line = cfg.limit_request_line
    fields = cfg.limit_request_fields
    forwarders = [name.upper() for name in cfg.forwarder_headers]
    return _make(
        _core.ParserOptions,
        {
            "limit_request_line": min(line, MAX_REQUEST_LINE),
            "limit_request_fields": fields if 0 < fields <= MAX_HEADERS else MAX_HEADERS,
            "limit_request_field_size": cfg.limit_request_field_size or DEFAULT_FIELD_SIZE,
            "permit_obsolete_folding": bool(cfg.permit_obsolete_folding),
            "strip_header_spaces": bool(cfg.strip_header_spaces),
            "permit_unconventional_http_method": bool(cfg.permit_unconventional_http_method),
            "permit_unconventional_http_version": bool(cfg.permit_unconventional_http_version),
            "casefold_http_method": bool(cfg.casefold_http_method),
            # RFC 9112 section 3.2 makes Host a MUST; gunicorn accepts its absence.
            "require_host": not cfg.permit_missing_host,
            "header_map": _UNDERSCORE_HEADERS[cfg.header_map],
            "forwarder_headers": forwarders,
            "forwarder_headers_all": "*" in forwarders,
        },
    )


def worker_config(
    cfg: Any, *, server_software: str, server_header: str, script_name: str
) -> _core.WorkerConfig:
    """What every worker of this configuration acts on, made once in the master. A worker
    copies it and sets its own ``max_requests`` (gunicorn's jitter is drawn per worker).
    ``server_software`` and ``server_header`` name the server (see runner.server_identity);
    ``script_name`` is the SCRIPT_NAME of the master's environment."""
    kind = worker_kind(cfg.worker_class)
    gthread = kind == _core.WorkerKind.gthread
    threads = max(1, cfg.threads) if gthread else 0
    spool_mib = cfg.body_spool_limit
    environ = _make(
        _core.EnvironSettings,
        {
            "multiprocess": cfg.workers > 1,
            "multithread": gthread,  # gunicorn: True in gthread, whatever `threads` is
            "server_software": server_software,
            "script_name": script_name,
            "secure_scheme_headers": [
                (str(name).upper(), str(value)) for name, value in cfg.secure_scheme_headers.items()
            ],
        },
    )
    response = _make(
        _core.ResponseSettings, {"server": server_header, "sendfile": bool(cfg.sendfile)}
    )
    return _make(
        _core.WorkerConfig,
        {
            "kind": kind,
            "parser": parser_options(cfg),
            "forwarded_allow_ips": [str(ip) for ip in cfg.forwarded_allow_ips],
            "proxy_protocol": _PROXY_PROTOCOL[cfg.proxy_protocol],
            "proxy_allow_ips": [str(ip) for ip in cfg.proxy_allow_ips],
            "threads": threads,
            "keepalive": float(cfg.keepalive),
            "max_requests": max(cfg.max_requests, 0),  # 0: never replaced
            "worker_connections": cfg.worker_connections,
            "timeout": float(cfg.timeout),
            "limit_request_body": max(cfg.limit_request_body, 0),  # 0: no limit
            "tmp_upload_dir": cfg.tmp_upload_dir or "",
            # MiB in the table; None (automatic) is -1 for the core, see WorkerConfig.
            "body_spool_limit": -1 if spool_mib is None else spool_mib * MIB,
            "workers": cfg.workers,
            "environ": environ,
            "response": response,
            "access_log_format": cfg.access_log_format,
            "statsd": statsd_target(cfg.statsd_host),
            "statsd_prefix": statsd_prefix(cfg.statsd_prefix),
            "dogstatsd_tags": cfg.dogstatsd_tags or "",
        },
    )


def core_configs(
    cfg: Any,
    *,
    version: str,
    server_software: str,
    server_header: str,
    script_name: str,
    upgrade_parent: int = 0,
    inherited_fds: Iterable[int] = (),
    socket_activation: bool = False,
) -> CoreConfigs:
    """Both parts of one configuration (at startup, and again at each SIGHUP)."""
    return CoreConfigs(
        arbiter_config(
            cfg,
            version=version,
            upgrade_parent=upgrade_parent,
            inherited_fds=inherited_fds,
            socket_activation=socket_activation,
        ),
        worker_config(
            cfg,
            server_software=server_software,
            server_header=server_header,
            script_name=script_name,
        ),
    )
