#!/usr/bin/env python3
"""Fairness of one worker between clients that open a connection per request and clients
that keep theirs: each group's requests per second and latency percentiles, side by side.

    bench/fairness.py [--seconds 10] [--clients 6] -- monoceros -k event -w 1 ...

The command is run from bench/apps with `-b 127.0.0.1:PORT plain:sleep5` appended (the app
works 5 ms per request). Bounded: it stops after --seconds of load and stops the server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

APPS = Path(__file__).resolve().parent / "apps"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def client(port: int, keep_alive: bool, stop: float, latencies: list[float]) -> None:
    conn = None
    while time.monotonic() < stop:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.monotonic()
        headers = {} if keep_alive else {"Connection": "close"}
        conn.request("GET", "/", headers=headers)
        conn.getresponse().read()
        latencies.append(time.monotonic() - start)
        if not keep_alive:
            conn.close()
            conn = None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=6, help="clients in each group")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [*args.command, "-b", f"127.0.0.1:{port}", "plain:sleep5"],
        cwd=APPS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(port, time.monotonic() + 20)
        stop = time.monotonic() + args.seconds
        groups = {"new connection per request": [], "keep-alive": []}
        threads = [
            threading.Thread(target=client, args=(port, name == "keep-alive", stop, latencies))
            for name, latencies in groups.items()
            for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 60)
        for name, latencies in groups.items():
            print(
                f"{name:>28}: {len(latencies) / args.seconds:7.1f} req/s  "
                f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  "
                f"p90 {percentile(latencies, 0.9) * 1000:6.1f} ms  "
                f"mean {statistics.fmean(latencies) * 1000 if latencies else 0:6.1f} ms"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


if __name__ == "__main__":
    main()
