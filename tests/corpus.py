"""Helpers to replay the shared HTTP request corpus against a real server process, over raw TCP."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_to_bytes

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
APPS_DIR = TESTS_DIR / "apps"
# The corpus lives beside the repository, not inside it (it carries gunicorn's MIT licence).
CORPUS_DIR = REPO_DIR.parent / "shared" / "http-corpus"

ECHO_APP = "echo_app:app"
# Must match the marker header tests/apps/echo_app.py puts on every answer of the app.
ECHO_MARKER_HEADER = "x-echo-app"
ECHO_MARKER_VALUE = "corpus-echo"

START_TIMEOUT = 20.0  # process start + first answered request, on a loaded 2-core machine
STOP_TIMEOUT = 5.0
IO_TIMEOUT = 4.0  # one exchange: send everything, read the answer, see the close

_LISTENING_RE = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+) \((\d+)\)")

# Environment variables that would silently change how gunicorn (and so monoceros) is configured.
_HOSTILE_ENV = (
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "PORT",
    "SCRIPT_NAME",  # gunicorn moves it from the environment into every request's environ
)


# --------------------------------------------------------------------------------------------
# Corpus


@dataclass(frozen=True)
class Case:
    kind: str  # "valid" or "invalid"
    name: str
    raw: bytes
    spec: dict

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def config(self) -> dict:
        return self.spec.get("config") or {}

    @property
    def requests(self) -> list[dict]:
        return self.spec.get("requests", [])

    @property
    def status(self) -> int | None:
        return self.spec.get("status")

    @property
    def error(self) -> str | None:
        return self.spec.get("error")


def corpus_available(root: Path = CORPUS_DIR) -> bool:
    return (root / "valid").is_dir() and (root / "invalid").is_dir()


def load_cases(root: Path = CORPUS_DIR) -> list[Case]:
    cases = []
    for kind in ("valid", "invalid"):
        for spec_path in sorted((root / kind).glob("*.json")):
            raw = spec_path.with_suffix(".http").read_bytes()
            spec = json.loads(spec_path.read_text(encoding="utf-8"))
            cases.append(Case(kind, spec_path.stem, raw, spec))
    return cases


def lacks_host_on_http11(case: Case) -> bool:
    """True when the case sends an HTTP/1.1 request without a Host field (RFC 9112 §3.2)."""
    if case.kind == "valid":
        return any(
            req["version"] == "1.1" and not any(name == "HOST" for name, _ in req["headers"])
            for req in case.requests
        )
    # Invalid bytes cannot be parsed reliably; look at the head of the first message only.
    head = case.raw.split(b"\r\n\r\n", 1)[0]
    first_line, _, fields = head.partition(b"\r\n")
    return first_line.endswith(b" HTTP/1.1") and not re.search(
        rb"(?im)^host:", fields.replace(b"\r\n", b"\n")
    )


def ends_mid_body(case: Case) -> bool:
    """True when a valid case's last request declares more body bytes than the case sends.

    Such a request only ends when the client half-closes; the expectation is the truncated body.
    """
    if not case.requests:
        return False
    last = case.requests[-1]
    sent = len(base64.b64decode(last["body_b64"]))
    lengths = [v for n, v in last["headers"] if n == "CONTENT-LENGTH" and v.strip().isdigit()]
    return any(int(v) > sent for v in lengths)


def environ_headers(headers: list[list[str]]) -> dict[str, str]:
    """Map corpus header pairs to environ keys per the corpus README (repeats joined by ',')."""
    out: dict[str, str] = {}
    for name, value in headers:
        if name in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            key = name.replace("-", "_")
        else:
            key = "HTTP_" + name.replace("-", "_")
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def expected_echo(request: dict) -> dict:
    """The subset of the echo app's answer that a request expectation pins down."""
    path = unquote_to_bytes(request["path"].encode("latin-1")).decode("latin-1")
    return {
        "REQUEST_METHOD": request["method"],
        "RAW_URI": request["target"],
        "PATH_INFO": path,
        "QUERY_STRING": request["query"],
        "SERVER_PROTOCOL": "HTTP/" + request["version"],
        "headers": environ_headers(request["headers"]),
        "body": base64.b64decode(request["body_b64"]),
    }


def observed_echo(echo: dict) -> dict:
    """Project the echo app's JSON onto the shape of expected_echo()."""
    headers = {
        key: value
        for key, value in echo.items()
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    }
    # PEP 3333: CONTENT_TYPE / CONTENT_LENGTH "may be empty or absent" without the header.
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if headers.get(key) == "":
            del headers[key]
    return {
        "REQUEST_METHOD": echo.get("REQUEST_METHOD"),
        "RAW_URI": echo.get("RAW_URI"),
        "PATH_INFO": echo.get("PATH_INFO"),
        "QUERY_STRING": echo.get("QUERY_STRING"),
        "SERVER_PROTOCOL": echo.get("SERVER_PROTOCOL"),
        "headers": headers,
        "body": base64.b64decode(echo.get("body_b64", "")),
    }


# --------------------------------------------------------------------------------------------
# Settings -> command line

_VALUE_FLAGS = {
    "limit_request_line": "--limit-request-line",
    "limit_request_fields": "--limit-request-fields",
    "limit_request_field_size": "--limit-request-field_size",  # sic: gunicorn's spelling
    "forwarded_allow_ips": "--forwarded-allow-ips",
    "proxy_allow_ips": "--proxy-allow-from",
    "header_map": "--header-map",
    "forwarder_headers": "--forwarder-headers",
}
_BOOL_FLAGS = {
    "permit_obsolete_folding": "--permit-obsolete-folding",
    "strip_header_spaces": "--strip-header-spaces",
    "permit_unconventional_http_method": "--permit-unconventional-http-method",
    "casefold_http_method": "--casefold-http-method",
}
# Settings gunicorn exposes only through a config file.
_CONFIG_FILE_ONLY = ("secure_scheme_headers",)


def config_flags(config: dict) -> tuple[list[str], dict]:
    """Split a corpus config into CLI flags and the settings that need a gunicorn.conf.py."""
    flags: list[str] = []
    file_settings: dict = {}
    for key in sorted(config):
        value = config[key]
        if key in _CONFIG_FILE_ONLY:
            file_settings[key] = value
        elif key in _BOOL_FLAGS:
            if not isinstance(value, bool):
                raise ValueError(f"corpus setting {key}={value!r}: expected a boolean")
            if value:
                flags.append(_BOOL_FLAGS[key])
        elif key == "proxy_protocol":
            # gunicorn's --proxy-protocol takes an optional MODE; a bare flag placed right before
            # the positional APP_MODULE would swallow it, so always spell the mode out. The value
            # is what gunicorn's validator makes of the config value (True -> "auto").
            mode = {True: "auto", False: "off"}.get(value, value)
            if mode != "off":
                flags += ["--proxy-protocol", str(mode)]
        elif key in _VALUE_FLAGS:
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            flags += [_VALUE_FLAGS[key], str(value)]
        else:
            raise ValueError(f"corpus setting {key!r} has no command-line mapping in corpus.py")
    return flags, file_settings


def write_config_file(directory: Path, settings: dict) -> Path:
    path = directory / "gunicorn.conf.py"
    lines = ["# Written by tests/corpus.py for one corpus configuration."]
    lines += [f"{key} = {value!r}" for key, value in sorted(settings.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Server process


class ServerRefused(Exception):
    """The server declined a setting it does not implement yet ("... not supported")."""


@dataclass
class ServerProcess:
    name: str
    argv: list[str]
    proc: subprocess.Popen
    workdir: Path
    port: int = 0

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "stderr.log"

    def log_tail(self, limit: int = 3000) -> str:
        try:
            text = self.stderr_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-limit:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM the server's process group, then SIGKILL it if it lingers."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                pass
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)


def _signal_group(pgid: int, sig: int) -> None:
    # The server was started with start_new_session=True, so its pid is its process group id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def start_server(name: str, flags: list[str], workdir: Path) -> ServerProcess:
    """Start `python -m NAME` on an ephemeral port serving the echo app; wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", name, "-b", "127.0.0.1:0", *flags, ECHO_APP]
    env = {k: v for k, v in os.environ.items() if k not in _HOSTILE_ENV}
    # gunicorn >= 25 creates a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl (else under ~):
    # give every server its own directory so parallel servers never share or clobber one.
    env["XDG_RUNTIME_DIR"] = str(workdir)
    with (
        open(workdir / "stdout.log", "wb") as out,
        open(workdir / "stderr.log", "wb") as err,
    ):
        proc = subprocess.Popen(
            argv,
            cwd=APPS_DIR,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,
        )
    server = ServerProcess(name, argv, proc, workdir)
    try:
        server.port = _wait_listening(server, time.monotonic() + START_TIMEOUT)
        _wait_answering(server, time.monotonic() + START_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    return server


def _raise_if_refused(server: ServerProcess) -> None:
    text = server.stderr_path.read_bytes().decode("utf-8", "replace")
    refusal = [line for line in text.splitlines() if "not supported" in line]
    if refusal:
        raise ServerRefused(refusal[0].strip())


def _wait_listening(server: ServerProcess, deadline: float) -> int:
    while True:
        data = server.stderr_path.read_bytes()
        match = _LISTENING_RE.search(data)
        if match:
            return int(match.group(1))
        if not server.alive():
            _raise_if_refused(server)
            text = server.log_tail()
            raise RuntimeError(
                f"{' '.join(server.argv)} exited with {server.proc.returncode} before "
                f"listening; stderr:\n{text}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{' '.join(server.argv)} did not log 'Listening at' within {START_TIMEOUT}s; "
                f"stderr:\n{server.log_tail()}"
            )
        time.sleep(0.02)


def _wait_answering(server: ServerProcess, deadline: float) -> None:
    # The arbiter logs "Listening at" before its worker has imported the app: probe with a
    # request every configuration accepts (HTTP/1.0, so no Host is needed) until the app answers.
    last = "no attempt"
    while time.monotonic() < deadline:
        if not server.alive():
            break
        try:
            result = exchange(server.port, [b"GET /__ready__ HTTP/1.0\r\n\r\n"], timeout=2.0)
        except OSError as exc:
            last = repr(exc)
        else:
            if result.response is not None and result.response.echo() is not None:
                return
            last = repr(result.received[:200])
        time.sleep(0.05)
    _raise_if_refused(server)
    raise RuntimeError(
        f"{' '.join(server.argv)} never answered the readiness probe ({last}); "
        f"stderr:\n{server.log_tail()}"
    )


class ServerPool:
    """Starts one server per distinct flag set on demand, keeping the few most recent alive."""

    def __init__(self, name: str, workdir: Path, keep: int = 2) -> None:
        self.name = name
        self.workdir = workdir
        self.keep = keep
        self._live: OrderedDict[tuple, ServerProcess] = OrderedDict()
        self._failed: dict[tuple, BaseException] = {}
        self._count = 0

    def get(self, config: dict, extra_flags: tuple[str, ...] = ()) -> ServerProcess:
        flags, file_settings = config_flags(config)
        flags += extra_flags
        key = (tuple(flags), json.dumps(file_settings, sort_keys=True))
        if key in self._failed:
            raise self._failed[key]
        server = self._live.get(key)
        if server is not None and server.alive():
            self._live.move_to_end(key)
            return server
        if server is not None:
            del self._live[key]
        while len(self._live) >= self.keep:
            _, oldest = self._live.popitem(last=False)
            oldest.stop()
        self._count += 1
        workdir = self.workdir / f"server-{self._count:02d}"
        workdir.mkdir(parents=True)
        if file_settings:
            flags = ["-c", str(write_config_file(workdir, file_settings)), *flags]
        try:
            server = start_server(self.name, flags, workdir)
        except (ServerRefused, RuntimeError) as exc:
            self._failed[key] = exc
            raise
        self._live[key] = server
        return server

    def close(self) -> None:
        while self._live:
            _, server = self._live.popitem()
            server.stop()


# --------------------------------------------------------------------------------------------
# Delivery modes


BYTEWISE_MAX = 4608  # byte-at-a-time only up to 4.5 KiB (this includes invalid/006)
_BYTEWISE_BUDGET = 0.2  # seconds of sleeping per byte-at-a-time replay
_PIECE_GAP = 0.002  # pause between pieces so they reach the server as separate reads
RANDOM_SPLITS = 3


def delivery_modes(raw: bytes) -> list[str]:
    modes = ["whole"]
    if len(raw) <= BYTEWISE_MAX:
        modes.append("bytewise")
    modes.append("crlf")
    modes += [f"random{i}" for i in range(RANDOM_SPLITS)]
    return modes


def split_for_mode(case_id: str, raw: bytes, mode: str) -> tuple[list[bytes], float]:
    """The pieces to send for a delivery mode, and the pause between them."""
    if mode == "whole":
        return [raw], 0.0
    if mode == "bytewise":
        return [raw[i : i + 1] for i in range(len(raw))], min(0.001, _BYTEWISE_BUDGET / len(raw))
    if mode == "crlf":
        pieces, start = [], 0
        while (end := raw.find(b"\r\n", start)) != -1:
            pieces.append(raw[start : end + 2])
            start = end + 2
        if start < len(raw):
            pieces.append(raw[start:])
        return pieces, _PIECE_GAP
    if mode.startswith("random"):
        if len(raw) < 2:
            return [raw], 0.0
        rng = random.Random(f"{case_id}:{mode}")  # str seeds are stable across runs
        cuts = sorted(rng.sample(range(1, len(raw)), rng.randint(1, min(8, len(raw) - 1))))
        bounds = [0, *cuts, len(raw)]
        return [raw[a:b] for a, b in zip(bounds, bounds[1:], strict=False)], _PIECE_GAP
    raise ValueError(f"unknown delivery mode {mode!r}")


# --------------------------------------------------------------------------------------------
# Raw HTTP client


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    complete: bool  # False when the connection ended inside the framed body

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None

    def has_connection_close(self) -> bool:
        value = self.header("connection") or ""
        return "close" in [token.strip().lower() for token in value.split(",")]

    def echo(self) -> dict | None:
        """The echo app's JSON if the app produced this response, else None."""
        if self.header(ECHO_MARKER_HEADER) != ECHO_MARKER_VALUE:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Exchange:
    received: bytes = b""
    response: Response | None = None
    extra: bytes = b""  # bytes after the first response
    closed: bool = False  # the server ended the connection (FIN or RST)
    reset: bool = False
    send_error: str | None = None  # the server stopped accepting bytes before we sent them all
    timed_out: bool = False
    notes: list[str] = field(default_factory=list)


def _parse_response(buf: bytes, eof: bool) -> tuple[Response, int] | None:
    """Parse the first response in buf; return it and its length, or None if incomplete."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end == -1:
        return None
    lines = buf[:head_end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"malformed status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed response header line {line!r}")
        headers.append((name, value.strip(" \t")))
    response = Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"", True)
    start = head_end + 4
    length = response.header("content-length")
    if length is not None and length.isdigit():
        end = start + int(length)
        if len(buf) < end:
            if not eof:
                return None
            response.body, response.complete = buf[start:], False
            return response, len(buf)
        response.body = buf[start:end]
        return response, end
    # No Content-Length: the body runs to the close.
    if not eof:
        return None
    response.body = buf[start:]
    return response, len(buf)


def _try_parse(buf: bytes, eof: bool, result: Exchange) -> tuple[Response, int] | None:
    try:
        return _parse_response(buf, eof)
    except ValueError as exc:
        result.notes.append(str(exc))
        return None


def exchange(
    port: int,
    pieces: list[bytes],
    *,
    gap: float = 0.0,
    half_close: bool = False,
    wait_close: bool = False,
    timeout: float = IO_TIMEOUT,
) -> Exchange:
    """Send pieces on a fresh connection from 127.0.0.1 and read the first response.

    half_close: shutdown(SHUT_WR) after the last piece.
    wait_close: after the first response keep reading until the server closes (or the timeout),
    collecting any further bytes in `extra`.
    """
    result = Exchange()
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))  # PROXY-protocol cases need an allowed peer address
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        for index, piece in enumerate(pieces):
            if index and gap:
                time.sleep(gap)
            try:
                sock.sendall(piece)
            except OSError as exc:
                # The server answered and closed early (typical for an error mid-request).
                result.send_error = f"{type(exc).__name__} after {index} of {len(pieces)} pieces"
                break
        if half_close and result.send_error is None:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                result.notes.append(f"shutdown failed: {exc!r}")

        buf = b""
        parsed = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = True
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                result.closed = result.reset = True
                break
            except TimeoutError:
                result.timed_out = True
                break
            if not chunk:
                result.closed = True
                break
            buf += chunk
            if parsed is None:
                parsed = _try_parse(buf, False, result)
                if parsed is not None and not wait_close:
                    break
        if parsed is None and buf:
            parsed = _try_parse(buf, True, result)
        result.received = buf
        if parsed is not None:
            result.response, used = parsed
            result.extra = buf[used:]
    return result
