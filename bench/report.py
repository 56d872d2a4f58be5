"""Turning runs into tables: medians per cell, ratios, targets, and bench/results/LATEST.md."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from measure import IDLE_SETUP_SECONDS, RunResult
from scenarios import Scenario
from servers import Server


@dataclass
class Cell:
    """One server on one scenario: its runs and how it started."""

    scenario: Scenario
    server: Server
    runs: list[RunResult] = field(default_factory=list)
    startup_s: float | None = None
    closes: bool = False
    command: list[str] = field(default_factory=list)
    failure: str | None = None  # it did not start, or every run failed

    def _median(self, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.median(values) if values else None

    @property
    def ok(self) -> list[RunResult]:
        return [r for r in self.runs if r.rps is not None]

    @property
    def rps(self) -> float | None:
        return self._median("rps")

    @property
    def p50(self) -> float | None:
        return self._median("p50_ms")

    @property
    def p99(self) -> float | None:
        return self._median("p99_ms")

    @property
    def errors(self) -> int | None:
        ok = self.ok
        return sum(r.errors for r in ok) if ok else None

    @property
    def requests(self) -> int:
        return sum(r.wrk["requests"] for r in self.ok)

    @property
    def rss(self) -> float | None:
        values = [r.rss_mib for r in self.ok if r.rss_mib]
        return max(values) if values else None

    @property
    def held(self) -> int | None:
        values = [r.idle.get("held_after_load", 0) for r in self.ok if r.idle]
        return int(statistics.median(values)) if values else None

    @property
    def closes_in_keepalive(self) -> bool:
        return self.closes and self.scenario.keepalive


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}x"


def paired_ratio(mine: Cell | None, other: Cell | None) -> float | None:
    """Median over the rounds of mine/other requests/s, each round's two runs side by side.

    Pairing by round cancels most of the drift of a shared machine: both runs of a pair were
    taken within seconds of each other.
    """
    if mine is None or other is None:
        return None
    theirs = {r.round: r.rps for r in other.ok}
    pairs = [(r.rps, theirs[r.round]) for r in mine.ok if r.round in theirs]
    ratios = [a / b if b else math.inf for a, b in pairs if a or b]  # inf: the peer served none
    return statistics.median(ratios) if ratios else None


def _fmt(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return "∞ (the peer served none)" if math.isinf(ratio) else f"{ratio:.2f}x"


def scenario_table(scenario: Scenario, cells: list[Cell]) -> list[str]:
    lines = [
        f"### {scenario.name}: {scenario.title}",
        "",
        "| server | req/s | p50 ms | p99 ms | errors | peak RSS/worker MiB | startup ms | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in cells:
        notes = []
        if c.failure:
            notes.append(c.failure)
        if c.closes_in_keepalive:
            notes.append("closes connections (sync semantics): wrk reconnects per request")
        if scenario.idle and c.held is not None:
            notes.append(f"idle connections still open after the load: {c.held:,}")
        stalled = sum(bool(r.wrk.get("stalled")) for r in c.ok)
        if stalled:
            notes.append(f"accepted no connection in {stalled} of {len(c.ok)} runs")
        if c.errors:
            notes.append(f"{c.errors:,} errors in {c.requests:,} responses over {len(c.ok)} runs")
        name = f"**{c.server.name}**" if c.server.monoceros else c.server.name
        lines.append(
            f"| {name} | {_num(c.rps)} | {_num(c.p50, '{:.2f}')} | {_num(c.p99, '{:.2f}')} "
            f"| {_num(c.errors)} | {_num(c.rss, '{:.1f}')} "
            f"| {_num(None if c.startup_s is None else c.startup_s * 1000)} | {'; '.join(notes)} |"
        )
    if scenario.min_seconds:
        lines += ["", f"Each run of this scenario lasts at least {scenario.min_seconds:g} s."]
    if scenario.idle:
        lines += ["", f"Before each run bench/idle.py opens {scenario.idle:,} connections and "
                  "sends one keep-alive request on each (for at most "
                  f"{IDLE_SETUP_SECONDS:g} s, less if the server stops answering); the load "
                  "runs while they are held open."]  # fmt: skip
    if scenario.pipelined:
        lines += ["", "Latency: wrk times a pipelined batch, and its latency correction "
                  "breaks the percentiles of batches, so none is given."]  # fmt: skip
    return lines + [""]


def ratio_table(mono: Server, scenarios: list[Scenario], grid: dict) -> list[str]:
    peers = []
    for (_, server), _cell in grid.items():
        if not server.monoceros and not server.ceiling and server not in peers:
            peers.append(server)
    head = "| scenario | " + " | ".join(f"/ {p.name}" for p in peers) + " | / nginx ceiling |"
    lines = [
        f"#### {mono.name}: its requests/s divided by each peer's (median of the per-round ratios)",
        "",
        head,
        "|---|" + "---:|" * (len(peers) + 1),
    ]
    for sc in scenarios:
        mine = grid.get((sc, mono))
        if mine is None:
            continue
        mark = " †" if mine.closes_in_keepalive else ""
        row = [f"{sc.name}{mark}"]
        for p in peers:
            other = grid.get((sc, p))
            row.append(_fmt(paired_ratio(mine, other)))
        ceiling = next((c for (s, srv), c in grid.items() if s == sc and srv.ceiling), None)
        row.append(_fmt(paired_ratio(mine, ceiling)))
        lines.append("| " + " | ".join(row) + " |")
    rss_row = ["peak RSS/worker (hello-keepalive)"]
    hello = next((s for s in scenarios if s.name == "hello-keepalive"), None)
    mine = grid.get((hello, mono))
    for p in peers:
        other = grid.get((hello, p))
        rss_row.append(_ratio(mine.rss if mine else None, other.rss if other else None))
    rss_row.append("—")
    if mine:
        lines.append("| " + " | ".join(rss_row) + " |")
    lines.append("")
    if any(c.closes_in_keepalive for (_, srv), c in grid.items() if srv == mono):
        lines += [
            f"† {mono.name} closes every connection (`Connection: close`) where the scenario "
            "keeps them alive: measured as is, wrk reconnects for every request.",
            "",
        ]
    return lines


@dataclass
class Target:
    text: str
    scenario: str
    peer: str
    minimum: float
    invert: bool = False  # RSS: lower is better, the ratio must stay at or under `minimum`
    metric: str = "rps"


TARGETS = [
    Target("hello keep-alive >= 1.2x granian", "hello-keepalive", "granian", 1.2),
    Target("hello keep-alive >= 10x gunicorn gthread", "hello-keepalive", "gunicorn-gthread", 10),
    Target("hello keep-alive >= 0.85x nginx ceiling", "hello-keepalive", "nginx", 0.85),
    Target("pipelined >= 2x granian", "hello-pipelined", "granian", 2),
    Target("Flask JSON >= 1.3x granian", "flask-json", "granian", 1.3),
    Target("peak RSS/worker <= gunicorn sync's (hello keep-alive)", "hello-keepalive",
           "gunicorn-sync", 1.0, invert=True, metric="rss"),
    Target("peak RSS/worker <= gunicorn sync's (10k idle)", "idle-10k", "gunicorn-sync", 1.0,
           invert=True, metric="rss"),
]  # fmt: skip


def target_table(mono: Server, grid: dict) -> list[str]:
    by_name = {(s.name, srv.name): c for (s, srv), c in grid.items()}
    lines = [
        f"#### Targets for {mono.name} (reported, not asserted)",
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    for t in TARGETS:
        mine, other = by_name.get((t.scenario, mono.name)), by_name.get((t.scenario, t.peer))
        if t.metric == "rps":
            ratio = paired_ratio(mine, other)
        else:
            a = getattr(mine, t.metric) if mine else None
            b = getattr(other, t.metric) if other else None
            ratio = a / b if a and b else None
        if ratio is None:
            lines.append(f"| {t.text} | — | not measured |")
            continue
        met = ratio <= t.minimum if t.invert else ratio >= t.minimum
        note = "met" if met else "not met"
        if mine.closes_in_keepalive and t.metric == "rps":
            note += f" ({mono.name} closes connections)"
        lines.append(f"| {t.text} | {_fmt(ratio)} | {note} |")
    return lines + [""]


def startup_table(cells: list[Cell]) -> list[str]:
    per_server: dict[str, list[float]] = {}
    for c in cells:
        if c.startup_s is not None and c.scenario.app == "plain:hello":
            per_server.setdefault(c.server.name, []).append(c.startup_s * 1000)
    lines = [
        "### Startup: spawn to the first 200 (hello app; median of its starts in this run)",
        "",
        "| server | ms | starts |",
        "|---|---:|---:|",
    ]
    for name, values in per_server.items():
        lines.append(f"| {name} | {statistics.median(values):,.0f} | {len(values)} |")
    return lines + [""]
