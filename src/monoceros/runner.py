"""Run monoceros: the C++ arbiter in the master process and, in each forked worker, the
C++ worker loop serving the app.

Python only does what needs Python: logging, loading the app, and the worker's signal
handlers (which must run in the interpreter so that ``sys.exit`` unwinds the app cleanly).
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import threading
import traceback
from types import SimpleNamespace
from typing import Any

from monoceros import (
    __version__,
    _core,
    core_settings,
    hangup,
    hooks,
    metrics,
    process,
    reloader,
    systemd,
    upgrade,
)
from monoceros.config import SETTINGS
from monoceros.loader import AppImportError, load_wsgi_app, prepare_environment
from monoceros.logging import (
    WSGIErrors,
    error_logger,
    redirect_output_to_error_log,
    reopen_files,
    setup_logging,
    worker_request_logging,
)
from monoceros.spew import install_spew_if_enabled

# gunicorn's worker exit statuses that make the arbiter stop instead of forking again.
WORKER_BOOT_ERROR = 3
APP_LOAD_ERROR = 4


def run(cfg: Any) -> int:
    """Serve until shut down; returns the process exit status (master or worker)."""
    # chdir and pythonpath first, as in gunicorn: relative log paths and a logger_class are
    # found from there.
    start = upgrade.StartContext.capture(os.environ, os.getcwd())  # before raw_env and chdir
    activated = systemd.take_listen_fds(os.environ, os.getpid())  # systemd's sockets, if any
    inheritance = upgrade.take_inheritance(os.environ, activated)  # set when SIGUSR2 started us
    environment = hangup.EnvironmentKeys()
    environment.remember(cfg)
    prepare_environment(cfg)
    logger = setup_logging(cfg)  # server.log in hooks: ours, or the user's logger_class
    log = error_logger()
    _core.set_error_logger(log.log, log.getEffectiveLevel())
    if log.isEnabledFor(10):  # logging.DEBUG; gunicorn shows the resolved settings
        lines = (f"  {s.name}: {cfg.get(s.name)}" for s in sorted(SETTINGS, key=lambda s: s.name))
        log.debug("Current configuration:\n%s", "\n".join(lines))
        for line in cfg.dormant_settings():
            log.debug("%s", line)
    pidfile_path = upgrade.upgrade_pidfile(cfg.pidfile, inheritance)
    # May detach (daemon): from here on stderr may be /dev/null.
    process.prepare_master(cfg, pidfile_path, upgrading=inheritance is not None)
    redirect_output_to_error_log(cfg)  # capture_output, after daemonizing as gunicorn does

    app = None
    if cfg.preload_app:
        app = _load_app(cfg.app_uri, report=True)
        if app is None:
            return APP_LOAD_ERROR

    server = hooks.Server(cfg, logger, SimpleNamespace(cfg=cfg, app_uri=cfg.app_uri, callable=app))
    # The sockets this master starts with: systemd's, or those of the master that upgraded
    # to this one (SIGUSR2), or none (it binds its own).
    inherited_fds: list[int] = activated
    if inheritance is not None:
        inherited_fds = inheritance.fds
        server.master_pid = inheritance.parent
    configs = _core_configs(
        cfg,
        upgrade_parent=inheritance.parent if inheritance is not None else 0,
        inherited_fds=inherited_fds,
        socket_activation=bool(activated),
    )
    master = configs.arbiter
    metrics.install(log, master.statsd, master.statsd_prefix, master.dogstatsd_tags)
    events = hooks.MasterEvents(server, configs.worker)  # hooks, SIGHUP and SIGUSR2
    events.reloader = hangup.Reloader(server, _core_configs, environment)
    events.upgrader = lambda parent, fds: upgrade.exec_new_master(
        start, parent, fds, socket_activation=bool(activated)
    )
    arbiter = _core.Arbiter(configs.arbiter, reopen_files, events)
    server.attach(arbiter)
    with process.master_pidfile(pidfile_path) as pidfile:
        if pidfile is not None and inheritance is not None:
            events.on_promotion = lambda: pidfile.rename(server.cfg.pidfile)
        outcome = arbiter.run()
    if isinstance(outcome, int):
        return outcome
    # This is a new worker process; the arbiter object stays referenced while it runs. It
    # starts with the configuration of its time (SIGHUP may have replaced the first one).
    worker = events.worker_in_child(outcome.age)
    return _run_worker(outcome, app, server.cfg, events.worker_config, server, worker)


# What gunicorn 27.0.1, the release monoceros matches, calls itself (--identify-as-gunicorn).
GUNICORN_SERVER = "gunicorn"
GUNICORN_SERVER_SOFTWARE = "gunicorn/27.0.1"


def server_identity(cfg: Any) -> tuple[str, str]:
    """(SERVER_SOFTWARE, Server header) for this configuration."""
    if cfg.identify_as_gunicorn:
        return GUNICORN_SERVER_SOFTWARE, GUNICORN_SERVER
    return f"monoceros/{__version__}", "monoceros"


def _core_configs(cfg: Any, **start: Any) -> core_settings.CoreConfigs:
    """The core's configuration from ``cfg`` (at startup, and at each SIGHUP). ``start``: the
    facts of this master's start (see core_settings.arbiter_config)."""
    software, server = server_identity(cfg)
    # As gunicorn's arbiter does: the app sees the name in os.environ too (also after a HUP
    # that changed the setting; workers are forked after this).
    os.environ["SERVER_SOFTWARE"] = software
    return core_settings.core_configs(
        cfg,
        version=__version__,
        server_software=software,
        server_header=server,
        script_name=os.environ.get("SCRIPT_NAME", ""),
        **start,
    )


def _load_app(uri: str, *, report: bool, serve_syntax_errors: bool = False) -> Any:
    """The app, or None after logging why it could not be loaded (when ``report``)."""
    log = error_logger()
    try:
        return load_wsgi_app(uri)
    except AppImportError as error:
        if serve_syntax_errors and isinstance(error.__cause__, SyntaxError):
            # --reload: a typo saved mid-edit must not stop the server (gunicorn's behaviour).
            log.error("Exception while loading the application", exc_info=error.__cause__)
            return reloader.SyntaxErrorApp(error.__cause__)
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

    def __init__(self, cfg: Any, hook_worker: hooks.Worker) -> None:
        self.cfg = cfg
        self.hook_worker = hook_worker  # the `worker` argument of worker_int / worker_abort
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
        self.hook_worker.alive = False
        hooks.call_hook(self.cfg, error_logger(), "worker_int", self.hook_worker)
        sys.exit(0)

    def on_abort(self, signum: int, frame: Any) -> None:
        # The arbiter sends SIGABRT to a worker whose heartbeat stopped (timeout). Say where
        # the worker was stuck: usually a request that ran too long, named by its stack.
        stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
        error_logger().error(
            "Worker (pid:%s) aborted, probably for exceeding the timeout; it was running "
            "(most recent call last):\n%s",
            os.getpid(),
            stack.rstrip(),
        )
        self.hook_worker.alive = False
        self.hook_worker.aborted = True
        hooks.call_hook(self.cfg, error_logger(), "worker_abort", self.hook_worker)
        sys.exit(1)

    def on_usr1(self, signum: int, frame: Any) -> None:
        reopen_files()

    def on_winch(self, signum: int, frame: Any) -> None:
        error_logger().debug("worker: SIGWINCH ignored.")


def _run_worker(
    launch: Any,
    app: Any,
    cfg: Any,
    worker_config: _core.WorkerConfig,
    server: hooks.Server,
    hook_worker: hooks.Worker,
) -> int:
    install_spew_if_enabled(cfg)
    log = error_logger()
    pid = os.getpid()
    signals = _WorkerSignals(cfg, hook_worker)
    signals.install()
    try:
        if not _boot_hook(cfg, "post_fork", server, hook_worker):
            return WORKER_BOOT_ERROR
        if not process.become_worker_user(cfg):
            return WORKER_BOOT_ERROR
        if app is None:
            # Every worker fails the same way; only the first one tells the operator.
            app = _load_app(
                cfg.app_uri,
                report=launch.claim_load_error_report(),
                serve_syntax_errors=cfg.reload,
            )
            if app is None:
                return APP_LOAD_ERROR
        hook_worker.wsgi = app
        request_hooks = hooks.RequestHooks(cfg, hook_worker)
        pre_request, post_request, access_sink = worker_request_logging(
            cfg, server.log, request_hooks.pre_request, request_hooks.post_request
        )
        # The master's config of this worker's generation, with this worker's own jitter.
        config = copy.copy(worker_config)
        config.max_requests = hook_worker.max_requests
        try:
            worker = _core.Worker(
                launch,
                app,
                config,
                errors=WSGIErrors(cfg),
                report_exception=_report_exception,
                access_log=access_sink,
                pre_request=pre_request,
                post_request=post_request,
            )
        except Exception as error:
            log.error("Worker failed to boot: %s", error, exc_info=error)
            return WORKER_BOOT_ERROR
        hook_worker.attach(worker)
        signals.attach(worker)
        if cfg.reload:
            reloader.start(cfg, hook_worker, worker.wakeup_fd, app)
        if not _boot_hook(cfg, "post_worker_init", hook_worker):
            return WORKER_BOOT_ERROR
        app_threads = _start_app_threads(worker)
        worker.run()
        # A graceful stop returns once every request is answered, so the threads are idle
        # and leave at once; the join only bounds it.
        for thread in app_threads:
            thread.join(timeout=cfg.graceful_timeout)
        return 0
    except SystemExit as exit_request:
        code = exit_request.code
        return code if isinstance(code, int) else 0
    finally:
        log.info("Worker exiting (pid: %s)", pid)
        hooks.call_hook(cfg, log, "worker_exit", server, hook_worker)


def _start_app_threads(worker: Any) -> list[threading.Thread]:
    """gthread: the threads that run the app. They are daemons, so an immediate exit
    (SIGQUIT, SIGINT) does not wait for a request that is still running."""
    threads = [
        threading.Thread(target=worker.serve_requests, name=f"ThreadWorker-{n}", daemon=True)
        for n in range(1, worker.threads + 1)
    ]
    for thread in threads:
        thread.start()
    return threads


def _boot_hook(cfg: Any, name: str, *args: Any) -> bool:
    """Run a hook of a booting worker. If it fails, the worker cannot be trusted to serve: it
    exits as a boot failure, which stops the arbiter instead of forking the failure again."""
    try:
        cfg.get(name)(*args)
        return True
    except Exception:
        error_logger().exception("Exception in %s hook; the worker cannot boot", name)
        return False


def _report_exception(message: str, error: BaseException) -> None:
    error_logger().error(message, exc_info=error)
