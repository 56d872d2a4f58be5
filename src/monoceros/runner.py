"""Run monoceros: the C++ arbiter in the master process and, in each forked worker, the
C++ worker loop serving the app.

Python only does what needs Python: logging, loading the app, and the worker's signal
handlers (which must run in the interpreter so that ``sys.exit`` unwinds the app cleanly).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from monoceros import __version__, _core
from monoceros.config import SETTINGS
from monoceros.loader import AppImportError, load_wsgi_app, prepare_environment
from monoceros.logging import WSGIErrors, access_logger, error_logger, reopen_files, setup_logging

# gunicorn's worker exit statuses that make the arbiter stop instead of forking again.
WORKER_BOOT_ERROR = 3
APP_LOAD_ERROR = 4


def run(cfg: Any) -> int:
    """Serve until shut down; returns the process exit status (master or worker)."""
    setup_logging(cfg)
    log = error_logger()
    _core.set_error_logger(log.log, log.getEffectiveLevel())
    if log.isEnabledFor(10):  # logging.DEBUG; gunicorn shows the resolved settings
        lines = (f"  {s.name}: {cfg.get(s.name)}" for s in sorted(SETTINGS, key=lambda s: s.name))
        log.debug("Current configuration:\n%s", "\n".join(lines))
    prepare_environment(cfg)

    app = None
    if cfg.preload_app:
        app = _load_app(cfg.app_uri, report=True)
        if app is None:
            return APP_LOAD_ERROR

    settings = _core_settings(cfg)
    arbiter = _core.Arbiter(settings)
    outcome = arbiter.run()
    if isinstance(outcome, int):
        return outcome
    # This is a new worker process; the arbiter object stays referenced while it runs.
    return _run_worker(outcome, app, cfg, settings)


def _core_settings(cfg: Any) -> dict[str, Any]:
    settings = cfg.to_core()
    settings.update(
        version=__version__,
        worker_class="sync",
        server_software=f"monoceros/{__version__}",
        script_name=os.environ.get("SCRIPT_NAME", ""),
        reopen_logs=reopen_files,
    )
    return settings


def _load_app(uri: str, *, report: bool) -> Any:
    """The app, or None after logging why it could not be loaded (when ``report``)."""
    log = error_logger()
    try:
        return load_wsgi_app(uri)
    except AppImportError as error:
        if report:
            # The traceback first, then the one line that says what to fix.
            if error.__cause__ is not None:
                log.error("Exception while loading the application", exc_info=error.__cause__)
            log.error("%s", error)
        return None
    except Exception as error:  # the app's module raised something unexpected
        if report:
            log.error("Exception while loading the application", exc_info=error)
            log.error("Failed to load the application %r: %s", uri, error)
        return None


class _WorkerSignals:
    """gunicorn's worker signal semantics, installed before the app loads."""

    def __init__(self) -> None:
        self.worker: Any = None
        self.stop_requested = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, self.on_quit)
        signal.signal(signal.SIGQUIT, self.on_quit)
        signal.signal(signal.SIGABRT, self.on_abort)
        signal.signal(signal.SIGUSR1, self.on_usr1)
        signal.signal(signal.SIGWINCH, self.on_winch)
        # HUP, USR2 and CHLD keep their default actions in a worker, as in gunicorn.

    def attach(self, worker: Any) -> None:
        self.worker = worker
        signal.set_wakeup_fd(worker.wakeup_fd, warn_on_full_buffer=False)
        if self.stop_requested:
            worker.stop()

    def on_term(self, signum: int, frame: Any) -> None:
        # Graceful: finish what was accepted, then leave the loop.
        self.stop_requested = True
        if self.worker is not None:
            self.worker.stop()

    def on_quit(self, signum: int, frame: Any) -> None:
        sys.exit(0)

    def on_abort(self, signum: int, frame: Any) -> None:
        # The arbiter sends SIGABRT to a worker whose heartbeat stopped (timeout).
        sys.exit(1)

    def on_usr1(self, signum: int, frame: Any) -> None:
        reopen_files()

    def on_winch(self, signum: int, frame: Any) -> None:
        error_logger().debug("worker: SIGWINCH ignored.")


def _run_worker(launch: Any, app: Any, cfg: Any, settings: dict[str, Any]) -> int:
    log = error_logger()
    pid = os.getpid()
    signals = _WorkerSignals()
    signals.install()
    try:
        if app is None:
            # Every worker fails the same way; only the first one tells the operator.
            app = _load_app(cfg.app_uri, report=launch.claim_load_error_report())
            if app is None:
                return APP_LOAD_ERROR
        try:
            worker = _core.Worker(
                launch,
                app,
                settings,
                WSGIErrors(cfg),
                _report_exception,
                access_logger().info if cfg.accesslog is not None else None,
            )
        except Exception as error:
            log.error("Worker failed to boot: %s", error, exc_info=error)
            return WORKER_BOOT_ERROR
        signals.attach(worker)
        worker.run()
        return 0
    except SystemExit as exit_request:
        code = exit_request.code
        return code if isinstance(code, int) else 0
    finally:
        log.info("Worker exiting (pid: %s)", pid)


def _report_exception(message: str, error: BaseException) -> None:
    error_logger().error(message, exc_info=error)
