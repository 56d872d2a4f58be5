"""body_spool_limit: request bodies above 1 MiB wait on disk until the app runs, and the disk
one worker may use for them at once is bounded. Before, a 1 GiB upload to an app that never
reads it was written to $TMPDIR in full, and concurrent uploads added up without limit."""

from __future__ import annotations

import time

import pytest
from server import RawConnection, build_request

pytestmark = pytest.mark.monoceros_only  # a monoceros extension

APP = "behaviours:app"
MIB = 1024 * 1024
WORKERS = {
    "sync": ("-k", "sync"),
    "event": ("-k", "event"),
    "gthread": ("-k", "gthread", "--threads", "2"),
}


def post_head(length: int) -> bytes:
    return build_request("POST", "/echo", [("Content-Length", str(length))], content_length=False)


@pytest.mark.parametrize("worker", list(WORKERS))
def test_a_body_larger_than_the_whole_budget_gets_413_before_it_is_read(server_factory, worker):
    srv = server_factory(APP, *WORKERS[worker], "--body-spool-limit", "2")
    with RawConnection(srv.address) as conn:
        conn.send(post_head(1024 * MIB))  # 1 GiB announced; not one byte of it is sent
        resp = conn.read_response(method="POST", timeout=10)
    assert resp.status == 413
    srv.wait_for_log("Refused a request body")


@pytest.mark.parametrize("worker", list(WORKERS))
def test_uploads_that_together_pass_the_budget_get_503_until_room_is_made(server_factory, worker):
    srv = server_factory(APP, *WORKERS[worker], "--body-spool-limit", "2")
    with RawConnection(srv.address, timeout=30) as slow:
        # 1.5 MiB of a 1.6 MiB body arrive and wait on disk for the rest.
        slow.send(post_head(1600 * 1024) + b"a" * (1536 * 1024))
        time.sleep(0.5)
        with RawConnection(srv.address) as other:
            other.send(post_head(MIB + 1) + b"b" * (MIB + 1))
            refused = other.read_response(method="POST", timeout=10)
        assert refused.status == 503, refused.raw[:300]
        slow.send(b"a" * (64 * 1024))  # the slow upload completes and is answered
        done = slow.read_next_response(method="POST")
        assert done.status == 200 and len(done.body) == 1600 * 1024
    # Its disk space is given back: the same upload now fits.
    with RawConnection(srv.address) as again:
        again.send(post_head(MIB + 1) + b"c" * (MIB + 1))
        assert again.read_next_response(method="POST").body == b"c" * (MIB + 1)


def test_a_chunked_body_is_refused_once_it_passes_the_budget(server_factory):
    srv = server_factory(APP, "-k", "event", "--body-spool-limit", "1")
    piece = b"z" * (256 * 1024)
    head = build_request("POST", "/echo", [("Transfer-Encoding", "chunked")], content_length=False)
    with RawConnection(srv.address, timeout=30) as conn:
        conn.send(head)
        try:
            for _ in range(12):  # 3 MiB if nobody stopped it
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            pass  # refused and closed while we were still sending
        resp = conn.read_response(method="POST", timeout=10)
    assert resp.status == 413  # this body alone is larger than the 1 MiB budget


def test_no_limit_with_zero(server_factory):
    srv = server_factory(APP, "-k", "event", "--body-spool-limit", "0")
    body = b"q" * (3 * MIB)
    with RawConnection(srv.address, timeout=30) as conn:
        conn.send(post_head(len(body)) + body)
        assert conn.read_next_response(method="POST").body == body


def test_a_spooled_body_the_app_keeps_outlives_the_worker_safely(server_factory):
    # The body's spool file holds part of the worker's budget until the wsgi.input object is
    # freed, which here is only when the worker's interpreter finalizes, after its loop (and
    # once its budget) is gone. Under scripts/e2e-sanitized a use after free shows here.
    srv = server_factory(APP, "-k", "event", "--body-spool-limit", "8")
    body = b"k" * (2 * MIB)
    with RawConnection(srv.address, timeout=30) as conn:
        conn.send(build_request("POST", "/keep-input", [("Content-Length", str(len(body)))],
                                body, content_length=False))  # fmt: skip
        assert conn.read_next_response(method="POST").body == str(len(body)).encode()
    assert srv.stop(timeout=30) == 0
