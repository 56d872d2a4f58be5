"""--reload: a worker restarts when a source file of its code (or an extra watched file) changes.

Each worker watches, from a daemon thread, the files of every module it has imported plus
``reload_extra_files`` (glob patterns re-expanded as files appear). On the first change it logs
gunicorn's line, stops taking work, calls ``worker_int`` and lets its loop finish; the arbiter
then forks a fresh worker, which imports the new code. The C++ loop releases the GIL while it
waits, so this thread runs while the worker is idle.

Engines: ``poll`` stats every file each second; ``inotify`` asks the kernel for the events of
the files' directories (monoceros.inotify); ``auto`` is inotify where it works, else poll.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from monoceros import hooks, inotify
from monoceros.logging import error_logger

CHECK_INTERVAL = 1.0  # seconds between polls, and between inotify re-reads of the module list
HOOK_GRACE = 10.0  # how long the exiting process waits for worker_int to finish (seconds)
_GLOB_MAGIC = re.compile(r"[*?[]")  # what makes a reload_extra_files entry a pattern

OnChange = Callable[[str], None]


class WatchList:
    """The files one worker watches, listed afresh on each call of ``paths()`` so that modules
    imported later and files that newly match a pattern are included."""

    def __init__(self, entries: Iterable[str], base_dir: str) -> None:
        # Relative entries are relative to the directory monoceros started in, not --chdir.
        self.files: set[str] = set()
        self.patterns: list[str] = []
        for entry in entries:
            path = os.path.join(base_dir, entry)
            if _GLOB_MAGIC.search(entry):
                self.patterns.append(path)
            else:
                self.files.add(os.path.abspath(path))

    def add(self, path: str) -> None:
        self.files.add(os.path.abspath(path))

    def paths(self) -> set[str]:
        found = set(self.files)
        for module in tuple(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if isinstance(filename, str):
                found.add(os.path.abspath(_source_of(filename)))
        for pattern in self.patterns:
            found.update(glob.glob(pattern, recursive=True))
        # An edit through a symlink changes its target: watch where the link points too.
        return found | {os.path.realpath(path) for path in found if os.path.islink(path)}


def _source_of(filename: str) -> str:
    """A sourceless module's ``.pyc``/``.pyo`` stands for the ``.py`` beside it, as in gunicorn."""
    return filename[:-1] if filename.endswith((".pyc", ".pyo")) else filename


class PollWatcher(threading.Thread):
    """Stat every watched file each second; a changed modification time is a change."""

    def __init__(self, watch: WatchList, on_change: OnChange) -> None:
        super().__init__(name="monoceros-reloader", daemon=True)
        self.watch = watch
        self.on_change = on_change
        self.mtimes: dict[str, int] = {}
        # The first times are taken now, before the worker serves: an edit made once it
        # answers is never mistaken for the starting point.
        self._changed_file()

    def run(self) -> None:
        while True:
            time.sleep(CHECK_INTERVAL)
            path = self._changed_file()
            if path is not None:
                self.on_change(path)
                return

    def _changed_file(self) -> str | None:
        for path in self.watch.paths():
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                continue  # gone, or not there yet: only an edit counts, as in gunicorn
            if self.mtimes.setdefault(path, mtime) != mtime:
                return path
        return None


class InotifyWatcher(threading.Thread):
    """Watch the directories of the watched files; a file written and closed, or renamed into
    place (an editor's atomic save), is a change. Creation, deletion and renames away are not:
    a new worker started on a half-saved tree would fail to import the app and stop the server.
    """

    MASK = inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO

    def __init__(self, watch: WatchList, on_change: OnChange) -> None:
        super().__init__(name="monoceros-reloader", daemon=True)
        self.watch = watch
        self.on_change = on_change
        self.inotify = inotify.Inotify()  # OSError here lets the caller fall back to polling
        self.directories: dict[int, str] = {}  # watch descriptor -> directory
        # Watch now, before the worker serves, so that no edit made once it answers is missed.
        self.files = self._refresh()

    def run(self) -> None:
        files = self.files
        refreshed = time.monotonic()
        while True:
            for wd, _mask, name in self.inotify.read_events(CHECK_INTERVAL):
                directory = self.directories.get(wd)
                if directory is None or not name:
                    continue  # a queue overflow or an event on the directory itself
                path = os.path.join(directory, name)
                # Other files share these directories; a new pattern match counts too.
                if path in files or path in (files := self.watch.paths()):
                    self.on_change(path)
                    return
            if time.monotonic() - refreshed >= CHECK_INTERVAL:
                files = self._refresh()  # modules imported since, new pattern matches
                refreshed = time.monotonic()

    def _refresh(self) -> set[str]:
        files = self.watch.paths()
        known = set(self.directories.values())
        for directory in {os.path.dirname(path) for path in files} - known:
            with contextlib.suppress(OSError):  # gone meanwhile: nothing there to edit
                self.directories[self.inotify.watch_directory(directory, self.MASK)] = directory
        return files


class SyntaxErrorApp:
    """What a worker serves, with --reload, when the app failed to load with a SyntaxError: the
    traceback, as a 500 (as gunicorn does), so that a typo saved mid-edit shows in the browser
    instead of stopping the server. The broken file is watched; fixing it reloads."""

    def __init__(self, error: SyntaxError) -> None:
        self.filename = error.filename
        self.body = "".join(traceback.format_exception(error)).encode("utf-8", "replace")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(self.body)))]
        start_response("500 Internal Server Error", headers)
        return [self.body]


class _Restart:
    """What a change does to the worker, in gunicorn's order: log, stop taking work, call
    worker_int, then wake the loop so that it finishes what it accepted and returns."""

    def __init__(self, cfg: Any, hook_worker: hooks.Worker, wakeup_fd: int) -> None:
        self.cfg = cfg
        self.hook_worker = hook_worker
        self.wakeup_fd = wakeup_fd

    def __call__(self, path: str) -> None:
        log = error_logger()
        log.info("Worker reloading: %s modified", path)
        # This thread is a daemon: keep the interpreter from finishing under worker_int.
        hook_done = threading.Event()
        atexit.register(hook_done.wait, HOOK_GRACE)
        # worker_int sees alive False, and runs before the loop is stopped: the worker cannot
        # reach worker_exit while the hook is still running in this thread.
        self.hook_worker.mark_stopping()
        try:
            hooks.call_hook(self.cfg, log, "worker_int", self.hook_worker)
        finally:
            hook_done.set()
        self.hook_worker.alive = False
        # The loop may be asleep in epoll_wait; a full pipe means it is awake already.
        with contextlib.suppress(OSError):
            os.write(self.wakeup_fd, b"\0")


def start(cfg: Any, hook_worker: hooks.Worker, wakeup_fd: int, app: Any) -> None:
    """Start watching, in a worker whose app is loaded and whose loop exists."""
    log = error_logger()
    log.warning("Reloader is on. Use in development only!")
    if cfg.preload_app:
        log.warning(
            "--reload with --preload: workers restart on a change, but they are forked from "
            "the master and so run the code it loaded at startup"
        )
    watch = WatchList(cfg.reload_extra_files, cfg.cwd)
    if isinstance(app, SyntaxErrorApp) and app.filename:
        watch.add(app.filename)  # not in sys.modules: its import failed
    watcher = _make_watcher(cfg.reload_engine, watch, _Restart(cfg, hook_worker, wakeup_fd))
    hook_worker.reloader = watcher  # gunicorn's workers carry theirs as `worker.reloader`
    watcher.start()


def _make_watcher(engine: str, watch: WatchList, on_change: OnChange) -> threading.Thread:
    if engine == "poll":
        return PollWatcher(watch, on_change)
    try:
        return InotifyWatcher(watch, on_change)
    except OSError as error:
        # Startup refused an unusable inotify; this is a worker-time failure (e.g. the per-user
        # instance limit reached): polling still reloads, so say so and carry on.
        if engine == "inotify":
            error_logger().warning("inotify failed (%s); the reloader polls instead", error)
        return PollWatcher(watch, on_change)
