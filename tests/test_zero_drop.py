"""Zero-drop shutdown: on SIGTERM the master stops listening, and the workers still answer the
connections the kernel had already queued for them (the clients sent their requests), then
exit within graceful_timeout. gunicorn resets those connections."""

from __future__ import annotations

import signal
import threading

import pytest
import requests

pytestmark = pytest.mark.monoceros_only  # gunicorn drops queued connections (the point here)


@pytest.mark.parametrize("worker_class", ["sync", "event"])
def test_term_answers_every_queued_request(server_factory, worker_class):
    srv = server_factory(
        "behaviours:app", "-k", worker_class, "--graceful-timeout", "60", "--backlog", "64"
    )
    results: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        try:
            response = requests.get(srv.url(f"/sleep?s=0.2&i={i}"), timeout=60)
            outcome = str(response.status_code)
        except requests.RequestException as error:
            outcome = repr(error)
        with lock:
            results.append(outcome)

    clients = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for thread in clients:
        thread.start()
    # One request is in the app; the others wait in the listen queue (one worker, sync).
    srv.wait_for_log("sleep route: started")
    srv.signal(signal.SIGTERM)
    for thread in clients:
        thread.join(90)
    assert sorted(results) == ["200"] * 12, results
    assert srv.wait(timeout=60) == 0
