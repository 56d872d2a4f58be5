"""max_requests and max_requests_jitter: a worker that has served its share retires gracefully
after the current request and the arbiter forks a replacement; no request fails meanwhile.
Runs against gunicorn too (MONOCEROS_TEST_SERVER=gunicorn)."""

from __future__ import annotations

import requests
from server import pid_alive, wait_until


def _pid(srv) -> int:
    response = requests.get(srv.url("/pid"), timeout=10)
    assert response.status_code == 200
    return int(response.text.split()[-1])


def test_worker_is_replaced_after_max_requests(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "3")
    first = srv.worker_pids()[0]
    served = [_pid(srv) for _ in range(3)]
    assert served == [first] * 3
    wait_until(lambda: not pid_alive(first), 15, message="the worker retired after 3 requests")
    assert "Autorestarting worker after current request." in srv.log_text()
    # The replacement serves; no request was refused on the way.
    later = [_pid(srv) for _ in range(3)]
    assert first not in later and len(set(later)) == 1


def test_jitter_keeps_the_limit_between_max_and_max_plus_jitter(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "2", "--max-requests-jitter", "2")
    first = srv.worker_pids()[0]
    served = 0
    while _pid(srv) == first:
        served += 1
        assert served <= 4, "a worker served more than max_requests + jitter requests"
    assert served >= 2, f"the worker retired after {served} requests, fewer than max_requests"


def test_zero_means_never(server_factory):
    srv = server_factory("behaviours:app", "--max-requests", "0", "--max-requests-jitter", "5")
    first = srv.worker_pids()[0]
    assert {_pid(srv) for _ in range(20)} == {first}
