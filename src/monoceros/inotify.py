"""Linux inotify through ctypes: watch directories and learn which of their entries changed.

The reloader needs three libc calls (inotify_init1, inotify_add_watch, read), so they are made
here directly instead of adding a dependency (gunicorn needs the ``inotify`` package for this).
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import sys
from typing import Any

# From <sys/inotify.h>; the values are the same on every Linux architecture.
IN_CLOSE_WRITE = 0x00000008  # a file opened for writing was closed: its new content is complete
IN_MOVED_TO = 0x00000080  # a file was renamed into the directory (editors' atomic saves)
IN_ONLYDIR = 0x01000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC

# struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[]; }
_EVENT_HEAD = struct.Struct("iIII")
_READ_SIZE = 64 * 1024


def _libc_functions() -> tuple[Any, Any]:
    """inotify_init1 and inotify_add_watch from the C library; OSError when there are none."""
    if not sys.platform.startswith("linux"):
        raise OSError(f"inotify exists only on Linux, not on {sys.platform}")
    libc = ctypes.CDLL(None, use_errno=True)  # the running process's symbols include libc's
    try:
        init1, add_watch = libc.inotify_init1, libc.inotify_add_watch
    except AttributeError:
        raise OSError("the C library has no inotify functions") from None
    init1.argtypes, init1.restype = [ctypes.c_int], ctypes.c_int
    add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    add_watch.restype = ctypes.c_int
    return init1, add_watch


def _raise_errno(doing: str) -> None:
    code = ctypes.get_errno()
    raise OSError(code, f"{doing}: {os.strerror(code)}")


class Inotify:
    """One inotify instance: add directory watches, then wait for events on their entries."""

    def __init__(self) -> None:
        init1, self._add_watch = _libc_functions()
        self.fd = init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            _raise_errno("inotify_init1")

    def watch_directory(self, path: str, mask: int) -> int:
        """The watch descriptor that events from entries of ``path`` will carry."""
        wd = self._add_watch(self.fd, os.fsencode(path), mask | IN_ONLYDIR)
        if wd < 0:
            _raise_errno(f"inotify_add_watch {path}")
        return wd

    def read_events(self, timeout: float) -> list[tuple[int, int, str]]:
        """``(watch descriptor, mask, entry name)`` of what happened; empty after ``timeout``
        seconds without events. A watch descriptor of -1 means the kernel queue overflowed."""
        waiter = select.poll()  # not select.select: the descriptor may be above FD_SETSIZE
        waiter.register(self.fd, select.POLLIN)
        if not waiter.poll(timeout * 1000):
            return []
        try:
            data = os.read(self.fd, _READ_SIZE)
        except BlockingIOError:
            return []
        events = []
        offset = 0
        while offset + _EVENT_HEAD.size <= len(data):
            wd, mask, _cookie, length = _EVENT_HEAD.unpack_from(data, offset)
            offset += _EVENT_HEAD.size
            name = data[offset : offset + length].split(b"\0", 1)[0]
            offset += length
            events.append((wd, mask, os.fsdecode(name)))
        return events

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def unavailable_reason() -> str | None:
    """Why inotify cannot be used in this process, or None when it can."""
    try:
        Inotify().close()
    except OSError as error:
        return str(error)
    return None
