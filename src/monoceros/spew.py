"""``--spew``: print every line of Python a worker executes, for debugging a hang or a crash.

Each line goes to stdout as ``module:lineno: source``, the format gunicorn's ``--spew`` prints.
"""

from __future__ import annotations

import inspect
import linecache
import sys
from types import FrameType
from typing import Any

__all__ = ["install_spew", "install_spew_if_enabled", "line_report"]


def line_report(frame: FrameType) -> str:
    """``module:lineno: source`` for the line ``frame`` is about to run."""
    lineno = frame.f_lineno
    filename = frame.f_globals.get("__file__")
    if filename:
        if filename.endswith((".pyc", ".pyo")):
            filename = filename[:-1]
        module = frame.f_globals.get("__name__", "[unknown]")
        source = linecache.getline(filename, lineno)
    else:
        # Code without a file (exec'd strings, some frozen modules): ask inspect, which may fail.
        module = "[unknown]"
        try:
            lines, first = inspect.getsourcelines(frame)
            source = lines[lineno - first]
        except (OSError, TypeError, IndexError):
            source = f"<no source for {frame.f_code.co_name}>"
    return f"{module}:{lineno}: {source.rstrip()}"


def _trace(frame: FrameType, event: str, arg: Any) -> Any:
    if event == "line":
        print(line_report(frame))
    return _trace  # keep tracing inside every called function too


def install_spew() -> None:
    """Trace the calling thread from now on."""
    sys.settrace(_trace)


def install_spew_if_enabled(cfg: Any) -> None:
    if cfg.spew:
        install_spew()
