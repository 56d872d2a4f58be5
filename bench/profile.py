"""Profile monoceros on hello world: the event worker with keep-alive (the default), or the
sync worker with `Connection: close` (what it does).

    python3 bench/profile.py [--worker-class event|sync] [--seconds 5] [--requests 2000]

Needs the bench venv (run `bench/run --quick` once). It builds monoceros from this tree with
symbols (the Release flags plus -g, not stripped) into bench/.venv/profile, then:

1. perf, in time (kernel included): the server on core 0 with one worker, wrk with 64
   connections on core 1 (keep-alive for event, `Connection: close` for sync);
   `perf record -e cpu-clock` samples the worker for --seconds. Prints the split by shared
   object, the top symbols and the worker's user/system CPU from /proc.
2. callgrind, in instructions (user space only, repeatable): the same server under valgrind;
   after 200 warm-up requests the counters are zeroed, --requests requests are sent one at a
   time (on one kept-alive connection for event), and the inclusive cost of the top
   functions is printed.

Everything is written under bench/results/raw/profile-<time>/.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import environment  # noqa: E402
import measure  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402
from servers import Launch, Server  # noqa: E402

TARGET = environment.VENV / "profile"
SCENARIO = {
    "event": next(s for s in SCENARIOS if s.name == "hello-keepalive"),
    "sync": next(s for s in SCENARIOS if s.name == "hello-close"),
}
WORKER_CLASS = "event"  # set from --worker-class


def build() -> None:
    source = environment.monoceros_source_hash()
    if environment._stamp_ok("profile", source) and (TARGET / "monoceros").exists():
        return
    print("[profile] building monoceros with symbols into bench/.venv/profile", flush=True)
    shutil.rmtree(TARGET, ignore_errors=True)
    proc = environment._pip(
        "install", "--no-deps", "--no-build-isolation", "--target", str(TARGET),
        "-C", f"build-dir={environment.VENV / 'build' / 'profile'}",
        "-C", "install.strip=false", "-C", "cmake.define.CMAKE_CXX_FLAGS=-g",
        str(environment.REPO), timeout=1800,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"[profile] build failed: {environment._tail(proc.stdout + proc.stderr)}")
    environment._write_stamp("profile", source)


def server(prefix: list[str]) -> Server:
    def command(ln: Launch) -> list[str]:
        return [*prefix, str(ln.bin / "python"), "-m", "monoceros", "--workers", "1",
                "-k", WORKER_CLASS, "--bind", f"{ln.host}:{ln.port}", "--chdir", str(ln.apps),
                ln.app]  # fmt: skip

    return Server(f"monoceros-{WORKER_CLASS} (profile build)", command, f"-k {WORKER_CLASS}",
                  "monoceros")  # fmt: skip


def start(prefix: list[str], out: Path, name: str, cpus: str | None) -> measure.ServerProcess:
    launch = Launch(environment.BIN, BENCH / "apps", measure.HOST, measure.free_port(18900), 1,
                    "plain:hello", out)  # fmt: skip
    sp = measure.ServerProcess(server(prefix), launch, out / f"{name}.log", cpus)
    measure.STARTUP_TIMEOUT = 180.0  # valgrind starts Python slowly
    sp.start("/")
    return sp


def run(cmd: list[str], **kw) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw).stdout


def perf_profile(out: Path, seconds: float) -> None:
    sp = start([], out, "perf-server", "0")
    try:
        worker = sp.workers()[0]
        with open(f"/proc/{worker}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        user0, sys0 = int(fields[11]), int(fields[12])
        data = out / "perf.data"
        perf = subprocess.Popen(
            ["perf", "record", "-e", "cpu-clock", "-p", str(worker), "-o", str(data), "--",
             "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wrk = measure.run_wrk(SCENARIO[WORKER_CLASS], sp.launch.port, seconds, "1")
        perf.wait(timeout=60)
        with open(f"/proc/{worker}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        user, system = int(fields[11]) - user0, int(fields[12]) - sys0
    finally:
        sp.stop()
    by_dso = run(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso"])
    by_sym = run(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso,sym"])
    (out / "perf-dso.txt").write_text(by_dso)
    (out / "perf-sym.txt").write_text(by_sym)
    total = max(user + system, 1)
    print(f"\n== perf: {wrk['rps']:,.0f} req/s; worker CPU: user {100 * user / total:.0f}%, "
          f"system {100 * system / total:.0f}% (from /proc, {total} ticks)")  # fmt: skip
    print("\n-- by shared object --")
    print("\n".join(ln for ln in by_dso.splitlines() if ln.strip() and not ln.startswith("#")))
    print("\n-- top symbols --")
    rows = [ln for ln in by_sym.splitlines() if ln.strip() and not ln.startswith("#")]
    print("\n".join(rows[:40]))


def callgrind_profile(out: Path, requests: int) -> None:
    prefix = ["valgrind", "--tool=callgrind", "--trace-children=yes",
              f"--callgrind-out-file={out}/callgrind.out.%p"]  # fmt: skip
    sp = start(prefix, out, "callgrind-server", None)
    get = _requester(sp.launch.port)
    try:
        worker = sp.workers()[0]
        for _ in range(200):
            get()
        # callgrind_control is answered when the worker next runs: drive it with requests
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        zero = subprocess.Popen(["callgrind_control", "-z", str(worker)], **quiet)
        while zero.poll() is None:
            get()
        began = time.monotonic()
        for _ in range(requests):
            get()
        print(f"\n== callgrind: {requests} requests in {time.monotonic() - began:.1f} s")
        dump_cmd = subprocess.Popen(["callgrind_control", "-d", str(worker)], **quiet)
        while dump_cmd.poll() is None:  # these few requests land in the dump too
            get()
            requests += 1
    finally:
        sp.stop()
    dump = out / f"callgrind.out.{worker}.1"  # the first dump asked for, before shutdown
    text = run(["callgrind_annotate", "--inclusive=yes", "--threshold=99", str(dump)])
    (out / "callgrind-inclusive.txt").write_text(text)
    flat = run(["callgrind_annotate", "--threshold=99", str(dump)])
    (out / "callgrind-exclusive.txt").write_text(flat)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    total = next((ln for ln in lines if "PROGRAM TOTALS" in ln), "")
    print(total, f"(= {int(total.split()[0].replace(',', '')) / requests:,.0f} Ir per request)"
          if total else "")  # fmt: skip
    start_at = next((i for i, ln in enumerate(lines) if ln.startswith("Ir")), 0)
    print("\n".join(lines[start_at : start_at + 45]))


def _requester(port: int):
    """GET / one request at a time: on one kept-alive connection for the event worker, on a
    new connection each time for the sync worker."""
    if WORKER_CLASS == "sync":
        return lambda: measure.http_get(port, "/", timeout=30)
    conn = http.client.HTTPConnection(measure.HOST, port, timeout=30)

    def get() -> None:
        conn.request("GET", "/")
        conn.getresponse().read()

    return get


def main() -> int:
    global WORKER_CLASS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker-class", choices=sorted(SCENARIO), default="event")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--skip-perf", action="store_true")
    ap.add_argument("--skip-callgrind", action="store_true")
    args = ap.parse_args()
    WORKER_CLASS = args.worker_class
    if not (environment.BIN / "python").exists():
        raise SystemExit("[profile] run bench/run --quick first (it creates bench/.venv)")
    build()
    os.environ["PYTHONPATH"] = str(TARGET)
    out = BENCH / "results" / "raw" / datetime.datetime.now().strftime("profile-%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    os.sched_setaffinity(0, {1})
    if not args.skip_perf:
        perf_profile(out, args.seconds)
    if not args.skip_callgrind:
        callgrind_profile(out, args.requests)
    print(f"\n[profile] files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
