"""Process settings through real server processes and real signals: pidfile, daemon, umask,
user/group/initgroups, worker_tmp_dir and the process titles (proc_name).

The user switch tests need root (they run as root in CI) and the `nobody` user."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from server import APPS_DIR, RUNNING_GUNICORN, SERVER_MODULE, Server, pid_alive, wait_until

PROBE = "process_probe:app"
LISTENING_RE = re.compile(r"Listening at: (?P<url>\S+) \((?P<pid>\d+)\)")


def _nobody() -> tuple[int, int] | None:
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


NOBODY = _nobody()
needs_root_and_nobody = pytest.mark.skipif(
    os.geteuid() != 0 or NOBODY is None, reason="switching users needs root and user nobody"
)
# The user switch tests preload the app: the interpreter under test may live where `nobody`
# cannot read (here: under /root), and a worker imports the app and the loader's modules
# after the switch. With --preload they are imported in the master, before any fork.
AS_NOBODY = ("--preload",)


# ================================================================================== helpers


def run_server_command(
    *args: str, cwd: Path = APPS_DIR, timeout: float = 20
) -> subprocess.CompletedProcess:
    """Run `python -m <server> *args` to completion with captured output."""
    env = Server("x")._environment()
    return subprocess.run(
        [sys.executable, "-m", SERVER_MODULE, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 1, no traceback, every fragment on the one line monoceros prints (gunicorn
    surrounds its line with blank lines, so only the fragments are checked for it)."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if not RUNNING_GUNICORN:
        assert len(lines) == 1, result
    for fragment in fragments:
        assert fragment in " ".join(lines), result


def proc_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def status_once_switched(pid: int, gid: int, uid: int | None = None) -> dict[str, str]:
    """The worker's status after its switch to `gid` (and `uid`): it logs its boot line before
    it switches, and switches the group before the user, so right after that line the status
    may still show the master's ids."""

    def switched() -> dict[str, str] | None:
        status = proc_status(pid)
        done = status["Gid"].split()[0] == str(gid)
        if uid is not None:
            done = done and status["Uid"].split()[0] == str(uid)
        return status if done else None

    return wait_until(switched, timeout=10, message=f"worker {pid} to switch to {uid}:{gid}")


def cmdline_title(pid: int) -> str:
    """What `ps` shows: the argv area up to the first NUL (the whole title)."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0", 1)[0].decode()


def dead_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def wait_gone(pid: int, timeout: float = 15) -> None:
    wait_until(lambda: not pid_alive(pid), timeout=timeout, message=f"pid {pid} to exit")


def serve_probe(srv: Server, **params: str) -> str:
    r = requests.get(srv.url("/"), params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.text


def probe_fields(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


# ================================================================================== pidfile


def test_pidfile_holds_master_pid_and_is_removed_at_exit(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = server_factory("hello:app", "-w", "2", "-p", str(pidfile))
    assert pidfile.read_text() == f"{srv.master_pid}\n"
    assert stat.S_IMODE(pidfile.stat().st_mode) == 0o644
    assert requests.get(srv.url("/"), timeout=10).status_code == 200
    srv.signal(signal.SIGTERM)
    assert srv.wait() == 0
    assert not pidfile.exists(), srv.describe()


def test_exiting_worker_leaves_pidfile_alone(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = server_factory("hello:app", "-w", "2", "-p", str(pidfile))
    workers = srv.worker_pids()
    mark = srv.log_mark()
    srv.signal(signal.SIGTTOU)  # one worker leaves through the normal exit path
    srv.wait_for_log(r"Worker exiting \(pid: \d+\)", since=mark)
    wait_until(lambda: sum(pid_alive(p) for p in workers) == 1, timeout=10, message="a retirement")
    assert pidfile.read_text() == f"{srv.master_pid}\n", srv.describe()


def test_stale_pidfile_is_replaced(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    pidfile.write_text(f"{dead_pid()}\n")
    srv = server_factory("hello:app", "-p", str(pidfile))
    assert pidfile.read_text() == f"{srv.master_pid}\n"


def test_pidfile_of_a_live_process_refuses_to_start(tmp_path):
    pidfile = tmp_path / "app.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    result = run_server_command("-p", str(pidfile), "-b", "127.0.0.1:0", "hello:app")
    assert_one_line_error(
        result, f"Already running on PID {os.getpid()} (or pid file '{pidfile}' is stale)"
    )
    assert pidfile.read_text() == f"{os.getpid()}\n"


def test_pidfile_in_missing_directory_is_one_line(tmp_path):
    missing = tmp_path / "no" / "such"
    result = run_server_command("-p", str(missing / "app.pid"), "-b", "127.0.0.1:0", "hello:app")
    assert_one_line_error(result, f"{missing} doesn't exist. Can't create pidfile.")


def test_pidfile_rewritten_by_someone_else_is_kept_at_exit(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = server_factory("hello:app", "-p", str(pidfile))
    pidfile.write_text("4242\n")  # e.g. a newer server took over the path
    srv.signal(signal.SIGTERM)
    assert srv.wait() == 0
    assert pidfile.read_text() == "4242\n"


# ================================================================================== daemon


def _kill_daemon(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)


def test_daemon_detaches_serves_and_stops_on_term(tmp_path):
    pidfile = tmp_path / "app.pid"
    error_log = tmp_path / "error.log"
    started = time.monotonic()
    result = run_server_command(
        "-D", "-p", str(pidfile), "--error-logfile", str(error_log), "-b", "127.0.0.1:0", PROBE,
        timeout=10,
    )  # fmt: skip
    # capture_output waits for EOF: returning at all proves the daemon let go of stdout/err.
    assert result.returncode == 0, result
    assert time.monotonic() - started < 8
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=15))
    try:
        match = wait_until(
            lambda: LISTENING_RE.search(error_log.read_text()), timeout=15, message="Listening"
        )
        assert int(match.group("pid")) == pid
        body = requests.get(f"{match.group('url')}/", timeout=10).text
        assert probe_fields(body)["pid"] != str(pid)  # served by a worker of the daemon
        status = proc_status(pid)
        assert int(status["PPid"]) != os.getpid()  # not our child: it was forked twice
        assert os.getsid(pid) != os.getsid(0)  # its own session, away from our terminal
        assert status["Umask"] == "0022"
        assert os.readlink(f"/proc/{pid}/cwd") == str(APPS_DIR)  # the directory is kept
        assert os.readlink(f"/proc/{pid}/fd/1") == "/dev/null"
        # A daemon reads WINCH as "stop the workers gracefully"; the master stays.
        worker = int(probe_fields(body)["pid"])
        os.kill(pid, signal.SIGWINCH)
        wait_gone(worker)
        assert pid_alive(pid)
        assert "graceful stop of workers" in error_log.read_text()
        os.kill(pid, signal.SIGTERM)
        wait_gone(pid)
        assert not pidfile.exists()
        assert "Shutting down: Master" in error_log.read_text()
    finally:
        _kill_daemon(pid)


def test_daemon_with_stdio_inheritance_keeps_stdout(tmp_path):
    pidfile = tmp_path / "app.pid"
    out = tmp_path / "out.log"
    with open(out, "wb") as stdout:
        proc = subprocess.run(
            [sys.executable, "-m", SERVER_MODULE, "-D", "-R", "-p", str(pidfile),
             "-b", "127.0.0.1:0", "hello:app"],
            cwd=APPS_DIR, env=Server("x")._environment(), stdin=subprocess.DEVNULL,
            stdout=stdout, stderr=subprocess.STDOUT, timeout=10,
        )  # fmt: skip
    assert proc.returncode == 0
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=15))
    try:
        # The error log goes to stderr, which the daemon kept: our file.
        wait_until(lambda: LISTENING_RE.search(out.read_text()), timeout=15, message="Listening")
        assert os.readlink(f"/proc/{pid}/fd/2") == str(out)
        assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
        os.kill(pid, signal.SIGTERM)
        wait_gone(pid)
    finally:
        _kill_daemon(pid)


# ================================================================================== umask


def _start_on_unix_socket(server_factory, path: Path, *args: str) -> Server:
    srv = server_factory(PROBE, *args, "-b", f"unix:{path}", bind=None, wait=False)
    srv.wait_for_log(r"Listening at: unix:", timeout=20)
    srv.wait_for_log(r"Booting worker with pid: \d+", timeout=20)
    return srv


def _get_over_unix_socket(path: Path, query: str = "") -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(f"GET /?{query} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), data
    return body.decode()


@pytest.mark.parametrize(("umask", "mode"), [("0", 0o777), ("077", 0o700), ("0o027", 0o750)])
def test_umask_sets_unix_socket_mode(server_factory, tmp_path, umask, mode):
    path = tmp_path / "app.sock"
    _start_on_unix_socket(server_factory, path, "-m", umask)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_umask_leaves_app_files_alone(server_factory, tmp_path):
    # gunicorn applies umask to the socket file only; the app keeps the process umask.
    path = tmp_path / "app.sock"
    os_mask = os.umask(0o022)
    try:
        _start_on_unix_socket(server_factory, path, "-m", "077")
    finally:
        os.umask(os_mask)
    fields = probe_fields(_get_over_unix_socket(path, str(tmp_path / "made-by-app")))
    assert fields["umask"] == "0o22"
    assert fields["created"] == "0o644"


# ================================================================================== user/group


@needs_root_and_nobody
@pytest.mark.parametrize("by", ["name", "id"])
def test_workers_run_as_user_and_group(server_factory, by):
    uid, gid = NOBODY
    user = "nobody" if by == "name" else str(uid)
    group = grp.getgrgid(gid).gr_name if by == "name" else str(gid)
    srv = server_factory(PROBE, *AS_NOBODY, "-w", "2", "-u", user, "-g", group)
    for worker in srv.worker_pids():
        status = status_once_switched(worker, gid, uid)
        assert status["Uid"].split() == [str(uid)] * 4, status
        assert status["Gid"].split() == [str(gid)] * 4, status
        if not RUNNING_GUNICORN:  # gunicorn keeps root's groups (docs/differences.md)
            assert status["Groups"].split() == [str(gid)], status
    assert proc_status(srv.master_pid)["Uid"].split()[0] == "0"  # the master stays root
    fields = probe_fields(serve_probe(srv))
    assert (fields["uid"], fields["euid"]) == (str(uid), str(uid))
    assert (fields["gid"], fields["egid"]) == (str(gid), str(gid))


@needs_root_and_nobody
@pytest.mark.monoceros_only  # gunicorn's --initgroups never calls setgid (its primary gid stays)
def test_initgroups_sets_supplementary_groups(server_factory):
    _, gid = NOBODY
    # root keeps its uid here, so only --initgroups changes the supplementary groups: to the
    # groups that list root as a member, plus the requested group.
    plain = server_factory(PROBE, "-g", str(gid))
    members = {g.gr_gid for g in grp.getgrall() if "root" in g.gr_mem} | {gid}
    with_initgroups = server_factory(PROBE, "-g", str(gid), "--initgroups")
    assert status_once_switched(plain.worker_pids()[0], gid)["Groups"].split() == [
        str(g) for g in sorted(os.getgroups())
    ]
    status = status_once_switched(with_initgroups.worker_pids()[0], gid)
    assert sorted(int(g) for g in status["Groups"].split()) == sorted(members)
    assert status["Gid"].split()[0] == str(gid)


@needs_root_and_nobody
def test_unix_socket_and_log_files_belong_to_the_user(server_factory, tmp_path):
    uid, gid = NOBODY
    path = tmp_path / "app.sock"
    error_log = tmp_path / "error.log"
    access_log = tmp_path / "access.log"
    server_factory(
        PROBE, *AS_NOBODY, "-u", str(uid), "-g", str(gid), "-b", f"unix:{path}",
        "--error-logfile", str(error_log), "--access-logfile", str(access_log),
        bind=None, wait=False,
    )  # fmt: skip
    wait_until(
        lambda: error_log.exists() and "Booting worker" in error_log.read_text(),
        timeout=20,
        message="the worker to boot",
    )
    for owned in (path, error_log, access_log):
        info = owned.stat()
        assert (info.st_uid, info.st_gid) == (uid, gid), owned
    assert probe_fields(_get_over_unix_socket(path))["uid"] == str(uid)


@pytest.mark.monoceros_only  # a unit test of monoceros.process
def test_user_switch_failure_is_logged_as_a_boot_failure(monkeypatch, caplog):
    # Only a privileged master can switch users; an unprivileged one gets EPERM in each worker,
    # which then exits as a boot failure (status 3) after one readable line.
    from monoceros import process

    def refuse(uid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setuid", refuse)
    monkeypatch.setattr(os, "setgid", refuse)
    monkeypatch.setattr(os, "setgroups", refuse)
    cfg = type("Cfg", (), {"uid": os.getuid() + 1, "gid": os.getgid() + 1, "initgroups": False})
    with caplog.at_level("ERROR", logger="gunicorn.error"):
        assert process.become_worker_user(cfg) is False
    assert caplog.messages == [
        f"Can't run the worker as user {cfg.uid} and group {cfg.gid}: Operation not permitted"
    ]


# ================================================================================== titles


@pytest.mark.monoceros_only  # gunicorn sets titles only with setproctitle installed
def test_process_titles_use_the_app_module_by_default(server_factory):
    srv = server_factory("hello:app", "-w", "2")
    assert cmdline_title(srv.master_pid) == "monoceros: master [hello:app]"
    for worker in srv.worker_pids():
        assert cmdline_title(worker) == "monoceros: worker [hello:app]"
        assert Path(f"/proc/{worker}/comm").read_text() == "monoceros: work\n"
    assert Path(f"/proc/{srv.master_pid}/comm").read_text() == "monoceros: mast\n"


@pytest.mark.monoceros_only  # gunicorn sets titles only with setproctitle installed
def test_proc_name_names_the_processes(server_factory):
    srv = server_factory("hello:app", "-n", "shop")
    assert cmdline_title(srv.master_pid) == "monoceros: master [shop]"
    assert cmdline_title(srv.worker_pids()[0]) == "monoceros: worker [shop]"
    assert requests.get(srv.url("/"), timeout=10).status_code == 200


# ================================================================================== worker_tmp_dir


@pytest.mark.monoceros_only  # gunicorn's heartbeat is a file too, but not a mapping
def test_worker_tmp_dir_backs_the_heartbeat(server_factory, tmp_path):
    heartbeat_dir = tmp_path / "beats"
    heartbeat_dir.mkdir()
    srv = server_factory("hello:app", "-w", "2", "--worker-tmp-dir", str(heartbeat_dir))
    for worker in srv.worker_pids():
        maps = Path(f"/proc/{worker}/maps").read_text()
        assert str(heartbeat_dir) in maps, maps
    assert list(heartbeat_dir.iterdir()) == []  # nameless: nothing is left behind
    assert requests.get(srv.url("/"), timeout=10).status_code == 200


def test_worker_tmp_dir_heartbeat_still_detects_a_stuck_worker(server_factory, tmp_path):
    srv = server_factory("behaviours:app", "-t", "2", "--worker-tmp-dir", str(tmp_path))
    worker = srv.worker_pids()[0]
    with contextlib.suppress(requests.RequestException):
        requests.get(srv.url("/sleep?s=30"), timeout=6)
    wait_gone(worker, timeout=15)
    srv.wait_for_log(rf"WORKER TIMEOUT \(pid:{worker}\)")


def test_worker_tmp_dir_missing_is_one_line(tmp_path):
    missing = tmp_path / "missing"
    result = run_server_command("--worker-tmp-dir", str(missing), "-b", "127.0.0.1:0", "hello:app")
    if RUNNING_GUNICORN:
        assert result.returncode != 0 and f"{missing} doesn't exist" in result.stderr
        return
    assert_one_line_error(result, f"{missing} doesn't exist. Can't create workertmp.")


@pytest.mark.monoceros_only  # gunicorn finds out in its main loop, with a traceback
def test_worker_tmp_dir_unwritable_is_one_line():
    result = run_server_command("--worker-tmp-dir", "/proc", "-b", "127.0.0.1:0", "hello:app")
    assert_one_line_error(result, "/proc is not writable", "Can't create workertmp.")
