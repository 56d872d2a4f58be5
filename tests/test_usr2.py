"""SIGUSR2, the binary upgrade: a new master starts from the same command line with the old
master's sockets, both serve until the old one is told to stop, and the new one then takes
over the pidfile. No request fails on the way. Runs against gunicorn too
(MONOCEROS_TEST_SERVER=gunicorn)."""

from __future__ import annotations

import os
import re
import signal

from server import Load, pid_alive, wait_until


def _read_pid(path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _masters(srv) -> list[int]:
    return [int(m) for m in re.findall(r"Listening at: \S+ \((\d+)\)", srv.log_text())]


def test_upgrade_then_retire_the_old_master(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = server_factory("behaviours:app", "-w", "2", "--pid", str(pidfile))
    old = srv.master_pid
    assert _read_pid(pidfile) == old
    try:
        with Load(srv.url("/pid")) as load:
            load.wait_for_more()
            srv.signal(signal.SIGUSR2)
            new = wait_until(lambda: _read_pid(tmp_path / "app.pid.2"), 30, message="app.pid.2")
            assert new != old and pid_alive(new)
            wait_until(lambda: new in _masters(srv), 30, message="the new master listening")
            load.wait_for_more()
            # Retire the old master: the new one is promoted and takes the usual pidfile.
            os.kill(old, signal.SIGTERM)
            wait_until(lambda: not pid_alive(old) or srv.proc.poll() is not None, 30)
            # (read the log directly: the process the harness started has exited by now)
            wait_until(lambda: "Master has been promoted." in srv.log_text(), 30)
            wait_until(lambda: _read_pid(pidfile) == new, 30, message="the pidfile to move")
            assert not (tmp_path / "app.pid.2").exists()
            load.wait_for_more()
        assert load.failures == []
    finally:
        new_master = _read_pid(pidfile) or _read_pid(tmp_path / "app.pid.2")
        if new_master and new_master != old and pid_alive(new_master):
            os.kill(new_master, signal.SIGTERM)
            wait_until(lambda: not pid_alive(new_master), 30, message="the new master to stop")


def test_second_usr2_is_ignored_while_the_new_master_runs(server_factory, tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = server_factory("hello:app", "--pid", str(pidfile))
    try:
        srv.signal(signal.SIGUSR2)
        new = wait_until(lambda: _read_pid(tmp_path / "app.pid.2"), 30, message="app.pid.2")
        wait_until(lambda: new in _masters(srv), 30, message="the new master listening")
        srv.signal(signal.SIGUSR2)
        srv.wait_for_log("USR2 signal ignored. Child exists.", timeout=15)
        # The new master will not start a third one while its parent lives.
        os.kill(new, signal.SIGUSR2)
        srv.wait_for_log("USR2 signal ignored. Parent exists.", timeout=15)
    finally:
        new = _read_pid(tmp_path / "app.pid.2")
        if new and pid_alive(new):
            os.kill(new, signal.SIGTERM)
            wait_until(lambda: not pid_alive(new), 30, message="the new master to stop")


def test_pre_exec_runs_in_the_child_before_exec(server_factory, tmp_path):
    marker = tmp_path / "pre_exec.txt"
    conf = tmp_path / "conf.py"
    conf.write_text(
        "import os\n"
        "def pre_exec(server):\n"
        f"    open({str(marker)!r}, 'w').write(str(os.getpid()) + ' ' + str(server.pid))\n"
    )
    srv = server_factory("hello:app", "-c", str(conf), "--pid", str(tmp_path / "app.pid"))
    try:
        srv.signal(signal.SIGUSR2)
        text = wait_until(lambda: marker.exists() and marker.read_text(), 30, message="pre_exec")
        child, master = (int(x) for x in text.split())
        assert master == srv.master_pid and child != master
        # exec keeps the pid: the process that ran pre_exec is the new master.
        new = wait_until(lambda: _read_pid(tmp_path / "app.pid.2"), 30, message="app.pid.2")
        assert new == child
    finally:
        new = _read_pid(tmp_path / "app.pid.2")
        if new and pid_alive(new):
            os.kill(new, signal.SIGTERM)
            wait_until(lambda: not pid_alive(new), 30, message="the new master to stop")
