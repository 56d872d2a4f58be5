"""The scenarios: what load wrk puts on which app.

Every scenario runs on every app server; the ones marked `ceiling` also run on nginx's
`return 200`, which is the most a server on this machine can be expected to reach.
"""

from __future__ import annotations

from dataclasses import dataclass

PIPELINE_DEPTH = 16
UPLOAD_BYTES = 1024 * 1024
IDLE_CONNECTIONS = 10_000


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    app: str  # module:callable under bench/apps
    path: str = "/"
    connections: int = 64
    script: str = "report.lua"  # under bench/lua; every script prints the WRKJSON line
    headers: tuple[str, ...] = ()
    keepalive: bool = True  # the load reuses connections (a server that closes them is marked)
    ceiling: bool = False  # nginx runs it too
    idle: int = 0  # idle keep-alive connections held open during the load
    pipelined: bool = False  # wrk cannot give per-request latency for pipelined batches
    min_seconds: float = 0  # a run lasts at least this long
    quick: bool = False


SCENARIOS: list[Scenario] = [
    Scenario("hello-keepalive", "hello world, keep-alive, 64 connections", "plain:hello",
             ceiling=True, quick=True),
    Scenario("hello-close", "hello world, `Connection: close`, 64 connections", "plain:hello",
             headers=("Connection: close",), keepalive=False, ceiling=True),
    Scenario("hello-pipelined", f"hello world pipelined {PIPELINE_DEPTH} deep, 64 connections",
             "plain:hello", script="pipeline.lua", ceiling=True, pipelined=True),
    Scenario("response-64k", "64 KiB response, keep-alive, 64 connections", "plain:big"),
    Scenario("upload-1m", "1 MiB POST echoed back, keep-alive, 64 connections", "plain:echo",
             script="upload.lua"),
    Scenario("flask-json", "Flask JSON route, keep-alive, 64 connections", "flask_json:app",
             path="/json"),
    Scenario("sleep-10ms", "app waits 10 ms (time.sleep), keep-alive, 256 connections",
             "plain:sleep10", connections=256, min_seconds=3),
    Scenario("idle-10k", f"{IDLE_CONNECTIONS:,} idle keep-alive connections + hello load "
             "on 64 more", "plain:hello", idle=IDLE_CONNECTIONS),
]  # fmt: skip


def by_name(names: list[str] | None) -> list[Scenario]:
    if not names:
        return list(SCENARIOS)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
