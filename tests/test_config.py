"""Unit tests for monoceros.config (and the logging setup it drives).

Pure Python: run with ``PYTHONPATH=src python -m pytest tests/test_config.py``. gunicorn, when
importable, serves as an oracle for the table and for whole command lines.
"""

from __future__ import annotations

import json
import logging
import operator
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monoceros import config as mc
from monoceros.config import (
    SECTIONS,
    SETTINGS,
    SETTINGS_BY_NAME,
    Address,
    Config,
    ConfigError,
    build_parser,
    load_config,
    parse_address,
    render_settings_markdown,
)

ROOT = Path(__file__).resolve().parent.parent

try:
    import gunicorn.config as gconfig
    import gunicorn.util as gutil
except ImportError:  # pragma: no cover - the oracle is optional
    gconfig = None
    gutil = None

needs_gunicorn = pytest.mark.skipif(gconfig is None, reason="gunicorn is not importable")


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty start directory (so no ./gunicorn.conf.py is picked up by accident)."""
    return tmp_path


def load(argv, env=None, cwd=None, **kw) -> Config:
    return load_config(list(argv), dict(env or {}), str(cwd) if cwd else None, **kw)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------------------------------------
# The table


SUPPORTED = {
    "config",
    "wsgi_app",
    "bind",
    "backlog",
    "workers",
    "worker_class",
    "threads",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "worker_connections",
    "chdir",
    "pythonpath",
    "raw_env",
    "preload_app",
    "sendfile",
    "reuse_port",
    "accesslog",
    "access_log_format",
    "errorlog",
    "loglevel",
    "limit_request_line",
    "limit_request_fields",
    "limit_request_field_size",
    "permit_obsolete_folding",
    "strip_header_spaces",
    "permit_unconventional_http_method",
    "permit_unconventional_http_version",
    "casefold_http_method",
    "header_map",
    "forwarder_headers",
    "forwarded_allow_ips",
    "secure_scheme_headers",
    "default_proc_name",
    "permit_missing_host",
    "user",
    "group",
    "umask",
    "initgroups",
    "pidfile",
    "daemon",
    "enable_stdio_inheritance",
    "worker_tmp_dir",
    "proc_name",
    "proxy_protocol",
    "proxy_allow_ips",
    "tmp_upload_dir",
    "limit_request_body",
    "reload",
    "reload_engine",
    "reload_extra_files",
    "spew",
    "check_config",
    "print_config",
    "paste",
    "raw_paste_global_conf",
    # logging configuration, syslog, output capture, logger class
    "logconfig",
    "logconfig_dict",
    "logconfig_json",
    "syslog",
    "syslog_addr",
    "syslog_prefix",
    "syslog_facility",
    "disable_redirect_access_to_syslog",
    "capture_output",
    "logger_class",
    "max_requests",
    "max_requests_jitter",
    "max_worker_memory",
    "identify_as_gunicorn",
    "body_spool_limit",
    "statsd_host",
    "dogstatsd_tags",
    "statsd_prefix",
    "enable_backlog_metric",
    # server hooks
    "on_starting",
    "pre_exec",
    "on_reload",
    "when_ready",
    "pre_fork",
    "post_fork",
    "post_worker_init",
    "worker_int",
    "worker_abort",
    "pre_request",
    "post_request",
    "child_exit",
    "worker_exit",
    "nworkers_changed",
    "on_exit",
}


def test_supported_set_is_exactly_the_milestone():
    assert {s.name for s in SETTINGS if s.supported} == SUPPORTED


def test_table_has_all_gunicorn_settings_in_order_plus_the_extension():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert names[0] == "config" and names[1] == "wsgi_app" and names[2] == "bind"
    extensions = [
        "permit_missing_host",
        "limit_request_body",
        "max_worker_memory",
        "identify_as_gunicorn",
        "body_spool_limit",
    ]
    assert names[-5:] == extensions
    assert [s.name for s in SETTINGS if s.extension] == extensions
    # 119 from the reference table plus websocket_max_message_size, added in gunicorn 26.3.
    assert len([s for s in SETTINGS if not s.extension]) == 120
    assert names.index("http_parser") == names.index("websocket_max_message_size") + 1
    assert SECTIONS[0] == "Config File" and "Control" in SECTIONS


def test_extension_setting_row():
    s = SETTINGS_BY_NAME["permit_missing_host"]
    assert s.flags == ("--permit-missing-host",)
    assert s.section == "Server Mechanics"
    assert s.default is False and s.action == "flag"
    assert "RFC 9112" in s.help


@pytest.mark.parametrize(
    "name, flags",
    [
        ("limit_request_field_size", ("--limit-request-field_size",)),
        ("paste", ("--paste", "--paster")),
        ("errorlog", ("--error-logfile", "--log-file")),
        ("sendfile", ("--no-sendfile",)),
        ("control_socket_disable", ("--no-control-socket",)),
        ("proxy_protocol", ("--proxy-protocol",)),
        ("keepalive", ("--keep-alive",)),
        ("preload_app", ("--preload",)),
        ("accesslog", ("--access-logfile",)),
        ("access_log_format", ("--access-logformat",)),
        ("raw_env", ("-e", "--env")),
        ("pidfile", ("-p", "--pid")),
        ("proxy_allow_ips", ("--proxy-allow-from",)),
        ("reload_extra_files", ("--reload-extra-file",)),
        ("raw_paste_global_conf", ("--paste-global",)),
        ("dirty_apps", ("--dirty-app",)),
        ("syslog_addr", ("--log-syslog-to",)),
        ("enable_stdio_inheritance", ("-R", "--enable-stdio-inheritance")),
    ],
)
def test_odd_flags_are_spelled_like_gunicorn(name, flags):
    assert SETTINGS_BY_NAME[name].flags == flags


@pytest.mark.parametrize(
    "name",
    ["wsgi_app", "tmp_upload_dir", "secure_scheme_headers", "logconfig_dict", "on_starting"],
)
def test_config_file_only_settings_have_no_flag(name):
    assert SETTINGS_BY_NAME[name].flags == ()


@needs_gunicorn
def test_table_matches_gunicorn_names_sections_flags_defaults(cwd):
    theirs = [cls() for cls in gconfig.KNOWN_SETTINGS]
    ours = [s for s in SETTINGS if not s.extension]
    assert [t.name for t in theirs] == [o.name for o in ours]
    cfg = Config({}, str(cwd))
    gcfg = gconfig.Config()
    skip_defaults = {"chdir", "control_socket", "bind", "workers", "forwarded_allow_ips"}
    for t, o in zip(theirs, ours, strict=True):
        assert t.section == o.section, t.name
        assert tuple(t.cli or ()) == o.flags, t.name
        if t.action == "store_const" or t.nargs == "?":
            assert t.const == o.const, t.name
        if o.section.endswith("Hooks"):
            theirs_default = gcfg.settings[t.name].get()
            assert gutil.get_arity(theirs_default) == mc._positional_count(cfg.get(o.name))
        elif o.name not in skip_defaults:  # these read the environment of this process
            assert gcfg.settings[t.name].get() == cfg.get(o.name), t.name


def test_every_setting_is_readable_as_an_attribute(cwd):
    cfg = Config({}, str(cwd))
    for s in SETTINGS:
        getattr(cfg, s.name)
        assert cfg.is_default(s.name), s.name
    with pytest.raises(AttributeError):
        cfg.no_such_setting  # noqa: B018


def test_settings_cannot_be_assigned_directly(cwd):
    cfg = Config({}, str(cwd))
    with pytest.raises(AttributeError, match="cfg.set"):
        cfg.workers = 3
    with pytest.raises(ConfigError, match="unknown setting 'nope'"):
        cfg.set("nope", 1)


# ------------------------------------------------------------------------------------------------
# Every supported setting from each source


def _supported_cases(tmp: Path):
    sub = tmp / "site"
    sub.mkdir(exist_ok=True)
    (tmp / "app.ini").write_text("[app:main]\npaste.app_factory = pasteapp:make_app\n")
    euid, egid = os.geteuid(), os.getegid()
    # (name, argv, config-file value, expected stored value)
    return [
        (
            "bind",
            ["-b", "0.0.0.0:9000", "-b", "unix:/tmp/s"],
            ["0.0.0.0:9000", "unix:/tmp/s"],
            ["0.0.0.0:9000", "unix:/tmp/s"],
        ),
        ("backlog", ["--backlog", "64"], 64, 64),
        ("workers", ["-w", "4"], 4, 4),
        (
            "worker_class",
            ["-k", "gunicorn.workers.sync.SyncWorker"],
            "gunicorn.workers.sync.SyncWorker",
            "gunicorn.workers.sync.SyncWorker",
        ),
        ("threads", ["--threads", "1"], 1, 1),
        ("worker_connections", ["--worker-connections", "50"], 50, 50),
        ("timeout", ["-t", "5"], 5, 5),
        ("graceful_timeout", ["--graceful-timeout", "7"], 7, 7),
        ("keepalive", ["--keep-alive", "9"], 9, 9),
        ("limit_request_line", ["--limit-request-line", "100"], 100, 100),
        ("limit_request_fields", ["--limit-request-fields", "10"], 10, 10),
        ("limit_request_field_size", ["--limit-request-field_size", "200"], 200, 200),
        ("preload_app", ["--preload"], True, True),
        ("sendfile", ["--no-sendfile"], False, False),
        ("reuse_port", ["--reuse-port"], True, True),
        ("chdir", ["--chdir", "site"], "site", str(sub)),
        ("raw_env", ["-e", "A=1", "-e", "B=x=y"], ["A=1", "B=x=y"], ["A=1", "B=x=y"]),
        ("user", ["-u", str(euid)], euid, euid),
        ("group", ["-g", str(egid)], egid, egid),
        ("umask", ["-m", "027"], "0o27", 0o27),
        ("initgroups", ["--initgroups"], True, True),
        ("pidfile", ["-p", "/run/app.pid"], "/run/app.pid", "/run/app.pid"),
        ("daemon", ["-D"], True, True),
        ("enable_stdio_inheritance", ["-R"], True, True),
        ("worker_tmp_dir", ["--worker-tmp-dir", "/dev/shm"], "/dev/shm", "/dev/shm"),
        ("proc_name", ["-n", "shop"], "shop", "shop"),
        (
            "forwarded_allow_ips",
            ["--forwarded-allow-ips", "10.0.0.0/8, 192.168.1.1,*"],
            "10.0.0.0/8, 192.168.1.1,*",
            ["10.0.0.0/8", "192.168.1.1", "*"],
        ),
        ("accesslog", ["--access-logfile", "-"], "-", "-"),
        ("access_log_format", ["--access-logformat", "%(h)s %(r)s"], "%(h)s %(r)s", "%(h)s %(r)s"),
        ("errorlog", ["--error-logfile", "/tmp/e.log"], "/tmp/e.log", "/tmp/e.log"),
        ("loglevel", ["--log-level", "debug"], "debug", "debug"),
        ("pythonpath", ["--pythonpath", "lib,vendor"], "lib,vendor", "lib,vendor"),
        ("permit_obsolete_folding", ["--permit-obsolete-folding"], True, True),
        ("strip_header_spaces", ["--strip-header-spaces"], True, True),
        ("permit_unconventional_http_method", ["--permit-unconventional-http-method"], True, True),
        (
            "permit_unconventional_http_version",
            ["--permit-unconventional-http-version"],
            True,
            True,
        ),
        ("casefold_http_method", ["--casefold-http-method"], True, True),
        ("forwarder_headers", ["--forwarder-headers", "X_A, X_B"], "X_A, X_B", ["X_A", "X_B"]),
        ("header_map", ["--header-map", "refuse"], "refuse", "refuse"),
        ("permit_missing_host", ["--permit-missing-host"], True, True),
        ("proxy_protocol", ["--proxy-protocol", "v2"], "v2", "v2"),
        (
            "proxy_allow_ips",
            ["--proxy-allow-from", "10.0.0.1,fd00::/8"],
            "10.0.0.1,fd00::/8",
            ["10.0.0.1", "fd00::/8"],
        ),
        ("limit_request_body", ["--limit-request-body", "1048576"], 1048576, 1048576),
        ("reload", ["--reload"], True, True),
        ("reload_engine", ["--reload-engine", "poll"], "poll", "poll"),
        (
            "reload_extra_files",
            ["--reload-extra-file", "app.ini", "--reload-extra-file", "templates/**/*.html"],
            ["app.ini", "templates/**/*.html"],
            ["app.ini", "templates/**/*.html"],
        ),
        ("spew", ["--spew"], True, True),
        ("max_requests", ["--max-requests", "1000"], 1000, 1000),
        ("max_requests_jitter", ["--max-requests-jitter", "50"], 50, 50),
        ("max_worker_memory", ["--max-worker-memory", "512"], 512, 512),
        ("identify_as_gunicorn", ["--identify-as-gunicorn"], True, True),
        ("body_spool_limit", ["--body-spool-limit", "512"], 512, 512),
        (
            "statsd_host",
            ["--statsd-host", "localhost:9125"],
            "localhost:9125",
            ("localhost", 9125),
        ),  # fmt: skip
        ("dogstatsd_tags", ["--dogstatsd-tags", "env:prod"], "env:prod", "env:prod"),
        ("statsd_prefix", ["--statsd-prefix", "shop"], "shop", "shop"),
        ("enable_backlog_metric", ["--enable-backlog-metric"], True, True),
        ("check_config", ["--check-config"], True, True),
        ("print_config", ["--print-config"], True, True),
        ("paste", ["--paste", "app.ini"], "app.ini", "app.ini"),
        ("raw_paste_global_conf", ["--paste-global", "A=1"], ["A=1"], ["A=1"]),
        ("logconfig", ["--log-config", "log.ini"], "log.ini", "log.ini"),
        ("logconfig_json", ["--log-config-json", "log.json"], "log.json", "log.json"),
        ("syslog", ["--log-syslog"], True, True),
        ("syslog_addr", ["--log-syslog-to", "tcp://[::1]:601"], *["tcp://[::1]:601"] * 2),
        ("syslog_prefix", ["--log-syslog-prefix", "web"], "web", "web"),
        ("syslog_facility", ["--log-syslog-facility", "local3"], "local3", "local3"),
        ("disable_redirect_access_to_syslog", ["--disable-redirect-access-to-syslog"], True, True),
        ("capture_output", ["--capture-output"], True, True),
        (
            "logger_class",
            ["--logger-class", "monoceros.logging.Logger"],
            "monoceros.logging.Logger",
            "monoceros.logging.Logger",
        ),
        # config-file-only settings
        ("logconfig_dict", None, {"version": 1}, {"version": 1}),
        ("wsgi_app", None, "other:app", "other:app"),
        ("tmp_upload_dir", None, "/var/tmp", "/var/tmp"),
        ("secure_scheme_headers", None, {"X-SCHEME": "https"}, {"X-SCHEME": "https"}),
        ("default_proc_name", None, "myproc", "myproc"),
        # server hooks, config-file only; dotted paths to callables of the right arity
        *[
            (hook, None, path, fn)
            for path, fn, hooks in [
                (
                    "os.path.exists",
                    os.path.exists,
                    ("on_starting", "on_reload", "when_ready", "post_worker_init"),
                ),
                (
                    "os.path.exists",
                    os.path.exists,
                    ("worker_int", "worker_abort", "on_exit", "pre_exec"),
                ),
                (
                    "operator.add",
                    operator.add,
                    ("pre_fork", "post_fork", "child_exit", "worker_exit", "pre_request"),
                ),
                ("operator.setitem", operator.setitem, ("nworkers_changed",)),
                ("re.split", re.split, ("post_request",)),
            ]
            for hook in hooks
        ],
    ]


CASE_NAMES = [
    "bind", "backlog", "workers", "worker_class", "threads", "worker_connections", "timeout",
    "graceful_timeout", "keepalive", "limit_request_line", "limit_request_fields",
    "limit_request_field_size", "preload_app", "sendfile", "reuse_port", "chdir", "raw_env",
    "user", "group",
    "umask", "initgroups", "pidfile", "daemon", "enable_stdio_inheritance", "worker_tmp_dir",
    "proc_name",
    "forwarded_allow_ips", "accesslog", "access_log_format", "errorlog", "loglevel",
    "pythonpath", "permit_obsolete_folding", "strip_header_spaces",
    "permit_unconventional_http_method", "permit_unconventional_http_version",
    "casefold_http_method", "forwarder_headers", "header_map", "permit_missing_host",
    "proxy_protocol", "proxy_allow_ips", "limit_request_body", "reload", "reload_engine",
    "reload_extra_files", "spew", "max_requests",
    "max_requests_jitter", "max_worker_memory", "identify_as_gunicorn", "body_spool_limit",
    "statsd_host",
    "dogstatsd_tags", "statsd_prefix",
    "enable_backlog_metric", "check_config",
    "print_config", "paste", "raw_paste_global_conf",
    "logconfig", "logconfig_json", "syslog", "syslog_addr", "syslog_prefix", "syslog_facility",
    "disable_redirect_access_to_syslog", "capture_output", "logger_class", "logconfig_dict",
    "wsgi_app", "tmp_upload_dir", "secure_scheme_headers", "default_proc_name",
    "on_starting", "on_reload", "when_ready", "post_worker_init", "worker_int", "worker_abort",
    "on_exit", "pre_exec",
    "pre_fork", "post_fork", "child_exit", "worker_exit", "pre_request", "nworkers_changed",
    "post_request",
]  # fmt: skip


def _case(tmp: Path, name: str):
    for case in _supported_cases(tmp):
        if case[0] == name:
            return case
    raise AssertionError(name)


def test_cases_cover_every_supported_setting_but_config():
    assert set(CASE_NAMES) == SUPPORTED - {"config"}


CONFIG_FILE_ONLY = {
    "wsgi_app",
    "tmp_upload_dir",
    "secure_scheme_headers",
    "default_proc_name",
    "logconfig_dict",
    *(name for name in SUPPORTED if SETTINGS_BY_NAME[name].section == "Server Hooks"),
}
CLI_CASE_NAMES = [n for n in CASE_NAMES if n not in CONFIG_FILE_ONLY]


@pytest.mark.parametrize("name", CLI_CASE_NAMES)
def test_supported_setting_from_command_line(name, cwd):
    _, argv, _, expected = _case(cwd, name)
    cfg = load(["app:application", *argv], cwd=cwd)
    assert cfg.get(name) == expected
    assert cfg.is_default(name) == (expected == cfg.default(name))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_supported_setting_from_config_file(name, cwd):
    _, _, value, expected = _case(cwd, name)
    write(cwd / "gunicorn.conf.py", f"{name} = {value!r}\n")
    cfg = load(["app:application"], cwd=cwd)
    assert cfg.get(name) == expected


@pytest.mark.parametrize("name", CLI_CASE_NAMES)
def test_supported_setting_from_gunicorn_cmd_args(name, cwd):
    _, argv, _, expected = _case(cwd, name)
    cfg = load(["app:application"], {"GUNICORN_CMD_ARGS": shlex.join(argv)}, cwd)
    assert cfg.get(name) == expected


def test_wsgi_app_from_config_file_is_the_app_uri_fallback(cwd):
    write(cwd / "gunicorn.conf.py", "wsgi_app = 'pkg.mod:make()'\n")
    assert load([], cwd=cwd).app_uri == "pkg.mod:make()"
    assert load(["cli:app"], cwd=cwd).app_uri == "cli:app"


def test_positional_app_sets_default_proc_name(cwd):
    cfg = load(["myproject.wsgi"], cwd=cwd)
    assert cfg.app_uri == "myproject.wsgi"
    assert cfg.default_proc_name == "myproject.wsgi"
    assert cfg.proc_name == "myproject.wsgi"


def test_missing_app_module(cwd):
    with pytest.raises(ConfigError) as info:
        load([], cwd=cwd)
    assert str(info.value) == "No application module specified."


def test_app_module_inside_gunicorn_cmd_args_is_ignored(cwd):
    with pytest.raises(ConfigError, match="No application module specified"):
        load([], {"GUNICORN_CMD_ARGS": "-w 2 app:application"}, cwd)


# ------------------------------------------------------------------------------------------------
# Precedence


def test_precedence_file_then_env_args_then_cli(cwd):
    write(
        cwd / "gunicorn.conf.py",
        """
        workers = 2
        timeout = 11
        backlog = 12
        keepalive = 13
        """,
    )
    env = {"GUNICORN_CMD_ARGS": "--timeout 21 --backlog 22", "WEB_CONCURRENCY": "9"}
    cfg = load(["--backlog", "32", "app"], env, cwd)
    assert cfg.workers == 2  # file beats the WEB_CONCURRENCY default
    assert cfg.keepalive == 13  # only the file sets it
    assert cfg.timeout == 21  # env args beat the file
    assert cfg.backlog == 32  # command line beats both


def test_append_option_on_cli_replaces_lower_sources(cwd):
    write(cwd / "gunicorn.conf.py", "bind = ['a:1', 'b:2']\n")
    cfg = load(["-b", "c:3", "app"], {"GUNICORN_CMD_ARGS": "-b d:4 -b e:5"}, cwd)
    assert cfg.bind == ["c:3"]
    cfg = load(["app"], {"GUNICORN_CMD_ARGS": "-b d:4 -b e:5"}, cwd)
    assert cfg.bind == ["d:4", "e:5"]


def test_config_location_from_cli_beats_env_args_and_default_file(cwd):
    write(cwd / "gunicorn.conf.py", "workers = 1\n")
    write(cwd / "a.py", "workers = 5\n")
    write(cwd / "b.py", "workers = 6\n")
    assert load(["app"], cwd=cwd).workers == 1
    assert load(["app"], {"GUNICORN_CMD_ARGS": "-c b.py"}, cwd).workers == 6
    assert load(["-c", "a.py", "app"], {"GUNICORN_CMD_ARGS": "-c b.py"}, cwd).workers == 5


def test_default_config_file_is_looked_up_in_the_start_directory(cwd):
    other = cwd / "elsewhere"
    other.mkdir()
    write(other / "gunicorn.conf.py", "workers = 7\n")
    # --chdir does not move the lookup: the file is read before the directory changes.
    assert load(["--chdir", "elsewhere", "app"], cwd=cwd).workers == 1
    assert load(["app"], cwd=other).workers == 7


def test_cwd_defaults_to_the_process_directory(cwd, monkeypatch):
    write(cwd / "gunicorn.conf.py", "workers = 4\n")
    monkeypatch.chdir(cwd)
    cfg = load_config(["app"], {})
    assert cfg.workers == 4
    assert os.path.samefile(cfg.chdir, cwd)


# ------------------------------------------------------------------------------------------------
# Defaults read from the environment


def test_web_concurrency_sets_the_workers_default(cwd):
    assert load(["app"], {"WEB_CONCURRENCY": "6"}, cwd).workers == 6
    assert load(["-w", "2", "app"], {"WEB_CONCURRENCY": "6"}, cwd).workers == 2
    assert load(["app"], {}, cwd).workers == 1


def test_bad_web_concurrency_is_a_config_error(cwd):
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY.*'many' is not an integer"):
        load(["app"], {"WEB_CONCURRENCY": "many"}, cwd)


def test_port_sets_the_bind_default(cwd):
    cfg = load(["app"], {"PORT": "5000"}, cwd)
    assert cfg.bind == ["0.0.0.0:5000"]
    assert cfg.addresses == [Address("tcp", host="0.0.0.0", port=5000)]
    assert load(["-b", "127.0.0.1:1", "app"], {"PORT": "5000"}, cwd).bind == ["127.0.0.1:1"]
    assert load(["app"], {}, cwd).bind == ["127.0.0.1:8000"]


def test_forwarded_allow_ips_default_from_environment(cwd):
    cfg = load(["app"], {"FORWARDED_ALLOW_IPS": "10.1.2.3,*"}, cwd)
    assert cfg.forwarded_allow_ips == ["10.1.2.3", "*"]
    assert cfg.is_default("forwarded_allow_ips")
    assert load(["app"], {}, cwd).forwarded_allow_ips == ["127.0.0.1", "::1"]


@pytest.mark.parametrize(
    "env, argv, expected",
    [
        ({}, [], True),
        ({"SENDFILE": "0"}, [], False),
        ({"SENDFILE": "no"}, [], False),
        ({"SENDFILE": "YES"}, [], True),
        ({"SENDFILE": "y"}, [], True),
        ({"SENDFILE": "1"}, ["--no-sendfile"], False),
    ],
)
def test_sendfile_property(env, argv, expected, cwd):
    cfg = load([*argv, "app"], env, cwd)
    assert cfg.sendfile is expected
    assert core_view(cfg)["sendfile"] is expected


def test_sendfile_true_in_a_config_file_disables_it_like_gunicorn(cwd):
    write(cwd / "gunicorn.conf.py", "sendfile = True\n")
    cfg = load(["app"], cwd=cwd)
    assert cfg.get("sendfile") is True
    assert cfg.sendfile is False


def test_env_dict_from_raw_env(cwd):
    cfg = load(["-e", "A=1", "-e", "B=x=y", "-e", "C=", "app"], cwd=cwd)
    assert cfg.env == {"A": "1", "B": "x=y", "C": ""}


# ------------------------------------------------------------------------------------------------
# Odd flags


def test_limit_request_field_size_flag_with_underscore(cwd):
    cfg = load(["--limit-request-field_size", "123", "app"], cwd=cwd)
    assert cfg.limit_request_field_size == 123


def test_log_file_is_an_alias_of_error_logfile(cwd):
    assert load(["--log-file", "/tmp/x.log", "app"], cwd=cwd).errorlog == "/tmp/x.log"
    assert load(["--error-logfile", "/tmp/y.log", "app"], cwd=cwd).errorlog == "/tmp/y.log"


def test_paster_is_an_alias_of_paste(cwd):
    write(cwd / "x.ini", "[app:main]\nuse = egg:Nothing\n")
    cfg = load(["--paster", "x.ini", "app"], cwd=cwd)
    assert cfg.paste == "x.ini"
    assert cfg.app_uri == str(cwd / "x.ini")  # the ini file wins over APP_MODULE, as in gunicorn


def test_no_control_socket_flag(cwd):
    cfg = load(["--no-control-socket", "app"], cwd=cwd, check_supported=False)
    assert cfg.control_socket_disable is True


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["app", "--proxy-protocol"], "auto"),
        (["--proxy-protocol", "v2", "app"], "v2"),
        (["--proxy-protocol", "true", "app"], "auto"),
        (["--proxy-protocol", "OFF", "app"], "off"),
    ],
)
def test_proxy_protocol_bare_flag_means_auto(argv, expected, cwd):
    assert load(argv, cwd=cwd, check_supported=False).proxy_protocol == expected


def test_umask_accepts_octal(cwd):
    assert load(["-m", "022", "app"], cwd=cwd, check_supported=False).umask == 0o22
    assert load(["-m", "0o027", "app"], cwd=cwd, check_supported=False).umask == 0o27
    assert load(["-m", "18", "app"], cwd=cwd, check_supported=False).umask == 18
    write(cwd / "gunicorn.conf.py", "umask = '077'\n")
    assert load(["app"], cwd=cwd, check_supported=False).umask == 0o77


def test_integers_on_the_command_line_are_decimal_like_gunicorn(cwd):
    # argparse type=int in gunicorn: "010" is ten on the command line ...
    assert load(["-w", "010", "app"], cwd=cwd).workers == 10
    # ... while a string in a config file is read with Python's prefixes.
    write(cwd / "gunicorn.conf.py", "backlog = '0x10'\n")
    assert load(["app"], cwd=cwd).backlog == 16


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as info:
        load_config(["-v"], {})
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"monoceros (version {mc.monoceros_version()})"
    assert mc.monoceros_version() == "0.1.0"


def test_help_lists_every_flag_grouped_by_section(capsys):
    with pytest.raises(SystemExit) as info:
        load_config(["--help"], {})
    assert info.value.code == 0
    out = capsys.readouterr().out
    for s in SETTINGS:
        for flag in s.flags:
            assert flag in out, flag
    with_flags = [sec for sec in SECTIONS if any(s.flags for s in SETTINGS if s.section == sec)]
    assert "Server Hooks" not in with_flags
    positions = [out.index(f"\n{section}:\n") for section in with_flags]
    assert positions == sorted(positions)
    for s in SETTINGS:  # each flag is listed under its own section's heading
        if s.flags:
            heading = out.index(f"\n{s.section}:\n")
            following = [p for p in positions if p > heading]
            end = following[0] if following else len(out)
            assert heading < out.index(f" {s.flags[-1]}", heading) < end, s.name
    assert "not supported by monoceros yet" in out  # unsupported options say so
    assert "Number of worker processes serving requests." in out


def test_unknown_flag_exits_with_status_2(capsys):
    with pytest.raises(SystemExit) as info:
        load_config(["--frobnicate", "app"], {})
    assert info.value.code == 2
    assert "--frobnicate" in capsys.readouterr().err


def test_parser_stores_none_for_absent_options():
    ns = build_parser().parse_args([])
    assert ns.args == []
    assert all(getattr(ns, s.name) is None for s in SETTINGS if s.flags)


# ------------------------------------------------------------------------------------------------
# Validators and their messages


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--workers", "abc"], "invalid value for 'workers' (--workers): 'abc' is not an integer"),
        (["--workers", "-3"], "invalid value for 'workers' (--workers): -3 is negative"),
        (["--timeout", "1.5"], "invalid value for 'timeout' (--timeout): '1.5' is not an integer"),
        (
            ["--log-level", "verbose"],
            "invalid value for 'loglevel' (--log-level): 'verbose' is not"
            " one of: debug, info, warning, error, critical",
        ),
        (
            ["--header-map", "keep"],
            "invalid value for 'header_map' (--header-map): 'keep' is not"
            " one of: drop, refuse, dangerous",
        ),
        (
            ["-e", "NOEQUALS"],
            "invalid value for 'raw_env' (--env): ['NOEQUALS'] contains"
            " 'NOEQUALS', which is not of the form KEY=VALUE",
        ),
        (
            ["--forwarded-allow-ips", "10.0.0.1/8"],
            "invalid value for 'forwarded_allow_ips'"
            " (--forwarded-allow-ips): '10.0.0.1/8' is not an IP address or network",
        ),
        (
            ["--forwarded-allow-ips", "1.2.3.4,nope"],
            "'1.2.3.4,nope' contains 'nope', which is not an IP address or network",
        ),
        (
            ["--chdir", "/no/such/dir"],
            "invalid value for 'chdir' (--chdir): '/no/such/dir' is not an existing directory",
        ),
        (
            ["-u", "no-such-user-xyz"],
            "invalid value for 'user' (--user): 'no-such-user-xyz' is not a known user",
        ),
        (
            ["-g", "no-such-group-xyz"],
            "invalid value for 'group' (--group): 'no-such-group-xyz' is not a known group",
        ),
        (["-m", "09"], "invalid value for 'umask' (--umask): '09' is not an integer"),
        (["--proxy-protocol", "v3"], "'v3' is not one of: off, v1, v2, auto"),
        (["--http2-max-frame-size", "100"], "100 is outside 16384..16777215"),
        (["--http-protocols", "h1,h3"], "names 'h3'; the choices are h1 and h2"),
        (["--reload-engine", "magic"], "'magic' is not one of: auto, poll, inotify"),
        (["-b", "localhost:http"], "'localhost:http' has 'http', which is not a valid port"),
    ],
)
def test_invalid_values_give_one_line_errors(argv, message, cwd):
    with pytest.raises(ConfigError) as info:
        load([*argv, "app"], cwd=cwd)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_error_from_env_args_names_the_source(cwd):
    with pytest.raises(ConfigError) as info:
        load(["app"], {"GUNICORN_CMD_ARGS": "--workers x"}, cwd)
    assert str(info.value) == (
        "invalid value for 'workers' (--workers): 'x' is not an integer (in GUNICORN_CMD_ARGS)"
    )


def test_error_from_config_file_names_the_file(cwd):
    write(cwd / "gunicorn.conf.py", "workers = 'four'\n")
    with pytest.raises(ConfigError) as info:
        load(["app"], cwd=cwd)
    assert str(info.value) == (
        "invalid value for 'workers' (--workers): 'four' is not an integer"
        f" (in config file {str(cwd / 'gunicorn.conf.py')!r})"
    )


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), ("true", True), (" TRUE ", True), ("False", False), (False, False)],
)
def test_bool_from_strings(value, expected, cwd):
    cfg = Config({}, str(cwd))
    cfg.set("preload_app", value)
    assert cfg.preload_app is expected


@pytest.mark.parametrize("value", ["yes", 1, "on", 0.0])
def test_bool_rejects_other_values(value, cwd):
    cfg = Config({}, str(cwd))
    with pytest.raises(ConfigError, match="is not a boolean"):
        cfg.set("preload_app", value)


def test_int_validator(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("workers", "0x10")
    assert cfg.workers == 16
    cfg.set("workers", True)  # bools are ints, as in gunicorn
    assert cfg.workers == 1 and type(cfg.workers) is int
    for bad in (2.5, None, [1]):
        with pytest.raises(ConfigError, match="is not an integer"):
            cfg.set("workers", bad)


def test_string_lists(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("bind", "  0.0.0.0:1 ")  # a single string is a one-item list
    assert cfg.bind == ["0.0.0.0:1"]
    cfg.set("bind", [])
    assert cfg.bind == []
    with pytest.raises(ConfigError, match="is not a list of strings"):
        cfg.set("bind", [1, 2])
    cfg.set("forwarder_headers", "A, ,B,")
    assert cfg.forwarder_headers == ["A", "B"]
    cfg.set("forwarder_headers", ["X_Y"])
    assert cfg.forwarder_headers == ["X_Y"]


def test_dict_validator(cwd):
    cfg = Config({}, str(cwd))
    with pytest.raises(ConfigError, match="'secure_scheme_headers': .* is not a dict"):
        cfg.set("secure_scheme_headers", [("X", "y")])


def test_string_validator_strips_and_rejects_non_strings(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("accesslog", "  /tmp/a.log ")
    assert cfg.accesslog == "/tmp/a.log"
    with pytest.raises(ConfigError, match="is not a string"):
        cfg.set("accesslog", 5)


def test_chdir_is_made_absolute_from_the_start_directory(cwd):
    (cwd / "a" / "b").mkdir(parents=True)
    cfg = Config({}, str(cwd))
    cfg.set("chdir", "a/b")
    assert cfg.chdir == str(cwd / "a" / "b")


def test_user_and_group_accept_names_and_ids(cwd):
    import grp
    import pwd

    cfg = Config({}, str(cwd))
    cfg.set("user", "root")
    assert cfg.uid == pwd.getpwnam("root").pw_uid
    cfg.set("group", grp.getgrgid(0).gr_name)
    assert cfg.gid == 0
    cfg.set("user", "123")
    assert cfg.user == 123


def _hook1(server):
    return ("hook1", server)


def _hook2(a, b):
    return (a, b)


def _hook3(a, b, c):
    return (a, b, c)


def test_hook_validator_checks_arity(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("on_starting", _hook1)
    assert cfg.on_starting is _hook1
    with pytest.raises(ConfigError) as info:
        cfg.set("on_starting", _hook2)
    assert str(info.value).startswith("invalid value for 'on_starting': <function _hook2")
    assert "takes 2 positional arguments; the hook is called with 1" in str(info.value)
    with pytest.raises(ConfigError, match="is not callable"):
        cfg.set("when_ready", 42)
    cfg.set("nworkers_changed", _hook3)
    assert cfg.nworkers_changed is _hook3


def test_hook_given_as_dotted_string_is_imported(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("on_starting", "os.path.basename")  # one positional parameter
    assert cfg.on_starting is os.path.basename
    with pytest.raises(ConfigError, match="is not a dotted import path"):
        cfg.set("on_starting", "basename")
    with pytest.raises(ConfigError, match="could not be imported"):
        cfg.set("on_starting", "no_such_module_xyz.func")
    with pytest.raises(ConfigError, match="has no 'nothere'"):
        cfg.set("on_starting", "os.path.nothere")


def test_hook_dotted_string_from_a_module_next_to_the_config(cwd):
    write(cwd / "myhooks_cfgtest.py", "def when_ready(server):\n    return 'ready'\n")
    write(cwd / "gunicorn.conf.py", "when_ready = 'myhooks_cfgtest.when_ready'\n")
    try:
        cfg = load(["app"], cwd=cwd, check_supported=False)
        assert cfg.when_ready(None) == "ready"
    finally:
        sys.modules.pop("myhooks_cfgtest", None)


def test_post_request_accepts_two_three_or_four_arguments(cwd):
    cfg = Config({}, str(cwd))
    cfg.set("post_request", _hook2)
    assert cfg.post_request("w", "r", "env", "resp") == ("w", "r")
    cfg.set("post_request", _hook3)
    assert cfg.post_request("w", "r", "env", "resp") == ("w", "r", "env")

    def four(w, r, e, resp):
        return resp

    cfg.set("post_request", four)
    assert cfg.post_request is four
    with pytest.raises(ConfigError, match="accepts 2, 3 or 4"):
        cfg.set("post_request", _hook1)


def test_worker_class_accepts_a_class_or_a_function_returning_one(cwd):
    class MyWorker:
        pass

    cfg = Config({}, str(cwd))
    cfg.set("worker_class", MyWorker)
    assert cfg.worker_class is MyWorker
    cfg.set("worker_class", lambda: MyWorker)
    assert cfg.worker_class is MyWorker
    assert cfg.worker_class_str == "MyWorker"


# ------------------------------------------------------------------------------------------------
# Refusal of unsupported settings


@pytest.mark.parametrize(
    "argv, file_line, name, flag",
    [
        (["--certfile", "c.pem"], "certfile = 'c.pem'", "certfile", "--certfile"),
        (["--keyfile", "k.pem"], "keyfile = 'k.pem'", "keyfile", "--keyfile"),
        (["--protocol", "uwsgi"], "protocol = 'uwsgi'", "protocol", "--protocol"),
        (
            ["--http-protocols", "h2,h1"],
            "http_protocols = 'h2,h1'",
            "http_protocols",
            "--http-protocols",
        ),
        (
            ["--control-socket", "/run/app.ctl"],
            "control_socket = '/run/app.ctl'",
            "control_socket",
            "--control-socket",
        ),
    ],
)
def test_unsupported_setting_is_refused_from_each_source(argv, file_line, name, flag, cwd):
    expected = f"setting '{name}' ({flag}) is not supported by monoceros yet"
    with pytest.raises(ConfigError) as info:
        load([*argv, "app"], cwd=cwd)
    assert str(info.value) == expected
    with pytest.raises(ConfigError) as info:
        load(["app"], {"GUNICORN_CMD_ARGS": shlex.join(argv)}, cwd)
    assert str(info.value) == expected
    write(cwd / "gunicorn.conf.py", file_line + "\n")
    with pytest.raises(ConfigError) as info:
        load(["app"], cwd=cwd)
    assert str(info.value) == expected


def test_unsupported_config_file_only_settings_are_refused_by_name(cwd):
    write(
        cwd / "gunicorn.conf.py",
        "dirty_workers = 1\ndirty_apps = ['m:App']\ndef on_dirty_starting(arbiter):\n    pass\n",
    )
    with pytest.raises(ConfigError) as info:
        load(["app"], cwd=cwd)
    assert str(info.value) == "setting 'dirty_apps' (--dirty-app) is not supported by monoceros yet"
    write(
        cwd / "gunicorn.conf.py",
        "certfile = 'c.pem'\ndef ssl_context(config, factory):\n    pass\n",
    )
    cfg = load(["app"], cwd=cwd, check_supported=False)
    assert "setting 'ssl_context' is not supported by monoceros yet" in cfg.refusals()


# Settings of a feature monoceros lacks, given values that change nothing because the feature
# is off in the same configuration (as in gunicorn, where they are then never read).
DORMANT = [
    (["--no-control-socket"], "control_socket_disable = True"),
    (
        ["--no-control-socket", "--control-socket", "/run/x.ctl", "--control-socket-mode", "0o660"],
        "control_socket_disable = True\ncontrol_socket = '/run/x.ctl'\ncontrol_socket_mode = 0o660",
    ),
    (["--ciphers", "HIGH", "--ca-certs", "ca.pem", "--cert-reqs", "2"], "ciphers = 'HIGH'"),
    (["--do-handshake-on-connect"], "do_handshake_on_connect = True"),
    (["--http2-max-concurrent-streams", "50"], "http2_max_concurrent_streams = 50"),
    (["--root-path", "/api", "--asgi-lifespan", "off"], "root_path = '/api'"),
    (["--uwsgi-allow-from", "10.0.0.1"], "uwsgi_allow_ips = '10.0.0.1'"),
    (["--dirty-app", "m:App", "--dirty-timeout", "5"], "dirty_apps = ['m:App']"),
    (["--dirty-workers", "2"], "dirty_workers = 2"),
]


@pytest.mark.parametrize("argv, file_lines", DORMANT)
def test_settings_of_a_feature_that_is_off_are_accepted(argv, file_lines, cwd):
    assert load([*argv, "app"], cwd=cwd).refusals() == []
    assert load(["app"], {"GUNICORN_CMD_ARGS": shlex.join(argv)}, cwd).refusals() == []
    write(cwd / "gunicorn.conf.py", file_lines + "\n")
    cfg = load(["app"], cwd=cwd)
    assert cfg.refusals() == []
    # Said at debug level at startup, so the setting is not silently dropped.
    assert all("has no effect" in line for line in cfg.dormant_settings())
    assert cfg.dormant_settings()


def test_dormant_feature_hooks_are_accepted_while_the_feature_is_off(cwd):
    write(
        cwd / "gunicorn.conf.py",
        "def ssl_context(config, factory):\n    pass\n"
        "def dirty_post_fork(arbiter, worker):\n    pass\n",
    )
    assert load(["app"], cwd=cwd).dormant_settings() == [
        "setting 'ssl_context' has no effect: TLS is off (no certfile or keyfile)",
        "setting 'dirty_post_fork' has no effect: the dirty arbiter is off "
        "(it needs dirty_workers > 0 and dirty_apps)",
    ]


@pytest.mark.parametrize(
    "argv, refused",
    [
        (["--control-socket-mode", "0o660"], "control_socket_mode"),
        (["--certfile", "c.pem", "--ciphers", "HIGH"], "certfile"),
        (["--http2-cleartext", "both", "--http2-max-frame-size", "20000"], "http2_cleartext"),
        (["--dirty-workers", "1", "--dirty-app", "m:App"], "dirty_apps"),
        (["-k", "uvicorn.workers.UvicornWorker", "--root-path", "/api"], "worker_class"),
    ],
)
def test_settings_of_a_feature_that_is_on_are_refused(argv, refused, cwd):
    with pytest.raises(ConfigError) as info:
        load([*argv, "app"], cwd=cwd)
    assert f"setting '{refused}'" in str(info.value)


@pytest.mark.parametrize(
    "argv, file_line",
    [
        (["--max-requests", "0"], "max_requests = 0"),
        (["--protocol", "http"], "protocol = 'http'"),
        (["--proxy-protocol", "off"], "proxy_protocol = False"),
        (["--suppress-ragged-eofs"], "suppress_ragged_eofs = True"),
        (["--cert-reqs", "0"], "cert_reqs = 0"),
        (["--proxy-allow-from", "127.0.0.1, ::1"], "proxy_allow_ips = '127.0.0.1,::1'"),
        (["--http-protocols", "h1"], "http_protocols = 'h1'"),
        (["--control-socket-mode", "0600"], "control_socket_mode = 0o600"),
    ],
)
def test_unsupported_setting_equal_to_its_default_is_accepted(argv, file_line, cwd):
    assert load([*argv, "app"], cwd=cwd).app_uri == "app"
    assert load(["app"], {"GUNICORN_CMD_ARGS": shlex.join(argv)}, cwd).app_uri == "app"
    write(cwd / "gunicorn.conf.py", file_line + "\n")
    assert load(["app"], cwd=cwd).app_uri == "app"


def test_unknown_names_in_config_file_are_ignored(cwd):
    write(
        cwd / "gunicorn.conf.py",
        """
        import multiprocessing
        WORKERS = 99          # case matters
        helper = lambda: 1
        workers = 2
        """,
    )
    cfg = load(["app"], cwd=cwd)
    assert cfg.workers == 2


@pytest.mark.parametrize("value", ["gevent", "eventlet", "uvicorn.workers.UvicornWorker"])
def test_other_worker_classes_are_refused_naming_the_class(value, cwd):
    with pytest.raises(ConfigError) as info:
        load(["-k", value, "app"], cwd=cwd)
    assert str(info.value) == (
        f"setting 'worker_class' (--worker-class): worker class {value!r} is not supported"
        " by monoceros yet (only 'sync', 'gthread' and 'event' are)"
    )


def test_threads_above_one_promote_sync_to_gthread(cwd):
    cfg = load(["--threads", "4", "app"], cwd=cwd)
    assert cfg.worker_class == "gthread"
    assert cfg.worker_class_str == "gthread"
    assert cfg.get("worker_class") == "sync"
    assert core_view(cfg)["worker_class"] == "gthread"
    assert core_view(cfg)["threads"] == 4
    cfg = load(["-k", "sync", "--threads", "2", "app"], cwd=cwd)
    assert cfg.worker_class == "gthread"
    assert core_view(cfg)["worker_class"] == "gthread"
    cfg = load(["--threads", "1", "app"], cwd=cwd)
    assert cfg.worker_class == "sync"
    assert core_view(cfg)["worker_class"] == "sync"


@pytest.mark.parametrize(
    "value", ["gthread", "gunicorn.workers.gthread.ThreadWorker", "egg:gunicorn#gthread"]
)
@pytest.mark.parametrize("threads", ["1", "4"])
def test_gthread_names_are_accepted_with_any_thread_count(value, threads, cwd):
    cfg = load(["-k", value, "--threads", threads, "app"], cwd=cwd)
    assert cfg.worker_class == value
    assert core_view(cfg)["worker_class"] == "gthread"
    assert core_view(cfg)["worker_class_name"] == value  # the startup line echoes it
    assert core_view(cfg)["threads"] == int(threads)


def test_user_and_group_other_than_current_are_accepted(cwd):
    cfg = load(["-u", str(os.geteuid() + 1), "-g", str(os.getegid() + 1), "app"], cwd=cwd)
    assert (cfg.uid, cfg.gid) == (os.geteuid() + 1, os.getegid() + 1)
    assert cfg.refusals() == []


@pytest.mark.parametrize("value", ["-1", "4294967295", "99999999999"])
def test_user_id_out_of_range_is_one_line(value, cwd):
    with pytest.raises(ConfigError) as info:
        load([f"--user={value}", "app"], cwd=cwd)
    assert str(info.value) == (
        f"invalid value for 'user' (--user): '{value}' is not a valid user id (0 to 4294967294)"
    )


def test_refusals_lists_every_offender_in_table_order(cwd):
    argv = ["--keyfile", "k.pem", "--protocol", "uwsgi", "app"]
    cfg = load(argv, cwd=cwd, check_supported=False)
    assert cfg.refusals() == [
        "setting 'protocol' (--protocol) is not supported by monoceros yet",
        "setting 'keyfile' (--keyfile) is not supported by monoceros yet",
    ]


# ------------------------------------------------------------------------------------------------
# Config file forms


def test_file_prefix(cwd):
    write(cwd / "conf.py", "workers = 3\n")
    assert load(["-c", "file:conf.py", "app"], cwd=cwd).workers == 3
    assert load(["-c", f"file:{cwd / 'conf.py'}", "app"], cwd=cwd).workers == 3


def test_python_prefix_imports_a_module_from_the_start_directory(cwd):
    write(cwd / "conf_module_xyz.py", "workers = 4\nbacklog = 5\n")
    try:
        cfg = load(["-c", "python:conf_module_xyz", "app"], cwd=cwd)
        assert (cfg.workers, cfg.backlog) == (4, 5)
        assert str(cwd) not in sys.path  # the path is only borrowed while loading
    finally:
        sys.modules.pop("conf_module_xyz", None)


def test_python_prefix_missing_module(cwd):
    with pytest.raises(ConfigError) as info:
        load(["-c", "python:no_such_conf_xyz", "app"], cwd=cwd)
    assert str(info.value) == (
        "failed to import config module 'no_such_conf_xyz': ModuleNotFoundError: No module"
        " named 'no_such_conf_xyz'"
    )


def test_config_file_runs_as_module_named_config(cwd):
    write(
        cwd / "gunicorn.conf.py",
        """
        import sys
        workers = 2 if __name__ == "__config__" else 9
        backlog = 77 if sys.modules["__config__"].__file__.endswith("gunicorn.conf.py") else 1
        """,
    )
    cfg = load(["app"], cwd=cwd)
    assert (cfg.workers, cfg.backlog) == (2, 77)


def test_config_file_without_py_extension_is_read_with_a_warning(cwd, capsys):
    write(cwd / "settings.conf", "workers = 3\n")
    assert load(["-c", "settings.conf", "app"], cwd=cwd).workers == 3
    assert "should have a .py extension" in capsys.readouterr().err


def test_missing_explicit_config_file(cwd):
    with pytest.raises(ConfigError) as info:
        load(["-c", "nope.py", "app"], cwd=cwd)
    assert str(info.value) == "config file 'nope.py' doesn't exist"
    with pytest.raises(ConfigError, match="config file 'gone.py' doesn't exist"):
        load(["app"], {"GUNICORN_CMD_ARGS": "--config gone.py"}, cwd)


def test_config_file_that_raises(cwd):
    write(cwd / "gunicorn.conf.py", "workers = 2\nx = 1 / 0\n")
    with pytest.raises(ConfigError) as info:
        load(["app"], cwd=cwd)
    message = str(info.value)
    assert message.startswith("failed to read config file ")
    assert "gunicorn.conf.py" in message
    assert message.endswith("ZeroDivisionError: division by zero (line 2)")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_config_file_with_syntax_error(cwd):
    write(cwd / "bad.py", "workers = = 2\n")
    with pytest.raises(ConfigError) as info:
        load(["-c", "bad.py", "app"], cwd=cwd)
    assert "bad.py" in str(info.value)
    assert "SyntaxError: invalid syntax (line 1)" in str(info.value)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------------
# Bind addresses


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1:8000", Address("tcp", host="127.0.0.1", port=8000)),
        ("localhost", Address("tcp", host="localhost", port=8000)),
        ("EXAMPLE.com:81", Address("tcp", host="example.com", port=81)),
        ("[::1]:9000", Address("tcp", host="::1", port=9000)),
        ("[::]", Address("tcp", host="::", port=8000)),
        ("tcp://10.0.0.1:5000", Address("tcp", host="10.0.0.1", port=5000)),
        ("tcp://[fe80::1]:7", Address("tcp", host="fe80::1", port=7)),
        ("", Address("tcp", host="0.0.0.0", port=8000)),
        (":8080", Address("tcp", host="0.0.0.0", port=8080)),
        ("unix:/run/app.sock", Address("unix", path="/run/app.sock")),
        ("unix:///run/app.sock", Address("unix", path="/run/app.sock")),
        ("unix:relative.sock", Address("unix", path="relative.sock")),
        ("fd://3", Address("fd", fd=3)),
    ],
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("localhost:http", "'http', which is not a valid port number"),
        ("host:", "'', which is not a valid port number"),
        ("[::1]:x", "'x', which is not a valid port number"),
        ("::1", "which is not a valid port number"),
        ("host:70000", "port 70000, outside 0..65535"),
        ("fd://three", "'three', which is not a valid file descriptor"),
        ("fd://-1", "which is not a valid file descriptor"),
        ("unix:", "empty socket path"),
        ("[::1]garbage", "not ':PORT'"),
    ],
)
def test_parse_address_errors(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse_address(text)
    assert str(info.value).startswith(f"invalid value for 'bind' (--bind): {text!r}")
    assert fragment in str(info.value)


def test_bad_bind_fails_at_load_time(cwd):
    with pytest.raises(ConfigError, match="not a valid port number"):
        load(["-b", "0.0.0.0:abc", "app"], cwd=cwd)


def test_addresses_keep_bind_strings(cwd):
    cfg = load(["-b", "unix:/tmp/a.sock", "-b", "[::1]:81", "-b", "fd://4", "app"], cwd=cwd)
    assert cfg.bind == ["unix:/tmp/a.sock", "[::1]:81", "fd://4"]
    assert [a.kind for a in cfg.addresses] == ["unix", "tcp", "fd"]
    assert cfg.address == ["/tmp/a.sock", ("::1", 81), 4]
    assert [str(a) for a in cfg.addresses] == ["unix:/tmp/a.sock", "[::1]:81", "fd://4"]


@needs_gunicorn
@pytest.mark.parametrize(
    "text",
    ["127.0.0.1:8000", "localhost", "Host.Example:81", "[::1]:9000", "[::1]", "tcp://1.2.3.4:5",
     "unix:/x.sock", "unix:///x.sock", "fd://3", ""],
)  # fmt: skip
def test_parse_address_agrees_with_gunicorn(text):
    theirs = gutil.parse_address(text)
    ours = parse_address(text)
    if ours.kind == "tcp":
        assert (ours.host, ours.port) == (theirs[0] or "0.0.0.0", theirs[1])
    elif ours.kind == "unix":
        assert ours.path == theirs
    else:
        assert ours.fd == theirs


# ------------------------------------------------------------------------------------------------
# the hand-off to the C++ core (monoceros.core_settings), seen as the values the core reads


def core_view(cfg) -> dict:
    """The typed configs core_settings makes for `cfg`, read back as plain values under the
    names the settings had when they crossed as a dict (these assertions predate the typed
    hand-off; test_core_settings.py checks that every bound field is filled)."""
    from monoceros import core_settings

    arbiter = core_settings.arbiter_config(cfg, version="test")
    worker = core_settings.worker_config(
        cfg, server_software="test", server_header="test", script_name=""
    )
    parser = worker.parser

    def bind(spec):
        kind = spec.kind.name
        if kind == "tcp":
            return ("tcp", spec.host, spec.port, None, None)
        if kind == "unix_path":
            return ("unix", None, None, spec.path, None)
        return ("fd", None, None, None, spec.fd)

    def statsd(target):
        if target is None:
            return None
        if target.unix_path:
            return {"unix_path": target.unix_path}
        return {"host": target.host, "port": target.port}

    return {
        "bind": [bind(spec) for spec in arbiter.binds],
        "backlog": arbiter.backlog,
        "workers": arbiter.workers,
        "threads": worker.threads if worker.kind.name == "gthread" else cfg.threads,
        "timeout": worker.timeout,
        "graceful_timeout": arbiter.graceful_timeout,
        "worker_connections": worker.worker_connections,
        "keepalive": worker.keepalive,
        "sendfile": worker.response.sendfile,
        "limit_request_line": parser.limit_request_line,
        "limit_request_fields": parser.limit_request_fields,
        "limit_request_field_size": parser.limit_request_field_size,
        "permit_obsolete_folding": parser.permit_obsolete_folding,
        "strip_header_spaces": parser.strip_header_spaces,
        "permit_unconventional_http_method": parser.permit_unconventional_http_method,
        "permit_unconventional_http_version": parser.permit_unconventional_http_version,
        "casefold_http_method": parser.casefold_http_method,
        "header_map": parser.header_map.name,
        "forwarder_headers": list(parser.forwarder_headers),
        "forwarded_allow_ips": list(worker.forwarded_allow_ips),
        "secure_scheme_headers": dict(worker.environ.secure_scheme_headers),
        "permit_missing_host": not parser.require_host,
        "limit_request_body": worker.limit_request_body,
        "tmp_upload_dir": worker.tmp_upload_dir or None,
        "proxy_protocol": worker.proxy_protocol.name,
        "proxy_allow_ips": list(worker.proxy_allow_ips),
        "access_log_format": worker.access_log_format,
        "umask": arbiter.umask,
        "daemon": arbiter.daemon,
        "proc_name": arbiter.proc_name,
        "worker_tmp_dir": arbiter.worker_tmp_dir,
        "uid": arbiter.binds[0].owner_uid,
        "gid": arbiter.binds[0].owner_gid,
        "worker_class": worker.kind.name,
        "worker_class_name": arbiter.worker_class_name,
        "max_worker_memory": arbiter.max_worker_memory // (1024 * 1024),
        "body_spool_limit": worker.body_spool_limit,
        "statsd": statsd(worker.statsd),
        "statsd_prefix": worker.statsd_prefix,
        "dogstatsd_tags": worker.dogstatsd_tags,
        "enable_backlog_metric": arbiter.backlog_metric,
        "reuse_port": arbiter.reuse_port,
    }


def test_core_handoff_defaults(cwd):
    core = core_view(load(["app"], cwd=cwd))
    assert core == {
        "bind": [("tcp", "127.0.0.1", 8000, None, None)],
        "backlog": 2048,
        "workers": 1,
        "threads": 1,
        "timeout": 30,
        "graceful_timeout": 30,
        "worker_connections": 1000,
        "keepalive": 2,
        "sendfile": True,
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "permit_obsolete_folding": False,
        "strip_header_spaces": False,
        "permit_unconventional_http_method": False,
        "permit_unconventional_http_version": False,
        "casefold_http_method": False,
        "header_map": "drop",
        "forwarder_headers": ["SCRIPT_NAME", "PATH_INFO"],
        "forwarded_allow_ips": ["127.0.0.1", "::1"],
        "secure_scheme_headers": {
            "X-FORWARDED-PROTOCOL": "ssl",
            "X-FORWARDED-PROTO": "https",
            "X-FORWARDED-SSL": "on",
        },
        "permit_missing_host": False,
        "limit_request_body": 0,
        "tmp_upload_dir": None,
        "proxy_protocol": "off",
        "proxy_allow_ips": ["127.0.0.1", "::1"],
        "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        "umask": 0,
        "daemon": False,
        "proc_name": "app",
        "worker_tmp_dir": "",
        "uid": os.geteuid(),
        "gid": os.getegid(),
        "worker_class": "sync",
        "worker_class_name": "sync",
        "max_worker_memory": 0,
        "body_spool_limit": -1,
        "statsd": None,
        "statsd_prefix": "",
        "dogstatsd_tags": "",
        "enable_backlog_metric": False,
        "reuse_port": False,
    }


@pytest.mark.parametrize(
    "argv, key, expected",
    [
        (["--statsd-host", "metrics:9125"], "statsd", {"host": "metrics", "port": 9125}),
        (["--statsd-host", "unix:///run/statsd"], "statsd", {"unix_path": "/run/statsd"}),
        (["--statsd-prefix", "shop..."], "statsd_prefix", "shop."),
        (["--statsd-prefix", "a"], "statsd_prefix", "a."),
        (["-k", "event"], "worker_class", "event"),
        (["-k", "sync"], "worker_class", "sync"),
        (["-k", "gthread"], "worker_class", "gthread"),
        (["-k", "sync", "--threads", "3"], "worker_class", "gthread"),
        (["-k", "gunicorn.workers.sync.SyncWorker", "--threads", "2"], "worker_class", "gthread"),
        (["--threads", "3"], "threads", 3),
        (["--max-worker-memory", "256"], "max_worker_memory", 256),
        (["--limit-request-line", "0"], "limit_request_line", 0),
        (["--limit-request-line", "8190"], "limit_request_line", 8190),
        (["--limit-request-line", "100000"], "limit_request_line", 8190),
        (["--limit-request-fields", "0"], "limit_request_fields", 32768),
        (["--limit-request-fields", "40000"], "limit_request_fields", 32768),
        (["--limit-request-fields", "7"], "limit_request_fields", 7),
        (["--limit-request-field_size", "0"], "limit_request_field_size", 8190),
        (["--limit-request-field_size", "20000"], "limit_request_field_size", 20000),
        (["--forwarder-headers", "script_name,x_user"], "forwarder_headers",
         ["SCRIPT_NAME", "X_USER"]),
        (["-b", "unix:/s", "-b", "fd://5"], "bind",
         [("unix", None, None, "/s", None), ("fd", None, None, None, 5)]),
        (["--header-map", "DANGEROUS"], "header_map", "dangerous"),
        (["--permit-missing-host"], "permit_missing_host", True),
    ],
)  # fmt: skip
def test_core_handoff_applies_gunicorn_adjustments(argv, key, expected, cwd):
    assert core_view(load([*argv, "app"], cwd=cwd))[key] == expected


def test_core_handoff_upper_cases_secure_scheme_header_names(cwd):
    write(cwd / "gunicorn.conf.py", "secure_scheme_headers = {'x-forwarded-proto': 'https'}\n")
    core = core_view(load(["app"], cwd=cwd))
    assert core["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}


# ------------------------------------------------------------------------------------------------
# gunicorn as an oracle for whole command lines

_ORACLE = r"""
import json, sys
names = json.loads(sys.argv[1])
sys.argv = ["gunicorn"] + sys.argv[2:]
from gunicorn.app.wsgiapp import WSGIApplication
app = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
out = {n: app.cfg.settings[n].get() for n in names}
out["app_uri"] = app.app_uri
out["sendfile_property"] = app.cfg.sendfile
out["worker_class_str"] = app.cfg.worker_class_str
out["address"] = app.cfg.address
print(json.dumps(out, default=repr))
"""

_COMPARED = [
    "bind", "backlog", "workers", "worker_class", "threads", "worker_connections", "timeout",
    "graceful_timeout", "keepalive", "limit_request_line", "limit_request_fields",
    "limit_request_field_size", "preload_app", "sendfile", "chdir", "raw_env", "umask",
    "forwarded_allow_ips", "accesslog", "access_log_format", "errorlog", "loglevel",
    "pythonpath", "permit_obsolete_folding", "strip_header_spaces", "casefold_http_method",
    "permit_unconventional_http_method", "permit_unconventional_http_version",
    "forwarder_headers", "header_map", "secure_scheme_headers", "default_proc_name",
    "proxy_protocol", "max_requests", "proc_name", "wsgi_app", "reuse_port", "http_protocols",
]  # fmt: skip


def _run_gunicorn_oracle(argv, env, cwd: Path) -> dict:
    full_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), **env}
    proc = subprocess.run(
        [sys.executable, "-c", _ORACLE, json.dumps(_COMPARED), *argv],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _ours_as_json(argv, env, cwd: Path) -> dict:
    cfg = load(argv, {"HOME": str(cwd), **env}, cwd, check_supported=False)
    out = {n: cfg.get(n) for n in _COMPARED}
    out["app_uri"] = cfg.app_uri
    out["sendfile_property"] = cfg.sendfile
    out["worker_class_str"] = cfg.worker_class_str
    out["address"] = [a if not isinstance(a, tuple) else list(a) for a in cfg.address]
    return json.loads(json.dumps(out, default=repr))


@needs_gunicorn
@pytest.mark.parametrize(
    "argv, env, files",
    [
        (["-w", "3", "-b", "127.0.0.1:9000", "--keep-alive", "5", "app:application"], {}, {}),
        (
            ["--backlog", "99", "myproject.wsgi"],
            {
                "GUNICORN_CMD_ARGS": "-w 4 --timeout 12 --access-logfile - -e A=1",
                "WEB_CONCURRENCY": "7",
                "PORT": "5000",
                "FORWARDED_ALLOW_IPS": "10.0.0.0/8,*",
                "SENDFILE": "no",
            },
            {"gunicorn.conf.py": "workers = 2\ntimeout = 3\nkeepalive = 4\nbind = ':7000'\n"},
        ),
        (
            ["app", "--limit-request-field_size", "0", "--log-file", "e.log", "--no-sendfile",
             "--proxy-protocol"],
            {"PORT": "8123"},
            {},
        ),
        (
            ["-m", "022", "--forwarder-headers", "SCRIPT_NAME, X_USER", "--header-map",
             "DANGEROUS", "--threads", "3", "--chdir", "sub", "--pythonpath", "a,b", "x:y"],
            {},
            {"sub/.keep": ""},
        ),
        (
            ["-c", "python:oracle_conf_mod", "--log-level", "DEBUG", "app"],
            {"GUNICORN_CMD_ARGS": "--max-requests 9 --preload"},
            {
                "oracle_conf_mod.py": "wsgi_app = 'ignored:app'\nloglevel = 'error'\n"
                "secure_scheme_headers = {'X-PROTO': 'https'}\nproc_name = 'web'\n"
                "raw_env = ['K=V', 'L=M']\n"
            },
        ),
        (
            [],
            {"GUNICORN_CMD_ARGS": "--config conf/alt.py --reuse-port"},
            {"conf/alt.py": "wsgi_app = 'pkg.wsgi:app'\nsendfile = True\n"
             "http_protocols = 'h1'\nbind = ['unix:/tmp/x.sock', '[::1]:81']\n"},
        ),
    ],
)  # fmt: skip
def test_whole_command_lines_agree_with_gunicorn(argv, env, files, cwd):
    for rel, text in files.items():
        path = cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    try:
        ours = _ours_as_json(argv, env, cwd)
    finally:
        sys.modules.pop("oracle_conf_mod", None)
    theirs = _run_gunicorn_oracle(argv, env, cwd)
    # Deliberate difference: an empty host (":7000") reads as 0.0.0.0, gunicorn keeps "".
    theirs["address"] = [
        ["0.0.0.0", a[1]] if isinstance(a, list) and a[0] == "" else a for a in theirs["address"]
    ]
    assert ours == theirs


# ------------------------------------------------------------------------------------------------
# docs/settings.md


def test_render_settings_markdown_has_a_row_per_setting():
    text = render_settings_markdown()
    for section in SECTIONS:
        assert f"\n## {section}\n" in text
    for s in SETTINGS:
        assert f"| `{s.name}` |" in text
    assert "| `protocol` | `--protocol` STRING | `'http'` | not yet |" in text
    workers_row = "| `workers` | `-w`, `--workers` INT | `$WEB_CONCURRENCY`, or `1` when unset |"
    assert workers_row + " yes |" in text


def test_settings_doc_is_current_and_check_detects_staleness(tmp_path):
    script = ROOT / "scripts" / "gen-settings-doc"
    current = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert current.returncode == 0, current.stderr
    stale = tmp_path / "settings.md"
    stale.write_text("old\n")
    result = subprocess.run(
        [sys.executable, str(script), "--check", "--output", str(stale)], capture_output=True
    )
    assert result.returncode == 1
    subprocess.run([sys.executable, str(script), "--output", str(stale)], check=True)
    assert stale.read_text() == render_settings_markdown()


# ------------------------------------------------------------------------------------------------
# Logging setup (monoceros.logging reads the logging settings of a Config)


@pytest.fixture
def clean_loggers():
    from monoceros import logging as mlog

    yield mlog
    for name in (mlog.ERROR_LOGGER, mlog.ACCESS_LOGGER):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_logging_to_files(clean_loggers, cwd):
    mlog = clean_loggers
    err, acc = cwd / "error.log", cwd / "access.log"
    err.write_text("existing\n")
    cfg = load(
        ["--error-logfile", str(err), "--access-logfile", str(acc), "--log-level", "warning",
         "app"],
        cwd=cwd,
    )  # fmt: skip
    mlog.setup_logging(cfg)
    mlog.error_logger().info("hidden")
    mlog.error_logger().warning("shown %d", 42)
    mlog.access_logger().info('1.2.3.4 - - "GET / HTTP/1.1" 200')
    for handler in mlog.error_logger().handlers + mlog.access_logger().handlers:
        handler.flush()
    lines = err.read_text().splitlines()
    assert lines[0] == "existing"  # appended, not truncated
    assert len(lines) == 2
    import re

    assert re.fullmatch(
        rf"\[\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{{4}}\] \[{os.getpid()}\] \[WARNING\] shown 42",
        lines[1],
    )
    assert acc.read_text() == '1.2.3.4 - - "GET / HTTP/1.1" 200\n'
    assert mlog.error_logger().propagate is False
    assert mlog.access_logger().propagate is False


def test_logging_defaults_to_stderr_and_no_access_log(clean_loggers, cwd, capsys):
    mlog = clean_loggers
    mlog.setup_logging(load(["app"], cwd=cwd))
    mlog.error_logger().info("booting")
    mlog.access_logger().info("never")
    mlog.access_logger().critical("never either")
    captured = capsys.readouterr()
    assert captured.err.endswith("[INFO] booting\n")
    assert "never" not in captured.out + captured.err
    assert mlog.access_logger().level > logging.CRITICAL


def test_access_log_to_stdout(clean_loggers, cwd, capsys):
    mlog = clean_loggers
    mlog.setup_logging(load(["--access-logfile", "-", "app"], cwd=cwd))
    mlog.access_logger().info("a line")
    assert capsys.readouterr().out == "a line\n"


def test_setup_logging_twice_replaces_its_handlers(clean_loggers, cwd):
    mlog = clean_loggers
    cfg = load(["--access-logfile", "-", "app"], cwd=cwd)
    mlog.setup_logging(cfg)
    mlog.setup_logging(cfg)
    assert len(mlog.error_logger().handlers) == 1
    assert len(mlog.access_logger().handlers) == 1


def test_unwritable_log_file_is_a_config_error(clean_loggers, cwd):
    mlog = clean_loggers
    cfg = load(["--error-logfile", str(cwd / "missing-dir" / "e.log"), "app"], cwd=cwd)
    with pytest.raises(ConfigError, match="invalid value for 'errorlog': cannot open"):
        mlog.setup_logging(cfg)


def test_wsgi_errors_writes_to_the_error_log_stream(clean_loggers, cwd, capsys):
    mlog = clean_loggers
    cfg = load(["app"], cwd=cwd)
    mlog.setup_logging(cfg)
    errors = mlog.WSGIErrors(cfg)
    errors.write("oops\n")
    errors.writelines(["a\n", "b\n"])
    errors.flush()
    assert capsys.readouterr().err == "oops\na\nb\n"


def test_wsgi_errors_follows_an_error_log_file(clean_loggers, cwd):
    mlog = clean_loggers
    err = cwd / "e.log"
    cfg = load(["--error-logfile", str(err), "app"], cwd=cwd)
    mlog.setup_logging(cfg)
    errors = mlog.WSGIErrors(cfg)
    errors.write("one\n")
    err.rename(cwd / "e.log.1")  # log rotation, then SIGUSR1
    mlog.reopen_files()
    errors.write("two\n")
    assert (cwd / "e.log.1").read_text() == "one\n"
    assert err.read_text() == "two\n"
