"""The hand-off to the C++ core: ``Config.to_core()``, the plain values the core reads."""

from __future__ import annotations

from typing import Any

from monoceros.config.validators import LOG_LEVELS
from monoceros.config.worker_classes import _is_event, _is_gthread


class CoreHandoff:
    """Config inherits ``to_core`` from here (``self`` is the Config): the hand-off is kept in
    this one module so that it can be replaced as a whole."""

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
