"""End-to-end harness: start a real server process (monoceros or gunicorn) and talk to it over
real sockets.

The server under test is chosen by the environment variable MONOCEROS_TEST_SERVER
(`monoceros` by default, `gunicorn` to run the same suite against gunicorn) and started as
`python -m <module> [args] -b 127.0.0.1:0 <app>` with cwd = tests/apps/.

Two halves:
- `Server`: process control (start, readiness, logs, worker pids, signals, stop/wait).
- raw-socket helpers (`RawConnection`, `raw_request`, `build_request`, `parse_response`) for
  byte-exact checks of what the server puts on the wire.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

TESTS_DIR = Path(__file__).resolve().parent
APPS_DIR = TESTS_DIR / "apps"

SERVER_MODULE = os.environ.get("MONOCEROS_TEST_SERVER", "monoceros").strip() or "monoceros"
RUNNING_GUNICORN = SERVER_MODULE == "gunicorn"

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

LISTENING_RE = re.compile(r"Listening at: (?P<url>\S+?)(?:,\S+)* \((?P<pid>\d+)\)")
BOOTING_RE = re.compile(r"Booting worker with pid: (?P<pid>\d+)")
# Lines the arbiter (or the worker itself) writes when a worker is gone.
EXITED_RES = (
    re.compile(r"Worker exiting \(pid: (?P<pid>\d+)\)"),
    re.compile(r"Worker \(pid:(?P<pid>\d+)\) was sent"),
    re.compile(r"Worker \(pid:(?P<pid>\d+)\) exited"),
)


def module_available(name: str) -> bool:
    """True when `python -m name` can be expected to work in this interpreter."""
    import importlib.util

    return importlib.util.find_spec(name) is not None


class ServerError(AssertionError):
    """The server did not start, did not stop, or did not log what was expected."""


def _workers_from_args(args: list[str]) -> int:
    """The worker count a command line asks for (`-w N`, `-wN`, `--workers N|=N`), default 1."""
    count = 1
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-w") and len(arg) > 2 and arg[2:].isdigit():
            value = arg[2:]
        if value is not None:
            with contextlib.suppress(ValueError):
                count = int(value)
    return count


def _has_bind(args: list[str]) -> bool:
    return any(a in ("-b", "--bind") or a.startswith("--bind=") for a in args) or any(
        a.startswith("-b") and len(a) > 2 for a in args
    )


class Server:
    """A server process under test.

    Server("hello:app", "-w", "2")          # args go before the app on the command line
    with Server("hello:app") as srv:        # starts, waits until ready, stops on exit
        requests.get(srv.url("/"))

    Keyword arguments:
      module        the module run with `python -m` (default SERVER_MODULE)
      env           extra environment variables for the server (None value = remove the key)
      bind          address to bind (default 127.0.0.1:0); None adds no -b (use your own args)
      cwd           working directory (default tests/apps)
      workers       workers to wait for at startup (default: from -w in args, else 1)
      tmp_dir       where stdout/stderr are captured (default: a fresh temp dir)
      ready_timeout seconds to wait for readiness
      pass_fds      fds the server process inherits (e.g. a socket for systemd activation)
    """

    def __init__(
        self,
        app: str,
        *args: str,
        module: str | None = None,
        env: dict[str, str | None] | None = None,
        bind: str | None = "127.0.0.1:0",
        cwd: str | os.PathLike | None = None,
        workers: int | None = None,
        tmp_dir: str | os.PathLike | None = None,
        ready_timeout: float = READY_TIMEOUT,
        pass_fds: tuple[int, ...] = (),
    ):
        self.app = app
        self.args = [str(a) for a in args]
        self.module = module or SERVER_MODULE
        self.extra_env = dict(env or {})
        self.bind = bind if not _has_bind(self.args) else None
        self.cwd = Path(cwd) if cwd is not None else APPS_DIR
        self.expected_workers = workers if workers is not None else _workers_from_args(self.args)
        self.ready_timeout = ready_timeout
        self.pass_fds = tuple(pass_fds)
        self._own_tmp = tmp_dir is None
        self.tmp_dir = Path(tmp_dir or tempfile.mkdtemp(prefix="monoceros-e2e-"))
        self.stdout_path = self.tmp_dir / "stdout.log"
        self.stderr_path = self.tmp_dir / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.host: str | None = None
        self.port: int | None = None
        self._master_pid: int | None = None
        self.returncode: int | None = None

    # ---------------------------------------------------------------- process control

    @property
    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", self.module, *self.args]
        if self.bind is not None:
            cmd += ["-b", self.bind]
        # An empty app leaves APP_MODULE off the command line (wsgi_app from a config file).
        return [*cmd, self.app] if self.app else cmd

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Settings that gunicorn (and so monoceros) reads from the environment must not leak in
        # from the developer's shell.
        for key in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "PORT", "SCRIPT_NAME", "SENDFILE"):
            env.pop(key, None)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self.cwd), env.get("PYTHONPATH", "")) if p
        )
        # gunicorn >= 25.1 creates a control socket under $XDG_RUNTIME_DIR (else ~/.gunicorn):
        # give each server its own so that concurrent servers never fight over one path.
        env["XDG_RUNTIME_DIR"] = str(self.tmp_dir)
        for key, value in self.extra_env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def start(self, wait: bool = True) -> Server:
        """Start the process; with wait=True block until ready (see `wait_until_ready`)."""
        if self.proc is not None:
            raise ServerError("server already started")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                pass_fds=self.pass_fds,
            )
        if wait:
            try:
                self.wait_until_ready()
            except BaseException:
                self.kill()
                raise
        return self

    def wait_until_ready(self, timeout: float | None = None) -> None:
        """Ready = `Listening at: URL (PID)` logged, a TCP connect succeeds and, when workers
        are expected, that many `Booting worker with pid:` lines were logged."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        match = self.wait_for_log(LISTENING_RE, timeout=max(0.0, deadline - time.monotonic()))
        url = match.group("url")
        m = re.match(r"http://(?P<host>\[[^\]]+\]|[^:/]+):(?P<port>\d+)", url)
        if not m:
            raise ServerError(f"cannot parse listening URL {url!r}\n{self.describe()}")
        self.host = m.group("host").strip("[]")
        self.port = int(m.group("port"))
        self._master_pid = int(match.group("pid"))
        self._wait_connectable(deadline)
        if self.expected_workers >= 1:
            self.wait_for_log(
                BOOTING_RE,
                timeout=max(0.0, deadline - time.monotonic()),
                count=self.expected_workers,
            )

    def _wait_connectable(self, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive("while waiting for the first TCP connect")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0):
                    return
            except OSError as exc:
                last_error = exc
                time.sleep(0.05)
        raise ServerError(
            f"could not connect to {self.host}:{self.port}: {last_error}\n{self.describe()}"
        )

    def _check_alive(self, doing: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            raise ServerError(
                f"server exited with code {self.proc.returncode} {doing}\n{self.describe()}"
            )

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        """The pid of the process we started (the master)."""
        assert self.proc is not None, "server not started"
        return self.proc.pid

    @property
    def master_pid(self) -> int:
        """The master pid as logged in `Listening at: ... (PID)` (falls back to our child)."""
        return self._master_pid if self._master_pid is not None else self.pid

    def signal(self, sig: int) -> None:
        """Send `sig` to the master."""
        os.kill(self.master_pid, sig)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the master to exit and return its exit code (negative = killed by signal).
        Raises ServerError (with the log) on timeout."""
        assert self.proc is not None, "server not started"
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ServerError(
                f"server still running after {timeout:g}s\n{self.describe()}"
            ) from None
        return self.returncode

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM the master, wait up to `timeout`, then SIGKILL the process group.
        Returns the exit code (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.returncode = self.proc.returncode
        self._kill_group()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers) and reap the master."""
        if self.proc is None:
            return
        self._kill_group()
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.returncode = self.proc.wait(timeout=5)

    def _kill_group(self) -> None:
        # The server runs in its own session (start_new_session=True), so its pgid is its pid.
        # Leftover workers of a dead master stay in that group.
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def cleanup(self) -> None:
        """Kill anything left and remove the temp dir we created."""
        self.kill()
        if self._own_tmp:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.stop()
        finally:
            self._kill_group()

    # ------------------------------------------------------------------------ logs

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stdout_text(self) -> str:
        try:
            return self.stdout_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        """Everything the server wrote: stderr (the error log) followed by stdout."""
        return self.stderr_text() + self.stdout_text()

    def log_mark(self) -> tuple[int, int]:
        """A position in the log (stderr and stdout lengths now); pass it as `since=` to
        wait_for_log() / log_since() to only look at what was written afterwards."""
        return len(self.stderr_text()), len(self.stdout_text())

    def log_since(self, mark: tuple[int, int] | None) -> str:
        """What the server wrote after `mark` (everything if mark is None)."""
        if mark is None:
            return self.log_text()
        err, out = mark
        return self.stderr_text()[err:] + self.stdout_text()[out:]

    def wait_for_log(
        self,
        pattern: str | re.Pattern,
        timeout: float = 10.0,
        *,
        count: int = 1,
        since: tuple[int, int] | None = None,
    ) -> re.Match:
        """Poll the log until `pattern` matched `count` times (after `since`, a log_mark());
        return the last match. Raises ServerError with the log on timeout or if the server
        exits first."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            matches = list(regex.finditer(self.log_since(since)))
            if len(matches) >= count:
                return matches[count - 1]
            exited = self.proc is not None and self.proc.poll() is not None
            if exited or time.monotonic() >= deadline:
                if exited:
                    # Give the last flushed bytes a chance before failing.
                    matches = list(regex.finditer(self.log_since(since)))
                    if len(matches) >= count:
                        return matches[count - 1]
                why = f"server exited ({self.proc.returncode})" if exited else "timeout"
                raise ServerError(
                    f"{why}: expected {count} match(es) of {regex.pattern!r} within "
                    f"{timeout:g}s, got {len(matches)}\n{self.describe()}"
                )
            time.sleep(0.05)

    def booted_worker_pids(self) -> list[int]:
        """Every pid ever logged as `Booting worker with pid: N`, in boot order."""
        return [int(m.group("pid")) for m in BOOTING_RE.finditer(self.log_text())]

    def exited_worker_pids(self) -> set[int]:
        text = self.log_text()
        return {int(m.group("pid")) for regex in EXITED_RES for m in regex.finditer(text)}

    def worker_pids(self) -> list[int]:
        """Workers booted and not (yet) logged as exited, in boot order."""
        exited = self.exited_worker_pids()
        return [pid for pid in self.booted_worker_pids() if pid not in exited]

    def describe(self) -> str:
        """Command, exit status and captured log, for failure messages."""
        status = "not started"
        if self.proc is not None:
            rc = self.proc.poll()
            status = "running" if rc is None else f"exited with {rc}"
        log = self.log_text()
        if len(log) > 20000:
            log = "[... log truncated ...]\n" + log[-20000:]
        return (
            f"--- server: {' '.join(self.command)} (cwd={self.cwd}) [{status}]\n"
            f"--- captured log ({self.tmp_dir}):\n{log}--- end of log"
        )

    # ---------------------------------------------------------------------- addresses

    @property
    def address(self) -> tuple[str, int]:
        assert self.host is not None and self.port is not None, "server not ready"
        return self.host, self.port

    def url(self, path: str = "/") -> str:
        host, port = self.address
        if ":" in host:
            host = f"[{host}]"
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host}:{port}{path}"


class Load:
    """A client sending requests back to back until stopped, counting failures.

    with Load(srv.url("/")) as load:
        load.wait_for_more()      # traffic is flowing
        ...                        # signals, reloads, recycling
    assert load.failures == []
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = requests.get(self.url, timeout=10)
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(str(response.status_code))
            except requests.RequestException as error:
                self.failures.append(repr(error))

    def wait_for_more(self, count: int = 5) -> None:
        target = self.ok + count
        wait_until(lambda: self.ok >= target, 15, message=f"{count} more answered requests")


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate()` until it returns a truthy value (returned) or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists (zombies count as gone when we can tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Gone between the two checks (reading a vanishing /proc entry fails with ESRCH);
        # without /proc at all, kill() said it exists.
        return not os.path.isdir("/proc/self")
    except IndexError:
        return True


# ============================================================== raw-socket helpers

CRLF = b"\r\n"


def post_after_100_continue(
    address: tuple[str, int], body: bytes, *headers: tuple[str, str]
) -> RawResponse:
    """POST `body` to /echo the way a client that sends `Expect: 100-continue` does: the head,
    then the body only once the interim 100 arrived (asserted). Returns the final response."""
    head = build_request(
        "POST",
        "/echo",
        [("Expect", "100-continue"), ("Content-Length", str(len(body))), *headers],
    )
    with RawConnection(address) as conn:
        conn.send(head)
        interim = conn.read_until(b"\r\n\r\n", timeout=10)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        conn.send(body)
        return conn.read_response(method="POST")


def get_request(path: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    """A GET for `path` with `Host: a` and the given "Name: value" header lines."""
    lines = [f"GET {path} {version}", "Host: a", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_responses(data: bytes, count: int, method: str = "GET") -> list[RawResponse]:
    """`count` responses read one after the other from `data` (pipelined answers)."""
    out = []
    for _ in range(count):
        resp = parse_response(data, method=method, closed=False)
        out.append(resp)
        data = resp.extra
    return out


def build_request(
    method: str = "GET",
    target: str = "/",
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    host: str | None = "127.0.0.1",
    content_length: bool | None = None,
) -> bytes:
    """Serialise a request. Adds `Host` (unless host=None or given in headers) and a
    Content-Length when there is a body (content_length=None) or when content_length=True."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {name.lower() for name, _ in pairs}
    if host is not None and "host" not in names:
        pairs.insert(0, ("Host", host))
    wants_length = content_length or (content_length is None and body)
    if wants_length and "content-length" not in names and "transfer-encoding" not in names:
        pairs.append(("Content-Length", str(len(body))))
    head = f"{method} {target} {version}\r\n".encode("latin-1")
    head += b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in pairs)
    return head + CRLF + body


def chunked_body(pieces: list[bytes], trailers: list[tuple[str, str]] | None = None) -> bytes:
    """Encode `pieces` with chunked transfer coding (empty pieces are skipped)."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    out += b"0\r\n"
    out += b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in (trailers or []))
    return out + CRLF


@dataclass
class RawResponse:
    """One parsed HTTP response. `body` is the decoded payload (dechunked)."""

    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    framing: str = "none"  # "content-length" | "chunked" | "close" | "none"
    complete: bool = True  # False when the connection ended before the framing said so
    trailers: list[tuple[str, str]] = field(default_factory=list)
    head_bytes: bytes = b""  # status line + headers, exactly as received
    interim: list[RawResponse] = field(default_factory=list)  # 1xx responses before this one
    extra: bytes = b""  # bytes received after the end of this response
    raw: bytes = b""  # everything received on the connection

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (case-insensitive)."""
        lname = name.lower()
        for n, v in self.headers:
            if n.lower() == lname:
                return v
        return default

    def header_list(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def has_header(self, name: str) -> bool:
        return bool(self.header_list(name))

    @property
    def header_names(self) -> list[str]:
        return [n.lower() for n, _ in self.headers]


class IncompleteResponse(AssertionError):
    """The bytes do not even contain a full status line and header block."""


def _parse_head(data: bytes) -> tuple[str, int, str, list[tuple[str, str]], int]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise IncompleteResponse(f"no complete response head in {data[:500]!r}")
    head = data[:end].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise IncompleteResponse(f"bad status line {lines[0]!r}")
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise IncompleteResponse(f"bad header line {line!r}")
        headers.append((name, value.strip(" \t")))
    return version, status, reason, headers, end + 4


def _dechunk(data: bytes) -> tuple[bytes, bool, list[tuple[str, str]], int]:
    """Decode chunked data. Returns (payload, complete, trailers, bytes consumed)."""
    pos = 0
    out = bytearray()
    while True:
        eol = data.find(CRLF, pos)
        if eol < 0:
            return bytes(out), False, [], len(data)
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(out), False, [], len(data)
        pos = eol + 2
        if size == 0:
            trailers = []
            while True:
                eol = data.find(CRLF, pos)
                if eol < 0:
                    return bytes(out), False, trailers, len(data)
                line = data[pos:eol]
                pos = eol + 2
                if not line:
                    return bytes(out), True, trailers, pos
                name, _, value = line.decode("latin-1").partition(":")
                trailers.append((name, value.strip()))
        chunk = data[pos : pos + size]
        out += chunk
        if len(chunk) < size or data[pos + size : pos + size + 2] != CRLF:
            return bytes(out), False, [], len(data)
        pos += size + 2


def parse_response(data: bytes, method: str = "GET", *, closed: bool = True) -> RawResponse:
    """Parse the bytes of one response (after any 1xx interim responses).

    `method` matters for HEAD (no body whatever the headers say). `closed` says the server
    closed the connection after `data`, which is what ends a close-delimited body."""
    interim: list[RawResponse] = []
    pos = 0
    while True:
        version, status, reason, headers, head_len = _parse_head(data[pos:])
        head_bytes = data[pos : pos + head_len]
        pos += head_len
        if 100 <= status < 200 and status != 101:
            interim.append(RawResponse(version, status, reason, headers, head_bytes=head_bytes))
            continue
        break
    resp = RawResponse(version, status, reason, headers, head_bytes=head_bytes, interim=interim)
    rest = data[pos:]
    te = ",".join(resp.header_list("Transfer-Encoding")).lower()
    cl = resp.header("Content-Length")
    if method.upper() == "HEAD" or status in (204, 304) or status < 200:
        resp.framing = "none"
        resp.extra = rest
    elif "chunked" in te:
        resp.framing = "chunked"
        resp.body, resp.complete, resp.trailers, used = _dechunk(rest)
        resp.extra = rest[used:] if resp.complete else b""
    elif cl is not None:
        resp.framing = "content-length"
        length = int(cl)
        resp.body = rest[:length]
        resp.complete = len(resp.body) == length
        resp.extra = rest[length:]
    else:
        resp.framing = "close"
        resp.body = rest
        resp.complete = closed
    resp.raw = data
    return resp


class RawConnection:
    """A plain TCP connection to the server for byte-exact exchanges.

    with RawConnection(srv.address) as conn:
        conn.send(build_request("GET", "/"))
        resp = conn.read_response()            # reads until the server closes
    """

    def __init__(self, address: tuple[str, int], timeout: float = 10.0):
        self.timeout = timeout
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed_by_peer = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        """Half-close our side (the server sees EOF on the request stream)."""
        self.sock.shutdown(socket.SHUT_WR)

    def _recv_some(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed_by_peer = True
        self.buffer += data
        return data

    def read_until(self, marker: bytes, timeout: float | None = None) -> bytes:
        """Read until `marker` is in the buffer; returns the buffer (not consumed)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while marker not in self.buffer:
            try:
                if not self._recv_some(deadline):
                    raise AssertionError(
                        f"connection closed before {marker!r}; got {self.buffer[:2000]!r}"
                    )
            except TimeoutError:
                raise AssertionError(
                    f"timed out waiting for {marker!r}; got {self.buffer[:2000]!r}"
                ) from None
        return self.buffer

    def read_until_close(self, timeout: float | None = None) -> bytes:
        """Read until the server closes the connection; returns everything received so far.
        Raises AssertionError if the server keeps the connection open past `timeout`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.closed_by_peer:
            try:
                self._recv_some(deadline)
            except TimeoutError:
                raise AssertionError(
                    f"server did not close the connection within the timeout; "
                    f"got {self.buffer[:2000]!r}"
                ) from None
        return self.buffer

    def read_response(self, method: str = "GET", timeout: float | None = None) -> RawResponse:
        """Read until the server closes, then parse the buffered response."""
        return parse_response(self.read_until_close(timeout), method=method, closed=True)

    def read_next_response(self, method: str = "GET", timeout: float | None = None) -> RawResponse:
        """Read exactly one response from a kept-alive connection (without waiting for a close)
        and consume it from the buffer; what follows stays buffered for the next call."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                resp = parse_response(self.buffer, method=method, closed=self.closed_by_peer)
                if not resp.complete and not self.closed_by_peer:
                    raise IncompleteResponse("the body is still arriving")
            except IncompleteResponse:
                if self.closed_by_peer:
                    raise AssertionError(f"closed mid-response: {self.buffer[:2000]!r}") from None
                try:
                    self._recv_some(deadline)
                except TimeoutError:
                    raise AssertionError(
                        f"timed out waiting for a response; got {self.buffer[:2000]!r}"
                    ) from None
                continue
            self.buffer = resp.extra
            return resp

    def server_closed(self, timeout: float = 2.0) -> bool:
        """True if the server closes the connection (EOF/RST) within `timeout`, with no more
        data than what is already buffered being required."""
        deadline = time.monotonic() + timeout
        while not self.closed_by_peer:
            try:
                self._recv_some(deadline)
            except TimeoutError:
                return False
            except OSError:
                return True
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def raw_request(
    address: tuple[str, int], data: bytes, *, method: str | None = None, timeout: float = 10.0
) -> RawResponse:
    """Send `data`, read until the server closes, parse. `method` defaults to the first word
    of `data` (it decides whether a body is expected, e.g. HEAD)."""
    if method is None:
        method = data.split(b" ", 1)[0].decode("latin-1")
    with RawConnection(address, timeout=timeout) as conn:
        conn.send(data)
        return conn.read_response(method=method, timeout=timeout)


# ============================================================== differential helpers

# Headers that legitimately differ between two servers answering the same request.
VOLATILE_HEADERS = frozenset({"date", "server"})
# How the body is framed is the server's choice when the app gives no Content-Length (PEP 3333
# lets a server count a single-item iterable, for instance). When either side chose chunked
# framing these two are left out of the comparison; the body itself is still compared, and
# test_protocol.py pins the framing rules down separately.
FRAMING_HEADERS = frozenset({"transfer-encoding", "content-length"})


def request_bytes_from(
    method: str, path: str, *, host: str = "differential.test", **kwargs
) -> bytes:
    """Serialise a request the way `requests` would build it (files=, data=, json=, headers=
    work), with a fixed Host so that two servers on different ports get identical bytes."""
    import requests

    prepared = requests.Request(method, f"http://{host}{path}", **kwargs).prepare()
    headers = [("Host", host)]
    headers += [(n, v) for n, v in prepared.headers.items() if n.lower() != "host"]
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body and not any(n.lower() == "content-length" for n, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    return build_request(method, prepared.path_url, headers, body, host=None)


def comparable(resp: RawResponse, *, drop_framing: bool = False) -> dict:
    """The parts of a response two compatible servers must agree on."""
    ignored = VOLATILE_HEADERS | (FRAMING_HEADERS if drop_framing else frozenset())
    headers = sorted((n.lower(), v) for n, v in resp.headers if n.lower() not in ignored)
    return {
        "version": resp.version,
        "status": resp.status,
        "reason": resp.reason,
        "headers": headers,
        "body": resp.body,
        "complete": resp.complete,
    }


def assert_same_response(ours: RawResponse, reference: RawResponse) -> None:
    """Assert two responses to identical requests are equivalent (see FRAMING_HEADERS)."""
    drop = "chunked" in (ours.framing, reference.framing)
    a = comparable(ours, drop_framing=drop)
    b = comparable(reference, drop_framing=drop)
    assert a == b, f"\nours:      {ours.head_bytes!r}\nreference: {reference.head_bytes!r}"
