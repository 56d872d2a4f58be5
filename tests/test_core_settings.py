"""Unit tests for monoceros.core_settings, the hand-off from Config to the core's typed structs:
every bound field is filled, and gunicorn's adjustments are made on the way."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from monoceros import _core, core_settings
from monoceros.config import load_config

# Every class of the core that carries settings. A new one must be listed here (and filled).
CONFIG_CLASSES = (
    _core.ArbiterConfig,
    _core.WorkerConfig,
    _core.ParserOptions,
    _core.EnvironSettings,
    _core.ResponseSettings,
    _core.StatsdTarget,
    _core.ListenSpec,
)

# Classes with read/write attributes that are state, not settings.
NOT_SETTINGS = (_core.Arbiter,)  # num_workers: TTIN/TTOU and hooks change it

IDENTITY = {"server_software": "monoceros/test", "server_header": "monoceros", "script_name": ""}


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty start directory (so no ./gunicorn.conf.py is picked up by accident)."""
    return tmp_path


def load(argv, cwd, env=None):
    return load_config([*argv, "app"], dict(env or {}), str(cwd))


def configs(cfg, **start) -> core_settings.CoreConfigs:
    return core_settings.core_configs(cfg, version="1.2.3", **IDENTITY, **start)


def bound_fields(cls) -> set[str]:
    """The attributes Python can read and write on a bound class."""
    return {
        name
        for name, attribute in vars(cls).items()
        if isinstance(attribute, property) and attribute.fset is not None
    }


def test_every_class_with_bound_fields_is_listed():
    with_fields = {
        cls
        for cls in vars(_core).values()
        if isinstance(cls, type) and bound_fields(cls) and cls.__module__.startswith("monoceros")
    }
    assert with_fields - set(NOT_SETTINGS) == set(CONFIG_CLASSES)


def test_the_hand_off_fills_every_bound_field(cwd, monkeypatch):
    filled: dict[type, list[set[str]]] = {}
    make = core_settings._make

    def recording_make(cls, values):
        filled.setdefault(cls, []).append(set(values))
        return make(cls, values)

    monkeypatch.setattr(core_settings, "_make", recording_make)
    # Every kind of bind, and a statsd host, so that every part is made at least once.
    cfg = load(["-b", "127.0.0.1:0", "-b", "unix:/tmp/x.sock", "-b", "fd://5"], cwd)
    cfg.set("statsd_host", "localhost:9125")
    configs(cfg, upgrade_parent=7, inherited_fds=[3], socket_activation=True)
    cfg.set("statsd_host", "unix:///run/statsd")
    configs(cfg)

    for cls in CONFIG_CLASSES:
        assert cls in filled, f"{cls.__name__} is never made by the hand-off"
        for names in filled[cls]:
            unfilled, unknown = bound_fields(cls) - names, names - bound_fields(cls)
            assert not unfilled and not unknown, (cls.__name__, unfilled, unknown)


def test_a_field_left_out_is_noticed(cwd, monkeypatch):
    # The check above must be able to fail: drop one value from a mapping.
    make = core_settings._make
    filled: dict[type, set[str]] = {}

    def forgetful_make(cls, values):
        values = {k: v for k, v in values.items() if k != "keepalive"}
        filled[cls] = set(values)
        return make(cls, values)

    monkeypatch.setattr(core_settings, "_make", forgetful_make)
    configs(load([], cwd))
    assert filled[_core.WorkerConfig] != bound_fields(_core.WorkerConfig)


def test_defaults(cwd):
    arbiter, worker = configs(load([], cwd))
    [bind] = arbiter.binds
    assert (bind.kind, bind.host, bind.port, bind.path, bind.fd) == (
        _core.ListenSpec.Kind.tcp,
        "127.0.0.1",
        8000,
        "",
        -1,
    )
    assert (bind.owner_uid, bind.owner_gid) == (os.geteuid(), os.getegid())
    assert arbiter.backlog == 2048
    assert arbiter.workers == 1
    assert arbiter.timeout == 30 and arbiter.graceful_timeout == 30
    assert arbiter.umask == 0
    assert arbiter.worker_tmp_dir == ""
    assert arbiter.daemon is False
    assert arbiter.proc_name == "app"
    assert arbiter.statsd is None and arbiter.statsd_prefix == "" and arbiter.dogstatsd_tags == ""
    assert arbiter.backlog_metric is False and arbiter.reuse_port is False
    assert (arbiter.upgrade_parent, arbiter.inherited_fds, arbiter.socket_activation) == (
        0,
        [],
        False,
    )
    assert arbiter.max_worker_memory == 0
    assert arbiter.worker_class_name == "sync"
    assert arbiter.version == "1.2.3"

    assert worker.kind == _core.WorkerKind.sync
    assert worker.threads == 0
    assert worker.keepalive == 2
    assert worker.max_requests == 0
    assert worker.worker_connections == 1000
    assert worker.timeout == 30
    assert worker.limit_request_body == 0
    assert worker.tmp_upload_dir == ""
    assert worker.body_spool_limit == -1
    assert worker.workers == 1
    assert worker.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert worker.proxy_protocol == _core.ProxyProtocolMode.off
    assert worker.proxy_allow_ips == ["127.0.0.1", "::1"]
    assert worker.access_log_format == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
    assert worker.statsd is None
    parser = worker.parser
    assert parser.limit_request_line == 4094
    assert parser.limit_request_fields == 100
    assert parser.limit_request_field_size == 8190
    assert parser.require_host is True
    assert parser.header_map == _core.UnderscoreHeaders.drop
    assert parser.forwarder_headers == ["SCRIPT_NAME", "PATH_INFO"]
    assert parser.forwarder_headers_all is False
    assert not any(
        getattr(parser, name)
        for name in (
            "permit_obsolete_folding",
            "strip_header_spaces",
            "permit_unconventional_http_method",
            "permit_unconventional_http_version",
            "casefold_http_method",
        )
    )
    assert worker.environ.multiprocess is False and worker.environ.multithread is False
    assert worker.environ.server_software == "monoceros/test"
    assert worker.environ.secure_scheme_headers == [
        ("X-FORWARDED-PROTOCOL", "ssl"),
        ("X-FORWARDED-PROTO", "https"),
        ("X-FORWARDED-SSL", "on"),
    ]
    assert worker.response.server == "monoceros"
    assert worker.response.sendfile is True


@pytest.mark.parametrize(
    "argv, part, field, expected",
    [
        (["--limit-request-line", "0"], "parser", "limit_request_line", 0),
        (["--limit-request-line", "9000"], "parser", "limit_request_line", 8190),
        (["--limit-request-line", "8190"], "parser", "limit_request_line", 8190),
        (["--limit-request-fields", "0"], "parser", "limit_request_fields", 32768),
        (["--limit-request-fields", "40000"], "parser", "limit_request_fields", 32768),
        (["--limit-request-fields", "7"], "parser", "limit_request_fields", 7),
        (["--limit-request-field_size", "0"], "parser", "limit_request_field_size", 8190),
        (["--limit-request-field_size", "20000"], "parser", "limit_request_field_size", 20000),
        (["--permit-missing-host"], "parser", "require_host", False),
        (["--header-map", "DANGEROUS"], "parser", "header_map", _core.UnderscoreHeaders.dangerous),
        (["--header-map", "refuse"], "parser", "header_map", _core.UnderscoreHeaders.refuse),
        (["--forwarder-headers", "script_name,x_user"], "parser", "forwarder_headers",
         ["SCRIPT_NAME", "X_USER"]),
        (["--forwarder-headers", "*"], "parser", "forwarder_headers_all", True),
        (["--proxy-protocol", "auto"], "worker", "proxy_protocol", _core.ProxyProtocolMode.any),
        (["--proxy-protocol", "v2"], "worker", "proxy_protocol", _core.ProxyProtocolMode.v2),
        (["--max-requests", "50"], "worker", "max_requests", 50),
        (["--body-spool-limit", "3"], "worker", "body_spool_limit", 3 << 20),
        (["--body-spool-limit", "0"], "worker", "body_spool_limit", 0),
        (["--limit-request-body", "1000"], "worker", "limit_request_body", 1000),
        (["--keep-alive", "5"], "worker", "keepalive", 5),
        (["-w", "3"], "environ", "multiprocess", True),
        (["--no-sendfile"], "response", "sendfile", False),
        (["--statsd-prefix", "shop..."], "worker", "statsd_prefix", "shop."),
        (["--statsd-prefix", "a"], "arbiter", "statsd_prefix", "a."),
        (["--dogstatsd-tags", "env:prod"], "arbiter", "dogstatsd_tags", "env:prod"),
        (["--max-worker-memory", "256"], "arbiter", "max_worker_memory", 256 * 1024 * 1024),
        (["--enable-backlog-metric"], "arbiter", "backlog_metric", True),
        (["--reuse-port"], "arbiter", "reuse_port", True),
        (["--worker-tmp-dir", "/tmp"], "arbiter", "worker_tmp_dir", "/tmp"),
    ],
)  # fmt: skip
def test_gunicorns_adjustments(argv, part, field, expected, cwd):
    arbiter, worker = configs(load(argv, cwd))
    owner = {
        "arbiter": arbiter,
        "worker": worker,
        "parser": worker.parser,
        "environ": worker.environ,
        "response": worker.response,
    }[part]
    assert getattr(owner, field) == expected


@pytest.mark.parametrize(
    "argv, kind, threads",
    [
        ([], "sync", 0),
        (["-k", "sync"], "sync", 0),
        (["-k", "gunicorn.workers.sync.SyncWorker"], "sync", 0),
        (["-k", "egg:gunicorn#sync"], "sync", 0),
        (["--threads", "1"], "sync", 0),
        (["-k", "event"], "event", 0),
        (["-k", "monoceros.event"], "event", 0),
        (["-k", "gthread"], "gthread", 1),
        (["-k", "gthread", "--threads", "1"], "gthread", 1),
        (["-k", "gthread", "--threads", "4"], "gthread", 4),
        (["-k", "gunicorn.workers.gthread.ThreadWorker", "--threads", "2"], "gthread", 2),
        (["-k", "egg:gunicorn#gthread"], "gthread", 1),
        (["--threads", "3"], "gthread", 3),  # gunicorn: sync with threads > 1 is gthread
        (["-k", "gunicorn.workers.sync.SyncWorker", "--threads", "2"], "gthread", 2),
    ],
)
def test_worker_kind_from_the_worker_class(argv, kind, threads, cwd):
    arbiter, worker = configs(load(argv, cwd))
    assert worker.kind == _core.WorkerKind[kind]
    assert worker.threads == threads
    assert worker.environ.multithread is (kind == "gthread")


def test_the_worker_class_is_named_as_the_user_wrote_it(cwd):
    arbiter, _ = configs(load(["-k", "egg:gunicorn#gthread"], cwd))
    assert arbiter.worker_class_name == "egg:gunicorn#gthread"


def test_binds_of_each_kind(cwd):
    cfg = load(["-b", "[::1]:9000", "-b", "unix:/run/app.sock", "-b", "fd://5"], cwd)
    tcp, unix, fd = configs(cfg).arbiter.binds
    assert (tcp.kind, tcp.host, tcp.port) == (_core.ListenSpec.Kind.tcp, "::1", 9000)
    assert (unix.kind, unix.path, unix.port) == (
        _core.ListenSpec.Kind.unix_path,
        "/run/app.sock",
        0,
    )
    assert (fd.kind, fd.fd, fd.path) == (_core.ListenSpec.Kind.fd, 5, "")
    assert unix.owner_uid == os.geteuid() and unix.owner_gid == os.getegid()


def test_statsd_targets(cwd):
    udp = configs(load(["--statsd-host", "metrics:9125"], cwd)).worker.statsd
    assert (udp.host, udp.port, udp.unix_path) == ("metrics", 9125, "")
    unix = configs(load(["--statsd-host", "unix:///run/statsd"], cwd)).arbiter.statsd
    assert (unix.host, unix.unix_path) == ("", "/run/statsd")
    default_port = configs(load(["--statsd-host", "metrics"], cwd)).arbiter.statsd
    assert default_port.port == 8125  # the table's default port, not the struct's


def test_secure_scheme_header_names_are_upper_cased(cwd):
    (cwd / "gunicorn.conf.py").write_text(
        "secure_scheme_headers = {'x-forwarded-proto': 'https'}\n"
    )
    environ = configs(load([], cwd)).worker.environ
    assert environ.secure_scheme_headers == [("X-FORWARDED-PROTO", "https")]


def test_start_facts_reach_the_arbiter(cwd):
    arbiter = configs(
        load([], cwd), upgrade_parent=42, inherited_fds=[3, 4], socket_activation=True
    ).arbiter
    assert (arbiter.upgrade_parent, arbiter.inherited_fds, arbiter.socket_activation) == (
        42,
        [3, 4],
        True,
    )


def test_a_copy_of_the_worker_config_is_independent(cwd):
    # A worker takes the master's config and sets its own max_requests on a copy.
    worker = configs(load(["--max-requests", "10", "--statsd-host", "m:1"], cwd)).worker
    mine = copy.copy(worker)
    mine.max_requests = 13
    mine.parser.limit_request_line = 1
    assert worker.max_requests == 10
    assert worker.parser.limit_request_line == 4094
    assert mine.statsd.host == "m" and mine.environ.server_software == "monoceros/test"
