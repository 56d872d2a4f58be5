"""Typed surface of monoceros._core, the C++ core (see cpp/bindings/module.cpp and
cpp/bindings/config_bindings.cpp)."""

import enum
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

# -- typed settings (filled by monoceros.core_settings) --------------------------------------

class _Settings:
    """Stub only, no such class at run time: what every settings class has. Made empty, then
    filled attribute by attribute; copied by copy.copy."""

    def __init__(self) -> None: ...
    def __copy__(self: _T) -> _T: ...
    def __deepcopy__(self: _T, memo: Any) -> _T: ...

class UnderscoreHeaders(enum.Enum):
    """header_map: what to do with a field name containing '_'."""

    drop = ...
    refuse = ...
    dangerous = ...

class ProxyProtocolMode(enum.Enum):
    """proxy_protocol: which PROXY header versions are expected."""

    off = ...
    v1 = ...
    v2 = ...
    any = ...

class WorkerKind(enum.Enum):
    """worker_class, resolved: sync, event or gthread."""

    sync = ...
    event = ...
    gthread = ...

class ParserOptions(_Settings):
    """The HTTP parser's limits and leniencies."""

    limit_request_line: int
    limit_request_fields: int
    limit_request_field_size: int
    permit_obsolete_folding: bool
    strip_header_spaces: bool
    permit_unconventional_http_method: bool
    permit_unconventional_http_version: bool
    casefold_http_method: bool
    require_host: bool
    header_map: UnderscoreHeaders
    forwarder_headers: list[str]
    forwarder_headers_all: bool

class EnvironSettings(_Settings):
    """The per-worker constants of the WSGI environ."""

    multiprocess: bool
    multithread: bool
    server_software: str
    script_name: str
    secure_scheme_headers: list[tuple[str, str]]

class ResponseSettings(_Settings):
    """How every response of a worker is sent."""

    server: str
    sendfile: bool

class StatsdTarget(_Settings):
    """A StatsD server: UDP host and port, or a unix socket path."""

    host: str
    port: int
    unix_path: str

class ListenSpec(_Settings):
    """One bind address: TCP, unix socket or fd."""

    class Kind(enum.Enum):
        """What kind of address a ListenSpec is."""

        tcp = ...
        unix_path = ...
        fd = ...

    kind: Kind
    host: str
    port: int
    path: str
    owner_uid: int
    owner_gid: int
    fd: int

class WorkerConfig(_Settings):
    """What a worker acts on; made once per configuration by the master."""

    kind: WorkerKind
    parser: ParserOptions
    forwarded_allow_ips: list[str]
    proxy_protocol: ProxyProtocolMode
    proxy_allow_ips: list[str]
    threads: int
    keepalive: float
    max_requests: int
    worker_connections: int
    timeout: float
    limit_request_body: int
    tmp_upload_dir: str
    body_spool_limit: int
    workers: int
    environ: EnvironSettings
    response: ResponseSettings
    access_log_format: str
    statsd: StatsdTarget | None
    statsd_prefix: str
    dogstatsd_tags: str

class ArbiterConfig(_Settings):
    """What the master process acts on."""

    binds: list[ListenSpec]
    backlog: int
    workers: int
    timeout: float
    graceful_timeout: float
    umask: int
    worker_tmp_dir: str
    daemon: bool
    proc_name: str
    statsd: StatsdTarget | None
    statsd_prefix: str
    dogstatsd_tags: str
    backlog_metric: bool
    upgrade_parent: int
    inherited_fds: list[int]
    socket_activation: bool
    reuse_port: bool
    max_worker_memory: int
    worker_class_name: str
    version: str

# -- the processes ---------------------------------------------------------------------------

def set_error_logger(log: Callable[[int, str], Any] | None, threshold: int) -> None:
    """Route the core's error-log messages to log(level, message); None restores stderr."""

class Statsd:
    """A StatsD client: datagrams sent without blocking."""

    def __init__(self, target: StatsdTarget, prefix: str, tags: str) -> None: ...
    def increment(self, name: str, value: int) -> None: ...
    def gauge(self, name: str, value: int) -> None: ...
    def timer(self, name: str, milliseconds: float) -> None: ...
    def histogram(self, name: str, value: int) -> None: ...

class WorkerLaunch:
    """What a new worker process inherits from the arbiter."""

    @property
    def age(self) -> int: ...
    @property
    def ppid(self) -> int: ...
    def claim_load_error_report(self) -> bool: ...

class Arbiter:
    """The master process: binds, forks and supervises."""

    def __init__(
        self,
        config: ArbiterConfig,
        reopen_logs: Callable[[], Any] | None,
        events: Any,
    ) -> None:
        """``events`` (monoceros.hooks.MasterEvents, or None) receives the master's moments as
        method calls; its ``reload()`` returns the ArbiterConfig of a SIGHUP, or None."""
    def run(self) -> int | WorkerLaunch: ...
    @property
    def num_workers(self) -> int: ...
    @num_workers.setter
    def num_workers(self, count: int) -> None: ...
    @property
    def pid(self) -> int: ...
    @property
    def listeners(self) -> list[tuple[int, str]]:
        """(fd, url) of each bound socket."""

class Worker:
    """A worker process's event loop serving one WSGI app."""

    def __init__(
        self,
        launch: WorkerLaunch,
        app: Callable[..., Any],
        config: WorkerConfig,
        errors: Any,
        report_exception: Callable[[str, BaseException], Any] | None,
        access_log: Callable[[str], Any] | None,
        pre_request: Callable[[dict[str, Any]], Any] | None,
        post_request: Callable[..., Any] | None,
    ) -> None: ...
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def serve_requests(self) -> None: ...
    @property
    def threads(self) -> int: ...
    @property
    def wakeup_fd(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def alive(self) -> bool: ...

class InputStream:
    """wsgi.input: the request body, fully received before the app runs."""

    def read(self, size: int | None = -1, /) -> bytes: ...
    def readline(self, size: int | None = -1, /) -> bytes: ...
    def readlines(self, hint: int | None = -1, /) -> list[bytes]: ...
    def __iter__(self) -> InputStream: ...
    def __next__(self) -> bytes: ...

class FileWrapper:
    """wsgi.file_wrapper: sent with sendfile(2) when the file has a descriptor."""

    filelike: Any
    blksize: int
    def __init__(self, filelike: Any, blksize: int = 8192) -> None: ...
    def __iter__(self) -> FileWrapper: ...
    def __next__(self) -> bytes: ...
    def close(self) -> None: ...

class StartResponse:
    """The start_response callable handed to the app."""

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]: ...
