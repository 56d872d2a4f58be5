"""What monoceros cannot honour yet: refused values, and features whose settings lie dormant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from monoceros import inotify
from monoceros.config.logger_classes import logger_class_refusal
from monoceros.config.setting import Setting
from monoceros.config.worker_classes import _is_event, _is_gthread, _is_sync, _worker_class_name

if TYPE_CHECKING:
    from monoceros.config.model import Config


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
    return logger_class_refusal(cfg)


def _refuse_unusable_reload_engine(cfg: Config, setting: Setting) -> str | None:
    # Only --reload with inotify asked for by name needs it: auto falls back to polling.
    if not cfg.get("reload") or cfg.get("reload_engine") != "inotify":
        return None
    reason = inotify.unavailable_reason()
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
