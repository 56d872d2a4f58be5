"""max_requests and max_requests_jitter: a worker that has served its share is replaced. As
with max_worker_memory, the replacement starts first and the old worker is retired once the
new one is ready, so capacity never dips and no request fails meanwhile (gunicorn stops the
worker first). Runs against gunicorn too (MONOCEROS_TEST_SERVER=gunicorn)."""

from __future__ import annotations

import requests
from server import RUNNING_GUNICORN, pid_alive, wait_until

AUTORESTART = "Autorestarting worker after current request."


def _pid(srv) -> int:
    response = requests.get(srv.url("/pid"), timeout=10)
    assert response.status_code == 200
    return int(response.text.split()[-1])


def test_worker_is_replaced_after_max_requests(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "3")
    first = srv.worker_pids()[0]
    assert [_pid(srv) for _ in range(3)] == [first] * 3
    srv.wait_for_log(AUTORESTART)
    wait_until(lambda: not pid_alive(first), 15, message="the worker retired")
    wait_until(lambda: len(srv.booted_worker_pids()) == 2, 15, message="the replacement worker")
    booted = srv.booted_worker_pids()
    if not RUNNING_GUNICORN:  # the replacement was up before the old worker left
        log = srv.log_text()
        assert log.index(f"Booting worker with pid: {booted[1]}") < log.index(
            f"Worker exiting (pid: {first})"
        )
    assert {_pid(srv) for _ in range(3)} == {booted[1]}


def test_jitter_keeps_the_limit_between_max_and_max_plus_jitter(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "2", "--max-requests-jitter", "2")
    served = 0
    while AUTORESTART not in srv.log_text():
        _pid(srv)
        served += 1
        assert served <= 4, "no restart after max_requests + jitter requests"
        wait_until(lambda: True, 0.1)  # let the log line arrive before the next request
    assert served >= 2, f"the worker asked to restart after {served} requests"


def test_zero_means_never(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "0", "--max-requests-jitter", "5")
    first = srv.worker_pids()[0]
    assert {_pid(srv) for _ in range(20)} == {first}
    assert AUTORESTART not in srv.log_text()
