"""systemd integration with real processes: socket activation (LISTEN_FDS/LISTEN_PID, also across
a SIGUSR2 upgrade), the sd_notify messages on NOTIFY_SOCKET, and reuse_port (a listening socket
per worker). Runs against gunicorn too (MONOCEROS_TEST_SERVER=gunicorn); RELOADING=1 and
STOPPING=1 are monoceros' additions."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
from server import BOOTING_RE, RUNNING_GUNICORN, Server, pid_alive, wait_until

LISTEN_FDS_START = 3


class ActivatedServer(Server):
    """Started the way systemd starts a socket-activated service: the listening socket as fd 3,
    LISTEN_FDS=1 and LISTEN_PID set to the server's own pid (bash exports its $$, then execs
    the server, which keeps the pid)."""

    def __init__(self, app: str, *args: str, listen_socket: socket.socket, **kwargs) -> None:
        # Above 3, so that the shell's redirection can move it to 3 and close the original.
        self.passed_fd = fcntl.fcntl(listen_socket.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
        env = {"LISTEN_FDS": "1", "LISTEN_FDNAMES": "web", **kwargs.pop("env", {})}
        super().__init__(app, *args, bind=None, pass_fds=(self.passed_fd,), env=env, **kwargs)

    @property
    def command(self) -> list[str]:
        fd = self.passed_fd
        script = f'export LISTEN_PID=$$; exec "$@" {LISTEN_FDS_START}<&{fd} {fd}<&-'
        return ["bash", "-c", script, "bash", *super().command]


@pytest.fixture
def activated(tmp_path_factory):
    """Start ActivatedServers (ready unless wait=False); all are stopped at the end."""
    started: list[ActivatedServer] = []

    def start(app: str, *args: str, wait: bool = True, **kwargs) -> ActivatedServer:
        kwargs.setdefault("tmp_dir", tmp_path_factory.mktemp("server"))
        srv = ActivatedServer(app, *args, **kwargs)
        started.append(srv)
        return srv.start(wait=wait)

    yield start
    for srv in started:
        try:
            srv.stop(timeout=10)
        finally:
            srv.kill()
            os.close(srv.passed_fd)


def listening_socket(family: int = socket.AF_INET, address=("127.0.0.1", 0)) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen(64)
    return sock


def exec_environ(pid: int) -> dict[str, str]:
    """The environment a process was exec'd with (/proc/<pid>/environ)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode() for key, value in pairs}


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def stop_pid(pid: int | None) -> None:
    if pid and pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not pid_alive(pid), 30, message=f"pid {pid} to stop")


# ============================================================== socket activation


def test_listen_fds_are_read_only_for_our_pid():
    from monoceros import systemd

    theirs = {"LISTEN_PID": "1", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a:b"}
    assert systemd.take_listen_fds(theirs, 4242) == []
    assert theirs == {"LISTEN_PID": "1", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a:b"}
    ours = {"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a:b", "PATH": "/bin"}
    assert systemd.take_listen_fds(ours, 4242) == [3, 4]
    assert ours == {"PATH": "/bin"}
    assert systemd.take_listen_fds({"LISTEN_PID": "x", "LISTEN_FDS": "1"}, 4242) == []


def test_activation_serves_on_the_socket_systemd_passed(activated):
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        srv = activated("environment_probe:app", "-w", "2", listen_socket=sock)
        # The socket we bound is the one the server listens on: nothing else was bound.
        assert srv.port == port
        assert f"Listening at: http://127.0.0.1:{port} ({srv.master_pid})" in srv.log_text()
        answer = requests.get(srv.url("/"), timeout=10).json()
        assert answer["pid"] in srv.worker_pids()
        # The variables were the master's: neither the workers nor the app see them.
        assert "LISTEN_PID" not in answer["environ"]
        assert "LISTEN_FDS" not in answer["environ"]
        if not RUNNING_GUNICORN:  # gunicorn leaves LISTEN_FDNAMES behind
            assert "LISTEN_FDNAMES" not in answer["environ"]


def test_activation_for_another_pid_is_ignored(server_factory):
    # Inherited from an activated parent: not ours, so the server binds as usual and the
    # variables stay where they are.
    srv = server_factory(
        "environment_probe:app", env={"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}
    )
    answer = requests.get(srv.url("/"), timeout=10).json()
    assert answer["environ"]["LISTEN_PID"] == str(os.getpid())


def test_activation_never_unlinks_the_socket_file(activated, tmp_path):
    path = str(tmp_path / "web.sock")
    with listening_socket(socket.AF_UNIX, path) as sock:
        srv = activated("hello:app", listen_socket=sock, wait=False)
        srv.wait_for_log(rf"Listening at: unix:{re.escape(path)} ", timeout=20)
        srv.wait_for_log(BOOTING_RE, timeout=20)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(10)
            client.connect(path)
            client.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            reply = b""
            while chunk := client.recv(4096):
                reply += chunk
        assert reply.split(b"\r\n", 1)[0].endswith(b" 200 OK"), reply[:200]
        assert srv.stop(timeout=15) == 0
        # The file is systemd's: it stays for the next activation.
        assert os.path.exists(path)


# gunicorn passes LISTEN_FDS=n on, but its sockets are no longer at fds 3.. by then (it dups
# them when it adopts them), so its new master fails with EBADF: docs/differences.md.
@pytest.mark.monoceros_only
def test_usr2_hands_the_sockets_on_the_systemd_way(activated, tmp_path):
    pidfile = tmp_path / "app.pid"
    new = None
    with listening_socket() as sock:
        srv = activated("behaviours:app", "--pid", str(pidfile), listen_socket=sock)
        old = srv.master_pid
        try:
            srv.signal(signal.SIGUSR2)
            new = wait_until(lambda: read_pid(tmp_path / "app.pid.2"), 30, message="app.pid.2")
            wait_until(lambda: f"({new})" in srv.log_text(), 30, message="the new master listening")
            # The new master was exec'd with LISTEN_PID = its own pid, the socket at fd 3.
            handed = exec_environ(new)
            assert handed["LISTEN_PID"] == str(new)
            assert handed["LISTEN_FDS"] == "1"
            assert handed["GUNICORN_PID"] == str(old)
            assert "GUNICORN_FD" not in handed
            assert f"Listening at: http://127.0.0.1:{srv.port} ({new})" in srv.log_text()
            # Retire the old master: the new one serves alone, on the same socket.
            os.kill(old, signal.SIGTERM)
            wait_until(lambda: srv.proc.poll() is not None, 30, message="the old master to exit")
            wait_until(lambda: "Master has been promoted." in srv.log_text(), 30)
            answer = requests.get(f"http://127.0.0.1:{srv.port}/pid", timeout=10)
            assert answer.status_code == 200
            assert int(answer.text) not in srv.booted_worker_pids()[:1]
        finally:
            stop_pid(new)


# ============================================================== sd_notify


class FakeSystemd:
    """A unix datagram socket standing in for systemd's notification socket."""

    def __init__(self, address: str) -> None:
        self.address = address  # what NOTIFY_SOCKET says: a path, or "@name" (abstract)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.messages: list[str] = []

    def wait_for(self, prefix: str, timeout: float = 20) -> str:
        """The next message starting with `prefix` (earlier ones are kept in `messages`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(message)
            if message.startswith(prefix):
                return message
        raise AssertionError(f"no {prefix!r} notification; got {self.messages!r}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def fake_systemd(request, tmp_path):
    if request.param == "path":
        systemd = FakeSystemd(str(tmp_path / "notify"))
    else:
        systemd = FakeSystemd(f"@monoceros-test-{uuid.uuid4().hex}")
    yield systemd
    systemd.close()


def test_ready_is_notified_once_the_master_is_up(server_factory, fake_systemd):
    srv = server_factory("hello:app", env={"NOTIFY_SOCKET": fake_systemd.address})
    ready = fake_systemd.wait_for("READY=1")
    lines = ready.split("\n")
    assert lines[0] == "READY=1"
    assert any(line.startswith("STATUS=") and "arbiter booted" in line for line in lines)
    assert requests.get(srv.url("/"), timeout=10).status_code == 200


@pytest.mark.monoceros_only  # RELOADING=1 and STOPPING=1: docs/differences.md
def test_reload_and_stop_are_notified(server_factory, fake_systemd):
    srv = server_factory("hello:app", env={"NOTIFY_SOCKET": fake_systemd.address})
    fake_systemd.wait_for("READY=1")
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    srv.signal(signal.SIGHUP)
    reloading = fake_systemd.wait_for("RELOADING=1")
    # Type=notify-reload wants the moment of the reload on CLOCK_MONOTONIC, in microseconds.
    usec = re.search(r"^MONOTONIC_USEC=(\d+)$", reloading, re.MULTILINE)
    assert usec, reloading
    assert before <= int(usec.group(1)) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    fake_systemd.wait_for("READY=1")
    srv.wait_for_log(BOOTING_RE, count=2, timeout=20)
    assert requests.get(srv.url("/"), timeout=10).status_code == 200
    srv.signal(signal.SIGTERM)
    fake_systemd.wait_for("STOPPING=1")
    assert srv.wait(timeout=20) == 0
    sent = [message.split("\n", 1)[0] for message in fake_systemd.messages]
    assert sent == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]


def test_notify_socket_nobody_listens_on_is_harmless(server_factory, tmp_path):
    srv = server_factory("hello:app", env={"NOTIFY_SOCKET": str(tmp_path / "nobody")})
    assert requests.get(srv.url("/"), timeout=10).status_code == 200
    srv.signal(signal.SIGHUP)
    srv.wait_for_log(BOOTING_RE, count=2, timeout=20)
    assert srv.stop(timeout=15) == 0


# ============================================================== reuse_port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on 127.0.0.1:`port` (/proc/net/tcp, state 0A)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and local == f"0100007F:{port:04X}":
            inodes.add(inode)
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def start_reuse_port_server(server_factory, workers: int):
    # A fixed port: gunicorn's master binds nothing with reuse_port, and logs no address.
    port = free_port()
    srv = server_factory(
        "behaviours:app", "--reuse-port", "-w", str(workers), bind=f"127.0.0.1:{port}", wait=False
    )
    srv.wait_for_log(BOOTING_RE, count=workers, timeout=20)
    srv.host, srv.port = "127.0.0.1", port
    wait_until(lambda: len(listening_inodes(port)) == workers, 20, message="workers listening")
    return srv


def answering_pids(srv, requests_count: int = 60) -> set[int]:
    pids = set()
    for _ in range(requests_count):
        response = requests.get(srv.url("/pid"), timeout=10)  # a new connection each time
        assert response.status_code == 200
        pids.add(int(response.text))
    return pids


def test_reuse_port_gives_every_worker_its_own_socket(server_factory):
    srv = start_reuse_port_server(server_factory, workers=3)
    workers = srv.worker_pids()
    assert len(workers) == 3
    listening = listening_inodes(srv.port)
    # One listening socket per worker, none shared, none listening in the master.
    owned = [socket_inodes(pid) & listening for pid in workers]
    assert all(len(inodes) == 1 for inodes in owned), owned
    assert len(set().union(*owned)) == 3
    assert not socket_inodes(srv.pid) & listening
    # The kernel spreads new connections across the workers' sockets.
    pids = answering_pids(srv)
    assert pids <= set(workers)
    assert len(pids) >= 2, pids


def test_reuse_port_new_workers_of_a_reload_listen_too(server_factory):
    srv = start_reuse_port_server(server_factory, workers=2)
    old = set(srv.worker_pids())
    srv.signal(signal.SIGHUP)
    srv.wait_for_log(BOOTING_RE, count=4, timeout=20)
    wait_until(lambda: not any(pid_alive(pid) for pid in old), 30, message="old workers gone")
    new = set(srv.worker_pids()) - old
    wait_until(lambda: len(listening_inodes(srv.port)) == 2, 20, message="2 listening sockets")
    pids = answering_pids(srv, 40)
    assert pids <= new and len(pids) == 2, (pids, new)


@pytest.mark.monoceros_only  # gunicorn's new master never sends MAINPID= (docs/differences.md)
def test_usr2_new_master_tells_systemd_it_is_the_main_process(server_factory, tmp_path):
    systemd = FakeSystemd(str(tmp_path / "notify"))
    pidfile = tmp_path / "app.pid"
    srv = server_factory("hello:app", "--pid", str(pidfile), env={"NOTIFY_SOCKET": systemd.address})
    old = srv.master_pid
    new = None
    try:
        assert "MAINPID" not in systemd.wait_for("READY=1")
        srv.signal(signal.SIGUSR2)
        ready = systemd.wait_for("READY=1")
        new = int(re.search(r"^MAINPID=(\d+)$", ready, re.MULTILINE).group(1))
        assert new != old and new == int((tmp_path / "app.pid.2").read_text())
        # The old master retires: the service goes on, so it must not say STOPPING=1.
        os.kill(old, signal.SIGTERM)
        wait_until(lambda: srv.proc.poll() is not None, 30, message="the old master to exit")
        os.kill(new, signal.SIGTERM)
        systemd.wait_for("STOPPING=1")
        wait_until(lambda: not pid_alive(new), 30, message="the new master to stop")
        sent = [message.split("\n", 1)[0] for message in systemd.messages]
        assert sent == ["READY=1", "READY=1", "STOPPING=1"], systemd.messages
    finally:
        if new and pid_alive(new):
            os.kill(new, signal.SIGTERM)
        systemd.close()
