"""StatsD metrics sent from Python: the error log's level counters, and metrics logged by
hooks and apps through ``extra={"metric": ..., "value": ..., "mtype": ...}``.

The per-request metrics and the workers gauge are sent by the C++ core itself (see
cpp/log/statsd.hpp); this covers what passes through Python logging, as gunicorn's statsd
logger does.
"""

from __future__ import annotations

import logging
from typing import Any

from monoceros import _core

# Metric types gunicorn accepts in `extra["mtype"]`, and the client method for each.
_SENDERS = {"gauge": "gauge", "counter": "increment", "histogram": "histogram", "timer": "timer"}


class StatsdLogHandler(logging.Handler):
    """Counts warnings, errors, exceptions and critical lines, and forwards logged metrics."""

    def __init__(self, client: Any) -> None:
        super().__init__(level=logging.NOTSET)
        self.client = client

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send_logged_metric(record)
            counter = _level_counter(record)
            if counter is not None:
                self.client.increment(counter, 1)
        except Exception:
            self.handleError(record)

    def _send_logged_metric(self, record: logging.LogRecord) -> None:
        metric = getattr(record, "metric", None)
        value = getattr(record, "value", None)
        sender = _SENDERS.get(getattr(record, "mtype", None))
        if not metric or value is None or sender is None:
            return
        if sender == "timer":
            self.client.timer(str(metric), float(value))
        else:
            getattr(self.client, sender)(str(metric), int(value))


def _level_counter(record: logging.LogRecord) -> str | None:
    if record.levelno >= logging.CRITICAL:
        return "gunicorn.log.critical"
    if record.levelno >= logging.ERROR:
        # logger.exception() is an error with the traceback attached.
        return "gunicorn.log.exception" if record.exc_info else "gunicorn.log.error"
    if record.levelno >= logging.WARNING:
        return "gunicorn.log.warning"
    return None


def install(error_log: logging.Logger, target: Any, prefix: str, tags: str) -> None:
    """Send the error log's metrics to ``target`` (a _core.StatsdTarget, or None for none),
    each name after ``prefix`` (its dot included), with the DogStatsD ``tags``."""
    if target is None:
        return
    try:
        client = _core.Statsd(target, prefix, tags)
    except ValueError as error:
        error_log.warning("StatsD metrics are off: %s", error)
        return
    error_log.addHandler(StatsdLogHandler(client))
