"""Starting and stopping servers, and taking the figures of one run.

Every process started here is in its own session (process group), is waited for with a
timeout, and is killed with its whole group when it does not stop by itself.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from scenarios import PIPELINE_DEPTH, UPLOAD_BYTES, Scenario
from servers import Launch, Server

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
WRK_TIMEOUT = "4s"  # a request unanswered this long counts as a timeout error
IDLE_SETUP_SECONDS = 4.0
WRK_STALL_SECONDS = 2.0  # wrk answers SIGINT within 0.1 s unless it never got to run
TICKS = os.sysconf("SC_CLK_TCK")


class StartError(Exception):
    pass


def free_port(start: int) -> int:
    port = start
    while True:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
                return port
            except OSError:
                port += 1


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            kids.append(int(entry))
    return sorted(kids)


def cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return 0


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def http_get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    """One GET on a new connection; returns (status, raw head) or raises OSError."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    status = buf.split(b" ", 2)[1] if buf.count(b" ") >= 2 else b"0"
    return int(status) if status.isdigit() else 0, buf.partition(b"\r\n\r\n")[0]


def closes_keepalive(port: int, path: str) -> bool:
    """Does the server close a connection after one HTTP/1.1 response without being asked?"""
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return True
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.lower().split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip() == b"connection" and b"close" in value:
                return True
            if name.strip() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                return True
            body += chunk
        s.settimeout(0.3)
        try:
            return s.recv(1) == b""
        except TimeoutError:
            return False


@dataclass
class ServerProcess:
    server: Server
    launch: Launch
    log: Path
    cpus: str | None  # taskset list for the server, or None for no pinning
    proc: subprocess.Popen | None = None
    startup_s: float = 0.0
    closes: bool = False
    command: list[str] = field(default_factory=list)

    def start(self, path: str) -> None:
        self.command = self.server.command(self.launch)
        argv = (["taskset", "-c", self.cpus] if self.cpus else []) + self.command
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        with open(self.log, "wb") as log:
            began = time.monotonic()
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.launch.apps, env=env, start_new_session=True,
            )  # fmt: skip
        deadline = began + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StartError(f"exited with status {self.proc.returncode}: {self.log_tail()}")
            try:
                status, _ = http_get(self.launch.port, path, timeout=5)
            except OSError:
                time.sleep(0.005)
                continue
            if status == 200:
                self.startup_s = time.monotonic() - began
                break
            time.sleep(0.005)
        else:
            self.stop()
            raise StartError(f"no 200 on {path} within {STARTUP_TIMEOUT:.0f} s: {self.log_tail()}")
        self.closes = closes_keepalive(self.launch.port, path)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        root = self.proc.pid
        kids = children_of(root)
        if self.server.root_is_worker or not kids:
            return [root, *kids]
        return kids

    def all_pids(self) -> list[int]:
        return [self.proc.pid, *children_of(self.proc.pid)] if self.proc else []

    def interrupt(self) -> None:
        """Ask the server to quit (SIGINT: quick shutdown on every server here)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGINT)

    def stop(self) -> None:
        """Wait up to 5 s for the server to quit, then kill whatever is left of its group."""
        if self.proc is None:
            return
        self.interrupt()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


class RssSampler:
    """Samples VmRSS of the worker processes every 50 ms; keeps the peak per worker."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak: dict[int, int] = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kib(pid))
            if self._stop.wait(0.05):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def peak_per_worker_mib(self) -> float:
        return max(self.peak.values(), default=0) / 1024


def wrk_command(scenario: Scenario, port: int, seconds: float, cpus: str | None) -> list[str]:
    argv = ["taskset", "-c", cpus] if cpus else []
    argv += ["wrk", "-t1", f"-c{scenario.connections}", f"-d{math.ceil(seconds) + 10}s",
             f"--timeout={WRK_TIMEOUT}", "-s", str(BENCH / "lua" / scenario.script)]  # fmt: skip
    for header in scenario.headers:
        argv += ["-H", header]
    return [*argv, f"http://{HOST}:{port}{scenario.path}"]


def run_wrk(scenario: Scenario, port: int, seconds: float, cpus: str | None) -> dict:
    """Run wrk for `seconds` (it is stopped by SIGINT, which makes it print its summary)."""
    env = dict(os.environ, PIPELINE_DEPTH=str(PIPELINE_DEPTH), UPLOAD_BYTES=str(UPLOAD_BYTES))
    proc = subprocess.Popen(
        wrk_command(scenario, port, seconds, cpus), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=WRK_STALL_SECONDS)
        res = _parse_wrk(out)
    except subprocess.TimeoutExpired:
        # wrk first checks the address with a blocking connect() while SIGINT is still ignored:
        # when the server's accept queue is full, that connect hangs and nothing was measured.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        res = dict.fromkeys(("connect", "read", "write", "status", "timeout", "bytes"), 0)
        res.update(requests=0, duration_us=seconds * 1e6, p50_us=None, p99_us=None,
                   stalled="the server accepted no connection")  # fmt: skip
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["errors"] = sum(res[k] for k in ("connect", "read", "write", "status", "timeout"))
    if scenario.pipelined or not res["requests"]:
        # wrk's latency correction breaks the percentiles of pipelined batches
        res["p50_us"] = res["p99_us"] = None
    return res


def _parse_wrk(out: str) -> dict:
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON ") :])
    # wrk skips the Lua `done` when no request completed; read its plain summary instead
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        raise RuntimeError(f"wrk printed no result: {out.strip()[-300:]}")
    scale = {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(3)]
    res = dict.fromkeys(("connect", "read", "write", "status", "timeout", "bytes"), 0)
    res.update(requests=int(m.group(1)), duration_us=float(m.group(2)) * scale,
               p50_us=None, p99_us=None)  # fmt: skip
    e = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        res.update(zip(("connect", "read", "write", "timeout"), map(int, e.groups()), strict=True))
    s = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if s:
        res["status"] = int(s.group(1))
    return res


class IdleHolder:
    """bench/idle.py in a subprocess, holding `count` idle keep-alive connections."""

    def __init__(self, port: int, path: str, count: int, cpus: str | None) -> None:
        argv = ["taskset", "-c", cpus] if cpus else []
        argv += [sys.executable, str(BENCH / "idle.py"), HOST, str(port), path, str(count),
                 str(IDLE_SETUP_SECONDS)]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.ready = self._read("READY ", IDLE_SETUP_SECONDS + 20)

    def _read(self, prefix: str, timeout: float) -> dict:
        result: dict = {}

        def reader() -> None:
            line = self.proc.stdout.readline()
            if line.startswith(prefix):
                result.update(json.loads(line[len(prefix) :]))

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        return result

    def finish(self) -> dict:
        try:
            self.proc.stdin.write("done\n")
            self.proc.stdin.flush()
            done = self._read("DONE ", 20)
            self.proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            done = {}
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return done or self.ready


def wait_quiet(servers: list[ServerProcess], limit: float = 2.0, backlog_limit: float = 10.0):
    """Wait until the servers stop burning CPU and have answered what the last run left queued.

    CPU alone misses a backlog of requests that wait (the sleep-10ms scenario): a server still
    working through the requests of the wrk that just stopped would start its next run behind
    them. Those connections are in CLOSE_WAIT on the server's port until it answers them.
    """
    pids = [pid for sp in servers for pid in sp.all_pids()]
    ports = {sp.launch.port for sp in servers}
    began = time.monotonic()
    before = sum(cpu_ticks(p) for p in pids)
    while True:
        time.sleep(0.1)
        now = sum(cpu_ticks(p) for p in pids)
        cpu_quiet = now - before <= 1
        before = now
        waited = time.monotonic() - began
        if waited >= backlog_limit:
            return
        if close_wait_count(ports) == 0 and (cpu_quiet or waited >= limit):
            return


def close_wait_count(ports: set[int]) -> int:
    """Server-side connections on `ports` whose client has gone but that are still open."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if fields[3] == "08" and int(fields[1].rsplit(":", 1)[1], 16) in ports:
                    count += 1
    return count


@dataclass
class RunResult:
    scenario: str
    server: str
    round: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    rss_mib: float | None = None
    idle: dict | None = None
    error: str | None = None
    wrk: dict | None = None


def one_run(
    sp: ServerProcess, scenario: Scenario, seconds: float, rnd: int, client_cpus: str | None
) -> RunResult:
    result = RunResult(scenario.name, sp.server.name, rnd)
    holder = None
    try:
        if scenario.idle:
            holder = IdleHolder(sp.launch.port, scenario.path, scenario.idle, client_cpus)
        with RssSampler(sp.workers()) as rss:
            seconds = max(seconds, scenario.min_seconds)
            wrk = run_wrk(scenario, sp.launch.port, seconds, client_cpus)
        if holder:
            result.idle = holder.finish()
    except (RuntimeError, OSError) as exc:
        result.error = str(exc)
        return result
    finally:
        if holder and holder.proc.poll() is None:
            os.killpg(holder.proc.pid, signal.SIGKILL)
            holder.proc.wait()
    result.wrk = wrk
    result.rps = wrk["rps"]
    result.errors = wrk["errors"]
    result.p50_ms = None if wrk["p50_us"] is None else wrk["p50_us"] / 1000
    result.p99_ms = None if wrk["p99_us"] is None else wrk["p99_us"] / 1000
    result.rss_mib = rss.peak_per_worker_mib()
    return result
