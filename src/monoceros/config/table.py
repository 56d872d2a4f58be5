"""The settings table: one row per gunicorn setting in gunicorn's order, then monoceros' own."""

from __future__ import annotations

import inspect
import ssl
import sys
from collections.abc import Callable
from typing import Any

from monoceros.config.defaults import (
    _default_bind,
    _default_chdir,
    _default_control_socket,
    _default_forwarded_allow_ips,
    _default_gid,
    _default_syslog_addr,
    _default_uid,
    _default_workers,
    child_exit,
    dirty_post_fork,
    dirty_worker_exit,
    dirty_worker_init,
    nworkers_changed,
    on_dirty_starting,
    on_exit,
    on_reload,
    on_starting,
    post_fork,
    post_request,
    post_worker_init,
    pre_exec,
    pre_fork,
    pre_request,
    ssl_context,
    when_ready,
    worker_abort,
    worker_exit,
    worker_int,
)
from monoceros.config.setting import Setting
from monoceros.config.validators import (
    _account,
    _bool,
    _choice,
    _class_or_name,
    _comma_list,
    _dict,
    _directory,
    _files_or_patterns,
    _gid_of,
    _hook,
    _http_protocols,
    _int,
    _int_between,
    _int_or_none,
    _ip_list,
    _keep,
    _loglevel,
    _octal_int,
    _octal_text,
    _positional_count,
    _post_request_hook,
    _raw_env,
    _reload_engine,
    _statsd_address,
    _string,
    _string_list,
    _uid_of,
)

# The sections rows belong to: argparse groups in --help, headings in docs/settings.md.
CONFIG_FILE = "Config File"
SOCKET = "Server Socket"
WORKERS = "Worker Processes"
SECURITY = "Security"
DEBUGGING = "Debugging"
MECHANICS = "Server Mechanics"
LOGGING = "Logging"
NAMING = "Process Naming"
HOOKS = "Server Hooks"
TLS = "SSL"
HTTP2 = "HTTP/2"
DIRTY = "Dirty Arbiters"
DIRTY_HOOKS = "Dirty Arbiter Hooks"
CONTROL = "Control"

_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _flag(name: str, section: str, flags: tuple[str, ...], help: str, **kw: Any) -> Setting:
    """A boolean switch (``store_true``)."""
    kw.setdefault("default", False)
    return Setting(name, section, flags, help=help, validator=_bool, action="flag", **kw)


def _number(name: str, section: str, flags: tuple[str, ...], default: int, help: str, **kw):
    """A non-negative integer option (parsed as a decimal on the command line)."""
    kw.setdefault("validator", _int)
    kw.setdefault("cli_type", int)
    kw.setdefault("metavar", "INT")
    return Setting(name, section, flags, help=help, default=default, **kw)


def _text(name: str, section: str, flags: tuple[str, ...], default: Any, help: str, **kw):
    """A string option."""
    kw.setdefault("validator", _string)
    return Setting(name, section, flags, help=help, default=default, **kw)


# Every server hook is called (monoceros.hooks) except ssl_context, which comes with TLS; the
# dirty-arbiter hooks come with dirty arbiters.
_HOOKS_NOT_CALLED_YET = frozenset({"ssl_context"})


def _hook_row(name: str, section: str, fn: Callable, help: str, **kw: Any) -> Setting:
    arity = _positional_count(fn)
    params = ", ".join(inspect.signature(fn).parameters)
    validator = kw.pop("validator", _hook(arity))
    kw.setdefault("default_doc", "no-op")
    kw.setdefault("supported", section == HOOKS and name not in _HOOKS_NOT_CALLED_YET)
    return Setting(
        name,
        section,
        (),
        help=f"`{name}({params})`: {help}",
        validator=validator,
        default=fn,
        **kw,
    )


SETTINGS: tuple[Setting, ...] = (
    # -- Config File ---------------------------------------------------------------------------
    _text(
        "config",
        CONFIG_FILE,
        ("-c", "--config"),
        "./gunicorn.conf.py",
        "Configuration file to read: a path, `file:PATH`, or `python:MODULE` to import a "
        "module. Without it, `./gunicorn.conf.py` is read when it exists.",
        metavar="CONFIG",
        supported=True,
    ),
    _text(
        "wsgi_app",
        CONFIG_FILE,
        (),
        None,
        "The WSGI application as `module:callable`, for use in a config file; an APP_MODULE "
        "given on the command line wins over it.",
        metavar="STRING",
        supported=True,
    ),
    # -- Server Socket -------------------------------------------------------------------------
    Setting(
        "bind",
        SOCKET,
        ("-b", "--bind"),
        help="Address to listen on; repeat the flag to listen on several. Forms: `HOST`, "
        "`HOST:PORT`, `[IPv6]:PORT`, `tcp://HOST:PORT`, `unix:PATH`, `fd://N`.",
        validator=_string_list,
        default_factory=_default_bind,
        default_doc="`['127.0.0.1:8000']`, or `['0.0.0.0:$PORT']` when `PORT` is set",
        action="append",
        metavar="ADDRESS",
        supported=True,
    ),
    _number(
        "backlog",
        SOCKET,
        ("--backlog",),
        2048,
        "Length of the queue of connections waiting to be accepted (the listen() backlog).",
        supported=True,
    ),
    # -- Worker Processes ----------------------------------------------------------------------
    _number(
        "workers",
        WORKERS,
        ("-w", "--workers"),
        1,
        "Number of worker processes serving requests.",
        default_factory=_default_workers,
        default_doc="`$WEB_CONCURRENCY`, or `1` when unset",
        supported=True,
    ),
    _text(
        "worker_class",
        WORKERS,
        ("-k", "--worker-class"),
        "sync",
        "Kind of worker process: `sync` (gunicorn's: one request per connection, then "
        "close), `gthread` (gunicorn's: keep-alive, the app run on `threads` threads while "
        "one event loop reads requests and writes responses) or `event` (monoceros': one "
        "thread, keep-alive and pipelining, the app called as soon as a request is complete).",
        validator=_class_or_name,
        metavar="STRING",
        supported=True,
    ),
    _number(
        "threads",
        WORKERS,
        ("--threads",),
        1,
        "Threads per worker; above 1 a `sync` worker turns into a `gthread` worker.",
        supported=True,
    ),
    _number(
        "worker_connections",
        WORKERS,
        ("--worker-connections",),
        1000,
        "Upper bound on simultaneous client connections per worker (threaded and async workers).",
        supported=True,
    ),
    _number(
        "max_requests",
        WORKERS,
        ("--max-requests",),
        0,
        "Replace a worker after it has served this many requests; 0 never replaces it.",
        supported=True,
    ),
    _number(
        "max_requests_jitter",
        WORKERS,
        ("--max-requests-jitter",),
        0,
        "Add a random number between 0 and this value to max_requests for each worker, so "
        "that workers are not all replaced at once.",
        supported=True,
    ),
    _number(
        "timeout",
        WORKERS,
        ("-t", "--timeout"),
        30,
        "A worker that shows no sign of life for this many seconds is killed and replaced; "
        "0 turns the check off.",
        supported=True,
    ),
    _number(
        "graceful_timeout",
        WORKERS,
        ("--graceful-timeout",),
        30,
        "Seconds a worker gets to finish its requests after being asked to stop, before it "
        "is killed.",
        supported=True,
    ),
    _number(
        "keepalive",
        WORKERS,
        ("--keep-alive",),
        2,
        "Seconds to wait for the next request on an idle keep-alive connection. The `sync` "
        "worker closes every connection after one response and so ignores it.",
        supported=True,
    ),
    # -- Security ------------------------------------------------------------------------------
    _number(
        "limit_request_line",
        SECURITY,
        ("--limit-request-line",),
        4094,
        "Longest request line accepted, in bytes; 0 means no limit and anything above 8190 "
        "counts as 8190.",
        supported=True,
    ),
    _number(
        "limit_request_fields",
        SECURITY,
        ("--limit-request-fields",),
        100,
        "Most header fields accepted in one request; 0 or more than 32768 means 32768.",
        supported=True,
    ),
    _number(
        "limit_request_field_size",
        SECURITY,
        ("--limit-request-field_size",),
        8190,
        "Longest header field accepted, in bytes; 0 means the built-in limit of 8190.",
        supported=True,
    ),
    # -- Debugging -----------------------------------------------------------------------------
    _flag(
        "reload",
        DEBUGGING,
        ("--reload",),
        "Restart workers when the application's source files change (for development).",
        supported=True,
    ),
    _text(
        "reload_engine",
        DEBUGGING,
        ("--reload-engine",),
        "auto",
        "How --reload notices changes: auto, poll or inotify.",
        validator=_reload_engine,
        metavar="STRING",
        supported=True,
    ),
    Setting(
        "reload_extra_files",
        DEBUGGING,
        ("--reload-extra-file",),
        help="Another file (or glob pattern) whose change triggers a reload; repeatable.",
        validator=_files_or_patterns,
        default=[],
        action="append",
        metavar="FILES",
        supported=True,
    ),
    _flag(
        "spew",
        DEBUGGING,
        ("--spew",),
        "Print every line of Python each worker executes (very verbose).",
        supported=True,
    ),
    _flag(
        "check_config",
        DEBUGGING,
        ("--check-config",),
        "Check the configuration and that the application loads, then exit.",
        supported=True,
    ),
    _flag(
        "print_config",
        DEBUGGING,
        ("--print-config",),
        "Print the resolved configuration, then exit as --check-config does.",
        supported=True,
    ),
    # -- Server Mechanics ----------------------------------------------------------------------
    _flag(
        "preload_app",
        MECHANICS,
        ("--preload",),
        "Import the application in the master process, before the workers are forked.",
        supported=True,
    ),
    Setting(
        "sendfile",
        MECHANICS,
        ("--no-sendfile",),
        help="Never use sendfile() for `wsgi.file_wrapper` responses. As in gunicorn, any "
        "value set explicitly (even True) turns sendfile off; left alone, the `SENDFILE` "
        "environment variable decides, and sendfile is on if that is unset too.",
        validator=_bool,
        default=None,
        default_doc="`None` (use `$SENDFILE`, else on)",
        action="const",
        const=False,
        supported=True,
    ),
    _flag(
        "reuse_port",
        MECHANICS,
        ("--reuse-port",),
        "Set SO_REUSEPORT on the listening sockets: every worker listens on a TCP socket of "
        "its own and the kernel spreads connections across them. The master only reserves "
        "each address (bound, not listening), so bind errors show at startup and port 0 "
        "means one port for all workers. Unix sockets stay shared.",
        supported=True,
    ),
    Setting(
        "chdir",
        MECHANICS,
        ("--chdir",),
        help="Directory to change into before the application is loaded.",
        validator=_directory,
        default_factory=_default_chdir,
        default_doc="the current directory",
        supported=True,
    ),
    _flag(
        "daemon",
        MECHANICS,
        ("-D", "--daemon"),
        "Detach from the terminal and keep running in the background (umask 022, standard "
        "streams on /dev/null unless enable_stdio_inheritance, working directory kept).",
        supported=True,
    ),
    Setting(
        "raw_env",
        MECHANICS,
        ("-e", "--env"),
        help="Environment variable to set for the server and the application, as "
        "`KEY=VALUE`; repeatable.",
        validator=_raw_env,
        default=[],
        action="append",
        metavar="ENV",
        supported=True,
    ),
    _text(
        "pidfile",
        MECHANICS,
        ("-p", "--pid"),
        None,
        "File to write the process id of the master to; removed at exit. A pidfile naming "
        "a running process stops the start.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "worker_tmp_dir",
        MECHANICS,
        ("--worker-tmp-dir",),
        None,
        "Directory for the workers' heartbeat files (unlinked at once); a tmpfs such as "
        "/dev/shm avoids stalls on slow disks. Unset, heartbeats live in shared memory.",
        metavar="DIR",
        supported=True,
    ),
    Setting(
        "user",
        MECHANICS,
        ("-u", "--user"),
        help="User (name or uid) the workers run as; they switch to it after the fork, "
        "before loading the app. Unix socket files and log files are given to it.",
        validator=_account(_uid_of, "user"),
        default_factory=_default_uid,
        default_doc="the effective uid of the server",
        metavar="USER",
        supported=True,
    ),
    Setting(
        "group",
        MECHANICS,
        ("-g", "--group"),
        help="Group (name or gid) the workers run as; they switch to it after the fork, "
        "before loading the app. Unix socket files and log files are given to it.",
        validator=_account(_gid_of, "group"),
        default_factory=_default_gid,
        default_doc="the effective gid of the server",
        metavar="GROUP",
        supported=True,
    ),
    _number(
        "umask",
        MECHANICS,
        ("-m", "--umask"),
        0,
        "File mode creation mask for the Unix socket files the server binds. As in gunicorn, "
        "files the app creates keep the process's umask (022 under `--daemon`). Octal is "
        "accepted as `022` or `0o22`.",
        validator=_octal_int,
        cli_type=_octal_text,
        supported=True,
    ),
    _flag(
        "initgroups",
        MECHANICS,
        ("--initgroups",),
        "Also give the workers the supplementary groups of their user.",
        supported=True,
    ),
    _text(
        "tmp_upload_dir",
        MECHANICS,
        (),
        None,
        "Directory for the temporary files that hold large request bodies, and what write() "
        "calls queue for a client that reads slowly (default: $TMPDIR or /tmp).",
        metavar="DIR",
        supported=True,
    ),
    Setting(
        "secure_scheme_headers",
        MECHANICS,
        (),
        help="Headers a trusted proxy sets to say the client used HTTPS: a dict from "
        "upper-case header name to the exact value that means HTTPS.",
        validator=_dict,
        default={
            "X-FORWARDED-PROTOCOL": "ssl",
            "X-FORWARDED-PROTO": "https",
            "X-FORWARDED-SSL": "on",
        },
        supported=True,
    ),
    Setting(
        "forwarded_allow_ips",
        MECHANICS,
        ("--forwarded-allow-ips",),
        help="Comma-separated IP addresses or CIDR networks of the proxies whose scheme and "
        "forwarder headers are trusted; `*` trusts every peer.",
        validator=_ip_list,
        default_factory=_default_forwarded_allow_ips,
        default_doc="`$FORWARDED_ALLOW_IPS`, or `'127.0.0.1,::1'` when unset",
        metavar="STRING",
        supported=True,
    ),
    # -- Logging -------------------------------------------------------------------------------
    _text(
        "accesslog",
        LOGGING,
        ("--access-logfile",),
        None,
        "Where access log lines go: a file path, or `-` for standard output. Unset, there is "
        "no access log.",
        metavar="FILE",
        supported=True,
    ),
    _flag(
        "disable_redirect_access_to_syslog",
        LOGGING,
        ("--disable-redirect-access-to-syslog",),
        "Keep access log lines out of syslog when --log-syslog is on.",
        supported=True,
    ),
    _text(
        "access_log_format",
        LOGGING,
        ("--access-logformat",),
        _ACCESS_LOG_FORMAT,
        "Layout of an access log line, written with `%(atom)s` placeholders.",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "errorlog",
        LOGGING,
        ("--error-logfile", "--log-file"),
        "-",
        "Where the error log goes: a file path, or `-` for standard error.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "loglevel",
        LOGGING,
        ("--log-level",),
        "info",
        "Least severe error-log messages written: debug, info, warning, error or critical.",
        validator=_loglevel,
        metavar="LEVEL",
        supported=True,
    ),
    _flag(
        "capture_output",
        LOGGING,
        ("--capture-output",),
        "Send the application's standard output and error to the error log file.",
        supported=True,
    ),
    _text(
        "logger_class",
        LOGGING,
        ("--logger-class",),
        "gunicorn.glogging.Logger",
        "Python class that implements the server's logging.",
        validator=_class_or_name,
        metavar="STRING",
        supported=True,
    ),
    _text(
        "logconfig",
        LOGGING,
        ("--log-config",),
        None,
        "Set up logging from a `logging.config.fileConfig` (ini) file.",
        metavar="FILE",
        supported=True,
    ),
    Setting(
        "logconfig_dict",
        LOGGING,
        (),
        help="Set up logging from a `logging.config.dictConfig` dictionary.",
        validator=_dict,
        default={},
        supported=True,
    ),
    _text(
        "logconfig_json",
        LOGGING,
        ("--log-config-json",),
        None,
        "Set up logging from a JSON file in dictConfig layout.",
        metavar="FILE",
        supported=True,
    ),
    _text(
        "syslog_addr",
        LOGGING,
        ("--log-syslog-to",),
        None,
        "Where syslog messages go: `unix://PATH#TYPE`, `udp://HOST:PORT` or `tcp://HOST:PORT`.",
        default_factory=_default_syslog_addr,
        default_doc="`'udp://localhost:514'` on Linux; a local socket on macOS and the BSDs",
        metavar="SYSLOG_ADDR",
        supported=True,
    ),
    _flag(
        "syslog",
        LOGGING,
        ("--log-syslog",),
        "Also send the server's log messages to syslog.",
        supported=True,
    ),
    _text(
        "syslog_prefix",
        LOGGING,
        ("--log-syslog-prefix",),
        None,
        "Program name that syslog messages carry.",
        metavar="SYSLOG_PREFIX",
        supported=True,
    ),
    _text(
        "syslog_facility",
        LOGGING,
        ("--log-syslog-facility",),
        "user",
        "Syslog facility to log under.",
        metavar="SYSLOG_FACILITY",
        supported=True,
    ),
    _flag(
        "enable_stdio_inheritance",
        LOGGING,
        ("-R", "--enable-stdio-inheritance"),
        "Keep standard output and error open when running as a daemon (a terminal is "
        "still let go; standard input is always /dev/null).",
        supported=True,
    ),
    _text(
        "statsd_host",
        LOGGING,
        ("--statsd-host",),
        None,
        "StatsD server to send metrics to, as `HOST:PORT` or `unix://PATH`.",
        validator=_statsd_address,
        metavar="STATSD_ADDR",
        supported=True,
    ),
    _text(
        "dogstatsd_tags",
        LOGGING,
        ("--dogstatsd-tags",),
        "",
        "Comma-separated DogStatsD tags added to every metric.",
        metavar="DOGSTATSD_TAGS",
        supported=True,
    ),
    _text(
        "statsd_prefix",
        LOGGING,
        ("--statsd-prefix",),
        "",
        "Prefix put in front of every StatsD metric name.",
        metavar="STATSD_PREFIX",
        supported=True,
    ),
    _flag(
        "enable_backlog_metric",
        LOGGING,
        ("--enable-backlog-metric",),
        "Report the length of the listen queue as a StatsD metric.",
        supported=True,
    ),
    # -- Process Naming ------------------------------------------------------------------------
    _text(
        "proc_name",
        NAMING,
        ("-n", "--name"),
        None,
        "Base of the process titles: `monoceros: master [NAME]` and `monoceros: worker "
        "[NAME]` (cut to the length of the original command line).",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "default_proc_name",
        NAMING,
        (),
        "gunicorn",
        "Process title used when proc_name is unset; set to the APP_MODULE given on the "
        "command line.",
        supported=True,
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    _text(
        "pythonpath",
        MECHANICS,
        ("--pythonpath",),
        None,
        "Comma-separated directories to put in front of the module search path.",
        metavar="STRING",
        supported=True,
    ),
    _text(
        "paste",
        MECHANICS,
        ("--paste", "--paster"),
        None,
        "Load the application from a PasteDeploy ini file (`FILE#SECTION`); the file's "
        "`[loggers]` section, if any, configures logging. Needs PasteDeploy installed.",
        metavar="STRING",
        supported=True,
    ),
    # -- Server Hooks --------------------------------------------------------------------------
    _hook_row("on_starting", HOOKS, on_starting, "called in the master just before it starts."),
    _hook_row("on_reload", HOOKS, on_reload, "called in the master on a SIGHUP reload."),
    _hook_row(
        "when_ready",
        HOOKS,
        when_ready,
        "called in the master once the sockets are listening.",
    ),
    _hook_row("pre_fork", HOOKS, pre_fork, "called in the master just before forking a worker."),
    _hook_row("post_fork", HOOKS, post_fork, "called in a new worker right after the fork."),
    _hook_row(
        "post_worker_init",
        HOOKS,
        post_worker_init,
        "called in a worker once it has loaded the application.",
    ),
    _hook_row(
        "worker_int",
        HOOKS,
        worker_int,
        "called in a worker that received SIGINT or SIGQUIT.",
    ),
    _hook_row(
        "worker_abort",
        HOOKS,
        worker_abort,
        "called in a worker that received SIGABRT, which usually means it timed out.",
    ),
    _hook_row(
        "pre_exec",
        HOOKS,
        pre_exec,
        "called in the forked child just before a new master is executed (SIGUSR2).",
    ),
    _hook_row(
        "pre_request",
        HOOKS,
        pre_request,
        "called in a worker before it handles a request.",
        default_doc="logs the method and path at debug level",
    ),
    _hook_row(
        "post_request",
        HOOKS,
        post_request,
        "called in a worker after a request; it may also be declared with only the "
        "first two or three parameters.",
        validator=_post_request_hook,
    ),
    _hook_row("child_exit", HOOKS, child_exit, "called in the master after a worker exited."),
    _hook_row("worker_exit", HOOKS, worker_exit, "called in a worker just before it exits."),
    _hook_row(
        "nworkers_changed",
        HOOKS,
        nworkers_changed,
        "called in the master when the number of workers changes; `old_value` is None the "
        "first time.",
    ),
    _hook_row("on_exit", HOOKS, on_exit, "called in the master just before the server exits."),
    _hook_row(
        "ssl_context",
        HOOKS,
        ssl_context,
        "builds the TLS context and must return an `ssl.SSLContext`.",
        default_doc="returns `default_ssl_context_factory()`",
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    _text(
        "proxy_protocol",
        MECHANICS,
        ("--proxy-protocol",),
        "off",
        "Expect a PROXY protocol header from the peer: off, v1, v2 or auto. The flag without "
        "a value means auto.",
        validator=_choice(
            "off",
            "v1",
            "v2",
            "auto",
            aliases={
                "false": "off",
                "0": "off",
                "none": "off",
                "true": "auto",
                "1": "auto",
                True: "auto",
                False: "off",
            },
            if_none="off",
        ),
        action="optional",
        const="auto",
        metavar="MODE",
        supported=True,
    ),
    _text(
        "proxy_allow_ips",
        MECHANICS,
        ("--proxy-allow-from",),
        "127.0.0.1,::1",
        "Comma-separated IP addresses or networks allowed to send a PROXY protocol header; "
        "`*` allows every peer.",
        validator=_ip_list,
        supported=True,
    ),
    _text(
        "protocol",
        MECHANICS,
        ("--protocol",),
        "http",
        "Protocol spoken on the listening sockets: http or uwsgi.",
        metavar="STRING",
    ),
    _text(
        "uwsgi_allow_ips",
        MECHANICS,
        ("--uwsgi-allow-from",),
        "127.0.0.1,::1",
        "Comma-separated IP addresses or networks allowed to speak the uwsgi protocol; `*` "
        "allows every peer.",
        validator=_ip_list,
    ),
    # -- SSL -----------------------------------------------------------------------------------
    _text("keyfile", TLS, ("--keyfile",), None, "TLS private key file.", metavar="FILE"),
    _text(
        "certfile",
        TLS,
        ("--certfile",),
        None,
        "TLS certificate file; setting it (or keyfile) turns TLS on.",
        metavar="FILE",
    ),
    Setting(
        "ssl_version",
        TLS,
        ("--ssl-version",),
        help="Deprecated and ignored; adjust TLS through the ssl_context hook instead.",
        validator=_keep,
        default=ssl.PROTOCOL_TLS,
        default_doc="`ssl.PROTOCOL_TLS`",
    ),
    Setting(
        "cert_reqs",
        TLS,
        ("--cert-reqs",),
        help="Whether clients must present a certificate: 0 no, 1 optional, 2 required.",
        validator=_int,
        default=ssl.CERT_NONE,
        default_doc="`0` (`ssl.CERT_NONE`)",
    ),
    _text(
        "ca_certs",
        TLS,
        ("--ca-certs",),
        None,
        "File of CA certificates used to check client certificates.",
        metavar="FILE",
    ),
    _flag(
        "suppress_ragged_eofs",
        TLS,
        ("--suppress-ragged-eofs",),
        "Treat a TLS connection the peer closed without a close_notify as a normal end of data.",
        default=True,
    ),
    _flag(
        "do_handshake_on_connect",
        TLS,
        ("--do-handshake-on-connect",),
        "Run the TLS handshake as soon as a connection is accepted.",
    ),
    _text("ciphers", TLS, ("--ciphers",), None, "OpenSSL cipher list for TLS connections."),
    # -- HTTP/2 --------------------------------------------------------------------------------
    _text(
        "http_protocols",
        HTTP2,
        ("--http-protocols",),
        "h1",
        "Comma-separated HTTP versions offered through ALPN, preferred first: h1, h2.",
        validator=_http_protocols,
        metavar="STRING",
    ),
    _text(
        "http2_cleartext",
        HTTP2,
        ("--http2-cleartext",),
        "off",
        "HTTP/2 without TLS (h2c) for trusted peers: off, prior-knowledge, upgrade or both.",
        validator=_choice(
            "off",
            "prior-knowledge",
            "upgrade",
            "both",
            aliases={True: "prior-knowledge", False: "off"},
            if_none="off",
        ),
        metavar="STRING",
    ),
    _number(
        "http2_max_concurrent_streams",
        HTTP2,
        ("--http2-max-concurrent-streams",),
        100,
        "Most HTTP/2 streams one client may have open at a time.",
        validator=_int_between(1, sys.maxsize),
    ),
    _number(
        "http2_initial_window_size",
        HTTP2,
        ("--http2-initial-window-size",),
        65535,
        "Initial HTTP/2 flow-control window, in bytes.",
        validator=_int_between(0, 2**31 - 1),
    ),
    _number(
        "http2_max_frame_size",
        HTTP2,
        ("--http2-max-frame-size",),
        16384,
        "Largest HTTP/2 frame payload accepted, from 16384 to 16777215 bytes.",
        validator=_int_between(16384, 16777215),
    ),
    _number(
        "http2_max_header_list_size",
        HTTP2,
        ("--http2-max-header-list-size",),
        65536,
        "Largest decoded HTTP/2 header list accepted, in bytes.",
    ),
    # -- Server Mechanics (continued) ----------------------------------------------------------
    Setting(
        "raw_paste_global_conf",
        MECHANICS,
        ("--paste-global",),
        help="PasteDeploy global variable as `KEY=VALUE`; repeatable.",
        validator=_string_list,
        default=[],
        action="append",
        metavar="CONF",
        supported=True,
    ),
    _flag(
        "permit_obsolete_folding",
        MECHANICS,
        ("--permit-obsolete-folding",),
        "Accept header values continued on the following line (obsolete line folding) "
        "instead of answering 400.",
        supported=True,
    ),
    _flag(
        "strip_header_spaces",
        MECHANICS,
        ("--strip-header-spaces",),
        "Drop whitespace between a header name and its colon. Unsafe; only for old clients.",
        supported=True,
    ),
    _flag(
        "permit_unconventional_http_method",
        MECHANICS,
        ("--permit-unconventional-http-method",),
        "Accept request methods that contain lower-case letters or `#`, or are shorter than "
        "3 or longer than 20 characters.",
        supported=True,
    ),
    _flag(
        "permit_unconventional_http_version",
        MECHANICS,
        ("--permit-unconventional-http-version",),
        "Accept HTTP versions other than 1.0 and 1.1.",
        supported=True,
    ),
    _flag(
        "casefold_http_method",
        MECHANICS,
        ("--casefold-http-method",),
        "Upper-case the request method before the application sees it (legacy).",
        supported=True,
    ),
    _text(
        "forwarder_headers",
        MECHANICS,
        ("--forwarder-headers",),
        "SCRIPT_NAME,PATH_INFO",
        "Comma-separated header names with underscores that trusted proxies may send and "
        "that are passed on to the application.",
        validator=_comma_list,
        supported=True,
    ),
    _text(
        "header_map",
        MECHANICS,
        ("--header-map",),
        "drop",
        "What to do with any other header whose name has an underscore: drop it, refuse the "
        "request (400), or pass it on (dangerous: it can impersonate the dashed name).",
        validator=_choice("drop", "refuse", "dangerous", if_none="drop"),
        supported=True,
    ),
    # -- Worker Processes (continued) ----------------------------------------------------------
    _text(
        "asgi_loop",
        WORKERS,
        ("--asgi-loop",),
        "auto",
        "Event loop of the asgi worker: auto, asyncio or uvloop.",
        validator=_choice("auto", "asyncio", "uvloop", if_none="auto"),
        metavar="STRING",
    ),
    _text(
        "asgi_lifespan",
        WORKERS,
        ("--asgi-lifespan",),
        "auto",
        "Whether the asgi worker runs the ASGI lifespan protocol: auto, on or off.",
        validator=_choice("auto", "on", "off", if_none="auto"),
        metavar="STRING",
    ),
    _number(
        "asgi_disconnect_grace_period",
        WORKERS,
        ("--asgi-disconnect-grace-period",),
        3,
        "Seconds an ASGI application may go on after the client disconnected, before it is "
        "cancelled.",
    ),
    _number(
        "websocket_max_message_size",
        WORKERS,
        ("--websocket-max-message-size",),
        16 * 1024 * 1024,
        "Largest WebSocket message the asgi worker accepts, in bytes; 0 means no limit.",
    ),
    _text(
        "http_parser",
        WORKERS,
        ("--http-parser",),
        "auto",
        "Which HTTP/1 parser gunicorn uses: auto, fast or python.",
        validator=_choice("auto", "fast", "python", if_none="auto"),
        metavar="STRING",
    ),
    _text(
        "root_path",
        MECHANICS,
        ("--root-path",),
        "",
        "The `root_path` (mount point) reported to ASGI applications.",
        metavar="STRING",
    ),
    # -- Dirty Arbiters ------------------------------------------------------------------------
    Setting(
        "dirty_apps",
        DIRTY,
        ("--dirty-app",),
        help="Application class run by the dirty workers, as `module:Class[:N]`; repeatable.",
        validator=_string_list,
        default=[],
        action="append",
        metavar="STRING",
    ),
    _number(
        "dirty_workers",
        DIRTY,
        ("--dirty-workers",),
        0,
        "Number of dirty worker processes; 0 means no dirty arbiter.",
    ),
    _number(
        "dirty_timeout",
        DIRTY,
        ("--dirty-timeout",),
        300,
        "Seconds a dirty task may run; 0 means no limit.",
    ),
    _number("dirty_threads", DIRTY, ("--dirty-threads",), 1, "Threads in each dirty worker."),
    _number(
        "dirty_graceful_timeout",
        DIRTY,
        ("--dirty-graceful-timeout",),
        30,
        "Seconds the dirty workers get to stop cleanly.",
    ),
    # -- Dirty Arbiter Hooks -------------------------------------------------------------------
    _hook_row(
        "on_dirty_starting",
        DIRTY_HOOKS,
        on_dirty_starting,
        "called before the dirty arbiter starts.",
    ),
    _hook_row(
        "dirty_post_fork",
        DIRTY_HOOKS,
        dirty_post_fork,
        "called in a dirty worker right after the fork.",
    ),
    _hook_row(
        "dirty_worker_init",
        DIRTY_HOOKS,
        dirty_worker_init,
        "called in a dirty worker once its applications are loaded.",
    ),
    _hook_row(
        "dirty_worker_exit",
        DIRTY_HOOKS,
        dirty_worker_exit,
        "called when a dirty worker has exited.",
    ),
    # -- Control -------------------------------------------------------------------------------
    _text(
        "control_socket",
        CONTROL,
        ("--control-socket",),
        None,
        "Path of the Unix socket of the control interface (gunicornc).",
        default_factory=_default_control_socket,
        default_doc="`$XDG_RUNTIME_DIR/gunicorn.ctl`, else `~/.gunicorn/gunicorn.ctl`",
        metavar="PATH",
    ),
    _number(
        "control_socket_mode",
        CONTROL,
        ("--control-socket-mode",),
        0o600,
        "Permission bits of the control socket (octal accepted).",
        validator=_octal_int,
        cli_type=_octal_text,
        default_doc="`0o600`",
    ),
    _flag(
        "control_socket_disable",
        CONTROL,
        ("--no-control-socket",),
        "Do not create the control socket.",
    ),
    # -- monoceros extensions ------------------------------------------------------------------
    _flag(
        "permit_missing_host",
        MECHANICS,
        ("--permit-missing-host",),
        "Accept HTTP/1.1 requests without a Host header, as gunicorn does (RFC 9112 §3.2 "
        "says to reject them). A monoceros extension.",
        supported=True,
        extension=True,
    ),
    _number(
        "limit_request_body",
        SECURITY,
        ("--limit-request-body",),
        0,
        "Largest request body accepted, in bytes; a larger one gets 413 before it is read "
        "(Content-Length) or as soon as it passes the limit (chunked). 0 means no limit, as in "
        "gunicorn. Bodies above 1 MiB are spooled to a temporary file in tmp_upload_dir, never "
        "held in memory. A monoceros extension.",
        supported=True,
        extension=True,
    ),
    _number(
        "max_worker_memory",
        WORKERS,
        ("--max-worker-memory",),
        0,
        "Replace a worker whose resident memory passes this many MiB; its replacement is "
        "started first and the old worker retired gracefully once the new one is ready, so "
        "capacity never dips. 0 never replaces a worker for its memory. A monoceros "
        "extension.",
        metavar="MIB",
        supported=True,
        extension=True,
    ),
    _flag(
        "identify_as_gunicorn",
        MECHANICS,
        ("--identify-as-gunicorn",),
        "Name the server as gunicorn 27.0.1 does: `SERVER_SOFTWARE` (in the environ and the "
        "process environment) is `gunicorn/27.0.1` and the `Server` header `gunicorn`, for "
        "apps that branch on the server's name (httpbin, for one, accepts chunked request "
        "bodies only from gunicorn). Off, they are `monoceros/<version>` and `monoceros`. A "
        "monoceros extension.",
        supported=True,
        extension=True,
    ),
    Setting(
        "body_spool_limit",
        SECURITY,
        ("--body-spool-limit",),
        help="Most disk, in MiB, that one worker's spooled request bodies may use at once "
        "(bodies above 1 MiB wait on disk in tmp_upload_dir until the app runs). A body that "
        "would pass it gets 503 (413 if it alone is larger), and the refusal is logged. By "
        "default a quarter of the space free in that directory when the worker starts, "
        "shared by the workers; 0 means no limit. A monoceros extension.",
        validator=_int_or_none,
        cli_type=int,
        metavar="MIB",
        default_doc="a quarter of the free space in the spool directory, shared by the workers",
        supported=True,
        extension=True,
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.section for s in SETTINGS))
