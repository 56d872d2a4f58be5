"""Zero-drop shutdown: on SIGTERM the master stops listening, and the workers still answer the
connections the kernel had already queued for them (the clients sent their requests), then
exit within graceful_timeout. gunicorn resets those connections."""

from __future__ import annotations

import signal

import pytest
from server import RawConnection, get_request

pytestmark = pytest.mark.monoceros_only  # gunicorn drops queued connections (the point here)


@pytest.mark.parametrize("worker_class", ["sync", "event"])
def test_term_answers_every_queued_request(server_factory, worker_class):
    srv = server_factory(
        "behaviours:app", "-k", worker_class, "--graceful-timeout", "60", "--backlog", "64"
    )
    first = RawConnection(srv.address, timeout=60)
    first.send(get_request("/sleep?s=0.5&i=0", "Connection: close"))
    srv.wait_for_log("sleep route: started")
    # One request is in the app; these eleven are connected (the kernel completed their
    # handshakes) and have sent their requests, but the worker has not accepted them yet.
    queued = [RawConnection(srv.address, timeout=60) for _ in range(11)]
    for i, conn in enumerate(queued, start=1):
        conn.send(get_request(f"/sleep?s=0.2&i={i}", "Connection: close"))
    srv.signal(signal.SIGTERM)
    results = [conn.read_response(timeout=60).status for conn in [first, *queued]]
    for conn in [first, *queued]:
        conn.close()
    assert results == [200] * 12, results
    assert srv.wait(timeout=60) == 0
