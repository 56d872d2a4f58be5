"""StatsD metrics (statsd_host, statsd_prefix, dogstatsd_tags, enable_backlog_metric): the
datagrams a real statsd server would receive, in gunicorn's names and format. Runs against
gunicorn too (MONOCEROS_TEST_SERVER=gunicorn)."""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest
import requests
from server import RawConnection, get_request, wait_until


class StatsdServer:
    """A UDP socket on loopback that collects every datagram it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.received: list[str] = []

    def collect(self) -> list[str]:
        while True:
            try:
                self.received.append(self.sock.recv(4096).decode("ascii"))
            except BlockingIOError:
                return self.received

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 15) -> list[str]:
        regex = re.compile(pattern)

        def matches() -> list[str]:
            return [line for line in self.collect() if regex.fullmatch(line)]

        wait_until(
            lambda: len(matches()) >= count,
            timeout,
            message=f"{count} datagram(s) matching {pattern!r}; got {self.received}",
        )
        return matches()


@pytest.fixture
def statsd():
    server = StatsdServer()
    yield server
    server.sock.close()


def test_request_metrics_and_workers_gauge(server_factory, statsd):
    srv = server_factory(
        "behaviours:app",
        "-w",
        "2",
        "--statsd-host",
        f"127.0.0.1:{statsd.port}",
        "--statsd-prefix",
        "shop",
        "--dogstatsd-tags",
        "env:test,team:web",
    )
    tags = r"\|#env:test,team:web"
    statsd.wait_for(r"shop\.gunicorn\.workers:2\|g" + tags)
    for _ in range(3):
        assert requests.get(srv.url("/pid"), timeout=10).status_code == 200
    assert requests.get(srv.url("/crash-before"), timeout=10).status_code == 500
    statsd.wait_for(r"shop\.gunicorn\.requests:1\|c\|@1\.0" + tags, count=4)
    statsd.wait_for(r"shop\.gunicorn\.request\.status\.200:1\|c\|@1\.0" + tags, count=3)
    statsd.wait_for(r"shop\.gunicorn\.request\.status\.500:1\|c\|@1\.0" + tags)
    durations = statsd.wait_for(r"shop\.gunicorn\.request\.duration:(\d+\.\d+)\|ms" + tags, 4)
    assert all(float(d.split(":")[1].split("|")[0]) >= 0 for d in durations)
    # The app's exception is logged with its traceback: counted as an exception.
    statsd.wait_for(r"shop\.gunicorn\.log\.exception:1\|c\|@1\.0" + tags)


def test_prefix_gets_exactly_one_dot_and_no_tags_by_default(server_factory, statsd):
    srv = server_factory("hello:app", "--statsd-host", f"127.0.0.1:{statsd.port}",
                         "--statsd-prefix", "app...")  # fmt: skip
    requests.get(srv.url("/"), timeout=10)
    statsd.wait_for(r"app\.gunicorn\.requests:1\|c\|@1\.0")
    assert not any("|#" in line for line in statsd.collect())


def test_backlog_metric(server_factory, statsd):
    server_factory("hello:app", "--statsd-host", f"127.0.0.1:{statsd.port}",
                   "--enable-backlog-metric")  # fmt: skip
    # Reported on every turn of the master's loop (about once a second).
    statsd.wait_for(r"gunicorn\.backlog:\d+\|h", count=2)


@pytest.mark.parametrize("reuse_port", [False, True], ids=["shared socket", "reuse_port"])
def test_backlog_metric_counts_the_connections_waiting(server_factory, statsd, reuse_port):
    extra = ["--reuse-port"] if reuse_port else []
    srv = server_factory("behaviours:app", "-k", "sync", "--statsd-host",
                         f"127.0.0.1:{statsd.port}", "--enable-backlog-metric", *extra)  # fmt: skip
    busy = RawConnection(srv.address, timeout=30)
    busy.send(get_request("/sleep?s=4", "Connection: close"))
    srv.wait_for_log("sleep route: started")
    # The only worker runs the app: these wait in the accept queue (the worker's own socket
    # with reuse_port, where the master's is only a reservation).
    waiting = [RawConnection(srv.address, timeout=30) for _ in range(4)]
    statsd.wait_for(r"gunicorn\.backlog:4\|h")
    for conn in [busy, *waiting]:
        conn.close()


def test_warnings_are_counted(server_factory, statsd):
    srv = server_factory("hello:app", "--statsd-host", f"127.0.0.1:{statsd.port}")
    statsd.wait_for(r"gunicorn\.workers:1\|g")
    # A worker killed with SIGKILL is logged as an error ("Perhaps out of memory?").
    os.kill(srv.worker_pids()[0], signal.SIGKILL)
    statsd.wait_for(r"gunicorn\.log\.error:1\|c\|@1\.0")


def test_no_statsd_host_sends_nothing(server_factory, statsd):
    srv = server_factory("hello:app")
    requests.get(srv.url("/"), timeout=10)
    time.sleep(0.3)  # give a stray datagram time to arrive; none may
    assert statsd.collect() == []


@pytest.mark.monoceros_only
@pytest.mark.parametrize("value", ["fd://3", "a:b:c"])
def test_bad_statsd_host_is_one_line(server_factory, value):
    srv = server_factory("hello:app", "--statsd-host", value, wait=False)
    assert srv.wait(timeout=30) == 1
    lines = srv.stderr_text().strip().splitlines()
    assert len(lines) == 1 and "statsd" in lines[0].lower(), lines
