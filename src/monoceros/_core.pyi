"""Typed surface of monoceros._core, the C++ core (see cpp/bindings/module.cpp)."""

from collections.abc import Callable
from typing import Any

def set_error_logger(log: Callable[[int, str], Any] | None, threshold: int) -> None:
    """Route the core's error-log messages to log(level, message); None restores stderr."""

class WorkerLaunch:
    """What a new worker process inherits from the arbiter."""

    @property
    def age(self) -> int: ...
    @property
    def ppid(self) -> int: ...
    def claim_load_error_report(self) -> bool: ...

class Arbiter:
    """The master process: binds, forks and supervises."""

    def __init__(self, settings: dict[str, Any]) -> None: ...
    def run(self) -> int | WorkerLaunch: ...

class Worker:
    """A worker process's event loop serving one WSGI app."""

    def __init__(
        self,
        launch: WorkerLaunch,
        app: Callable[..., Any],
        settings: dict[str, Any],
        errors: Any,
        report_exception: Callable[[str, BaseException], Any] | None,
        access_log: Callable[[str], Any] | None,
    ) -> None: ...
    def run(self) -> None: ...
    def stop(self) -> None: ...
    @property
    def wakeup_fd(self) -> int: ...
    @property
    def requests(self) -> int: ...

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
