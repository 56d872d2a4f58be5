"""bench/run: every scenario on every server, side by side, in one run.

    bench/run            the full suite (under 10 minutes on 2 cores); writes results/LATEST.md
    bench/run --quick    hello world keep-alive vs gunicorn, granian and nginx (under 2 minutes)

First it installs what it needs (apt: wrk, nginx, libev-dev; PyPI into bench/.venv: the peers
and monoceros built from this tree), then for each scenario it starts every server with the
same app and worker count, and runs wrk against them in turn, round after round, so that a
noisy moment hurts every server alike. Figures are medians over the rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import resource
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import environment
import measure
import report
import scenarios as scenario_table
import servers as server_table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BASE_PORT = 18100
WARMUP_SECONDS = 0.3


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="hello world keep-alive vs gunicorn, granian and nginx only",
    )
    ap.add_argument("--runs", type=int, help="rounds per scenario (default 3, quick 5)")
    ap.add_argument("--duration", type=float, help="seconds per run (default 1.5, quick 2)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes for every server")
    ap.add_argument("--servers", nargs="+", metavar="NAME", help="only these servers")
    ap.add_argument("--scenarios", nargs="+", metavar="NAME", help="only these scenarios")
    ap.add_argument(
        "--skip-install",
        action="store_true",
        help="use bench/.venv as it is (no apt, no pip, no rebuild of monoceros)",
    )
    ap.add_argument(
        "--reinstall",
        action="store_true",
        help="forget the install stamps (retry peers that failed to build)",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        metavar="EXE",
        help="another monoceros executable (say, a build of the commit before a change), run "
        "as baseline-<worker class> beside each monoceros server measured",
    )
    ap.add_argument("--note", default="", help="a paragraph for the top of the report")
    ap.add_argument(
        "--output",
        type=Path,
        help="where to write the report (default: results/LATEST.md for a full "
        "run; a partial run only writes under results/raw/)",
    )
    ap.add_argument("--list", action="store_true", help="list servers and scenarios, then exit")
    return ap.parse_args()  # fmt: skip


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    distro = "?"
    with contextlib.suppress(OSError), open("/etc/os-release") as f:
        distro = next((ln.split("=", 1)[1].strip().strip('"') for ln in f
                       if ln.startswith("PRETTY_NAME=")), "?")  # fmt: skip
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "os": distro,
    }


def loadavg() -> str:
    with contextlib.suppress(OSError), open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
    return "?"


def relative(argv: list[str]) -> str:
    root = str(BENCH.parent) + "/"
    return shlex.join(a.replace(root, "") for a in argv)


def run_scenario(sc, servers, args, pin, raw_dir, grid, results, seconds, rounds) -> None:
    server_cpus, client_cpus = pin
    cells: list[tuple[measure.ServerProcess, report.Cell]] = []
    port = BASE_PORT
    try:
        for srv in servers:
            port = measure.free_port(port)
            scratch = Path(tempfile.mkdtemp(prefix=f"{srv.name}-", dir=raw_dir))
            launch = server_table.Launch(
                bin=environment.BIN, apps=BENCH / "apps", host=measure.HOST, port=port,
                workers=args.workers, app=sc.app, scratch=scratch,
            )  # fmt: skip
            port += 1
            sp = measure.ServerProcess(srv, launch, raw_dir / f"{sc.name}-{srv.name}.log",
                                       server_cpus)  # fmt: skip
            cell = report.Cell(sc, srv)
            grid[(sc, srv)] = cell
            try:
                sp.start(sc.path)
            except (measure.StartError, OSError) as exc:
                cell.failure = f"did not start: {exc}"
                print(f"  {srv.name:18} did not start: {exc}", flush=True)
                sp.stop()
                continue
            cell.startup_s, cell.closes, cell.command = sp.startup_s, sp.closes, sp.command
            cells.append((sp, cell))
            print(f"  {srv.name:18} up in {sp.startup_s * 1000:6.0f} ms"
                  f"{'  (closes connections)' if sp.closes else ''}", flush=True)  # fmt: skip
        warm = scenario_table.Scenario(**{**asdict(sc), "idle": 0})
        for sp, _ in cells:
            with contextlib.suppress(RuntimeError, OSError):
                measure.run_wrk(warm, sp.launch.port, WARMUP_SECONDS, client_cpus)
        measure.wait_quiet([sp for sp, _ in cells])
        for rnd in range(rounds):
            order = cells[rnd % len(cells) :] + cells[: rnd % len(cells)] if cells else []
            for sp, cell in order:
                res = measure.one_run(sp, sc, seconds, rnd, client_cpus)
                cell.runs.append(res)
                results.append(res)
                if res.error:
                    print(f"  round {rnd + 1} {sp.server.name:18} error: {res.error}", flush=True)
                else:
                    idle = f"  held {res.idle.get('held_after_load')}" if res.idle else ""
                    print(f"  round {rnd + 1} {sp.server.name:18} {res.rps:10,.0f} req/s"
                          f"  errors {res.errors:<6} rss {res.rss_mib:6.1f} MiB{idle}",
                          flush=True)  # fmt: skip
                measure.wait_quiet([s for s, _ in cells])
        for sp, cell in cells:
            if sp.proc and sp.proc.poll() is not None and not cell.failure:
                cell.failure = f"exited during the runs: {sp.log_tail()}"
    finally:
        for sp, _ in cells:
            sp.interrupt()
        for sp, _ in cells:
            sp.stop()


def main() -> int:
    args = parse_args()
    if args.list:
        for s in server_table.SERVERS:
            print(f"server   {s.name:18} {s.settings}")
        for s in scenario_table.SCENARIOS:
            print(f"scenario {s.name:18} {s.title}")
        return 0
    began = time.monotonic()
    rounds = args.runs or (5 if args.quick else 3)
    seconds = args.duration or (2.0 if args.quick else 1.5)
    scenarios = scenario_table.by_name(args.scenarios)
    servers = server_table.by_name(args.servers)
    if args.quick:
        scenarios = [s for s in scenarios if s.quick] if not args.scenarios else scenarios
        servers = [s for s in servers if s.quick] if not args.servers else servers
    if args.baseline:
        servers += server_table.baseline_servers(args.baseline.resolve(), servers)
    partial = args.quick or args.scenarios or args.servers or args.runs or args.duration
    full = not (partial or args.baseline)
    raise_fd_limit()

    skipped: dict[str, str] = {}
    if not args.skip_install:
        if args.reinstall and environment.VENV.exists():
            for stamp in environment.VENV.glob(".bench-*"):
                stamp.unlink()
        environment.apt_install(skipped)
        needed = {s.package for s in servers}
        environment.venv_install(skipped, optional=needed)
    elif not (environment.BIN / "python").exists():
        raise SystemExit("[bench] --skip-install, but bench/.venv does not exist")
    install_s = time.monotonic() - began
    if not shutil.which("wrk"):
        raise SystemExit("[bench] wrk is not installed and could not be (see above)")

    usable = []
    for srv in servers:
        reason = skipped.get(srv.package) or srv.missing(environment.BIN)
        if reason:
            skipped.setdefault(srv.name, reason)
            print(f"[bench] skipping {srv.name}: {reason}", flush=True)
        else:
            usable.append(srv)
    servers = usable

    pin = (None, None)
    if args.workers == 1 and (os.cpu_count() or 1) >= 2:
        pin = ("0", "1")
        os.sched_setaffinity(0, {1})  # the runner, wrk and the idle holder share core 1

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw_dir = RESULTS / "raw" / stamp
    raw_dir.mkdir(parents=True, exist_ok=True)
    load_before = loadavg()
    measured_began = time.monotonic()
    grid: dict = {}
    results: list[measure.RunResult] = []
    spent: dict[str, float] = {}
    for sc in scenarios:
        these = [s for s in servers if not s.ceiling or sc.ceiling]
        print(f"[bench] {sc.name}: {sc.title}", flush=True)
        t0 = time.monotonic()
        run_scenario(sc, these, args, pin, raw_dir, grid, results, seconds, rounds)
        spent[sc.name] = time.monotonic() - t0
        print(f"[bench] {sc.name} took {spent[sc.name]:.0f} s", flush=True)
    measured_s = time.monotonic() - measured_began
    total_s = time.monotonic() - began

    shown = ["--note", "…"] if args.note else []
    shown = [a for a in sys.argv[1:] if a not in ("--note", args.note)] + shown
    command = shlex.join(["bench/run", *shown])
    info = {
        "command": command,
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": environment.commit(),
        "machine": machine(),
        "versions": environment.versions(),
        "load_before": load_before,
        "load_after": loadavg(),
        "install_s": install_s,
        "measured_s": measured_s,
        "total_s": total_s,
        "rounds": rounds,
        "seconds": seconds,
        "workers": args.workers,
        "pin": pin,
        "skipped": skipped,
        "note": args.note,
        "spent": spent,
    }
    text = render(info, scenarios, servers, grid)
    (raw_dir / "REPORT.md").write_text(text)
    (raw_dir / "runs.json").write_text(
        json.dumps({"info": info, "runs": [asdict(r) for r in results]}, indent=1)
    )
    print()
    print(text)
    out = args.output or (RESULTS / "LATEST.md" if full else None)
    if out:
        out.write_text(text)
        print(f"[bench] wrote {out}")
    print(f"[bench] raw results and server logs: {raw_dir}")
    print(f"[bench] done in {total_s:.0f} s ({measured_s:.0f} s measuring)")
    return 0


def render(info: dict, scenarios, servers, grid: dict) -> str:
    monos = [s for s in servers if s.monoceros]
    cells = [grid[k] for k in grid]
    lines = ["# Benchmark results", ""]
    if info["note"]:
        lines += [info["note"], ""]
    lines += [
        f"Produced by `{info['command']}` on {info['date']}, monoceros at commit "
        f"{info['commit']}. It took {info['total_s'] / 60:.1f} minutes "
        f"({info['measured_s']:.0f} s measuring, {info['install_s']:.0f} s checking the install).",
        "",
        f"Every server: {info['workers']} worker process(es), the same app from bench/apps, "
        f"loopback. Each figure is the median of {info['rounds']} runs of "
        f"{info['seconds']:g} s; in every round each server runs once, the order rotating "
        "from round to round. Errors are summed over the runs; RSS is the peak VmRSS of any "
        "worker, sampled every 50 ms during the runs.",
        "",
        "## Headline ratios",
        "",
    ]
    for mono in monos:
        lines += report.ratio_table(mono, scenarios, grid)
        lines += report.target_table(mono, grid)
    lines += ["## Figures per scenario", ""]
    for sc in scenarios:
        lines += report.scenario_table(sc, [grid[(sc, s)] for s in servers if (sc, s) in grid])
    lines += report.startup_table(cells)
    m = info["machine"]
    server_cpus, client_cpus = info["pin"]
    pinning = (
        f"servers pinned to core {server_cpus} and wrk (plus this runner and the idle-connection "
        f"holder) to core {client_cpus} with `taskset`"
        if server_cpus
        else "no pinning (more than one worker): servers and wrk share the cores"
    )
    lines += [
        "## Machine",
        "",
        f"- {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}, Linux {m['kernel']}",
        f"- {pinning}",
        f"- load average before / after: {info['load_before']} / {info['load_after']} "
        "(other work on the machine shows up here and in the figures)",
        "- wrk runs one thread on one core: near nginx's figure it may be the limit, so the "
        "ceiling is the most this machine can measure, not the most a server can do",
        "",
        "## Versions",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info["versions"].items()]
    lines += ["", "## Commands", "", "Servers (port as in this run, `bench/apps` as the app dir):",
              "", "```"]  # fmt: skip
    seen = set()
    for cell in cells:
        if cell.command and cell.server.name not in seen:
            seen.add(cell.server.name)
            lines.append(f"# {cell.server.name}: {cell.server.settings}")
            lines.append(relative(cell.command))
    apps = ", ".join(sorted({s.app for s in scenarios}))
    lines += ["```", "", f"Load, per scenario (apps: {apps}). wrk's `-d` is only a backstop: "
              "the runner stops wrk with SIGINT after the run's seconds, and wrk then prints its "
              "summary as usual:", "", "```"]  # fmt: skip
    for sc in scenarios:
        cmd = measure.wrk_command(sc, 0, info["seconds"], client_cpus)
        lines.append(
            f"# {sc.name}" + (f" (+ bench/idle.py holding {sc.idle:,})" if sc.idle else "")
        )
        lines.append(relative(cmd).replace(f"{measure.HOST}:0", f"{measure.HOST}:PORT"))
    lines += ["```", ""]
    lines += ["Seconds per scenario: " + ", ".join(
        f"{k} {v:.0f}" for k, v in info["spent"].items()) + ".", ""]  # fmt: skip
    if info["skipped"]:
        lines += ["## Skipped", ""]
        lines += [f"- {k}: {v}" for k, v in info["skipped"].items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
