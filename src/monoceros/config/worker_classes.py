"""Worker class names: which spellings gunicorn reads as sync, gthread, and monoceros' event."""

from __future__ import annotations

from typing import Any

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


def _worker_class_name(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))
