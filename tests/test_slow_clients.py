"""Slow clients never hold a worker (issue 6, deliverable 3), for the sync, event and gthread
workers.

Heads and bodies are read by the worker's event loop and reach the app only when complete;
responses are queued and written as the client reads; a streaming iterator is paused while a
connection's output queue is full. So with ONE worker, clients that dawdle (never finish a
head, trickle a body, stop reading a response) delay nobody but themselves.

No timing assertions: each check is "the normal request is answered (within a generous bound)
while the slow connections are still open", never a latency figure.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import select
import socket
import threading
import time

import pytest
import requests
from server import RawConnection, build_request, wait_until

pytestmark = pytest.mark.monoceros_only  # gunicorn's sync worker is held by a slow client

ANSWER_TIMEOUT = 10.0  # generous: the bound on "answered promptly", not a latency figure
# Still generous (the issue asks for 1 s), yet shorter than the 10 s a sync worker once took to
# get through 200 silent connections when it paused accepting for 50 ms after each.
NORMAL_ANSWER_BOUND = 5.0
MiB = 1024 * 1024
SANITIZED = bool(os.environ.get("MONOCEROS_SANITIZED"))  # scripts/e2e-sanitized


@pytest.fixture(params=["sync", "event", "gthread"])
def worker_class(request) -> str:
    return request.param


# ------------------------------------------------------------------------------- helpers


def _connect(address: tuple[str, int], receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        # Set before connecting so the window is small from the start: the server's writes
        # then block after little data and the stall is reached quickly.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(ANSWER_TIMEOUT)
    sock.connect(address)
    return sock


def _close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()


def _still_open(sock: socket.socket) -> bool:
    """True if the server has neither closed nor reset the connection (nothing to read)."""
    try:
        sock.setblocking(False)
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(ANSWER_TIMEOUT)


def _get(address: tuple[str, int], path: str, timeout: float = ANSWER_TIMEOUT) -> bytes:
    """One normal request on a fresh connection; returns the body (status must be 200)."""
    with RawConnection(address, timeout=timeout) as conn:
        conn.send(build_request("GET", path, [("Connection", "close")]))
        response = conn.read_response(timeout=timeout)
    assert response.status == 200, response.raw[:500]
    return response.body


def _worker_rss(srv) -> int:
    """The single worker's resident set size in bytes (/proc/<pid>/status VmRSS)."""
    (pid,) = srv.worker_pids()
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to the end of the response head; returns (head, body bytes read past it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(4096)
        assert got, f"closed before the response head: {data[:500]!r}"
        data += got
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return head, rest


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(f"no Content-Length in {head!r}")


def _read_body(sock: socket.socket, length: int, digest, already: bytes) -> None:
    """Read the rest of a `length`-byte body into `digest` (streamed: 50 MiB never sits in
    one buffer)."""
    digest.update(already)
    received = len(already)
    while received < length:
        got = sock.recv(min(256 * 1024, length - received))
        assert got, f"closed after {received} of {length} body bytes"
        digest.update(got)
        received += len(got)


class Trickle:
    """Sends a few bytes on each of `sockets` every `interval` seconds until stopped."""

    def __init__(self, sockets: list[socket.socket], piece: bytes, interval: float = 0.1):
        self.sockets = sockets
        self.piece = piece
        self.interval = interval
        self.sent = 0  # rounds completed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(self.piece)
            self.sent += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


# --------------------------------------------------------- 1. unfinished heads, slow uploads

SILENT_HEADS = 200  # connect and never send a byte of the head
HALF_HEADS = 50  # stop in the middle of the head
SLOW_UPLOADS = 50
UPLOAD_LENGTH = 100_000  # far more than is trickled during the test
TRICKLE = b"abcd"


def test_unfinished_heads_and_slow_uploads_do_not_stop_a_normal_request(
    server_factory, worker_class
):
    srv = server_factory("behaviours:app", "-k", worker_class, "-w", "1")
    heads: list[socket.socket] = []
    uploads: list[socket.socket] = []
    try:
        for _ in range(SILENT_HEADS):
            heads.append(_connect(srv.address))
        for _ in range(HALF_HEADS):
            sock = _connect(srv.address)
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: slow\r\nX-Never: ends")
            heads.append(sock)
        for _ in range(SLOW_UPLOADS):
            sock = _connect(srv.address)
            sock.sendall(build_request("POST", "/echo", [("Content-Length", str(UPLOAD_LENGTH))]))
            uploads.append(sock)
        with Trickle(uploads, TRICKLE) as trickle:
            wait_until(lambda: trickle.sent >= 3, ANSWER_TIMEOUT, message="a few trickles")
            # The normal request queues behind all 300 in the accept queue: it is answered
            # only once the worker has accepted and parked every one of them.
            assert _get(srv.address, "/hello", timeout=NORMAL_ANSWER_BOUND) == b"hello"
            still_open = [s for s in heads + uploads if _still_open(s)]
            assert len(still_open) == SILENT_HEADS + HALF_HEADS + SLOW_UPLOADS
        # The uploads were only slow: finished now, each is echoed whole.
        trickled = TRICKLE * trickle.sent
        expected = hashlib.sha256(trickled + b"x" * (UPLOAD_LENGTH - len(trickled))).hexdigest()
        for sock in uploads:
            sock.sendall(b"x" * (UPLOAD_LENGTH - len(trickled)))
            head, already = _read_head(sock)
            assert _content_length(head) == UPLOAD_LENGTH
            digest = hashlib.sha256()
            _read_body(sock, UPLOAD_LENGTH, digest, already)
            assert digest.hexdigest() == expected
    finally:
        _close_all(heads + uploads)


# ------------------------------------------------------------ 2. a reader that stops reading

STREAM_LENGTH = 50 * MiB
RSS_GROWTH_LIMIT = 16 * MiB  # the queue's high water is 512 KiB; 50 MiB drained would show


def _expected_stream_digest() -> str:
    from stream_app import CHUNKS, chunk  # tests/apps is on the server's path, not ours

    digest = hashlib.sha256()
    for index in range(CHUNKS):
        digest.update(chunk(index))
    return digest.hexdigest()


def test_a_stalled_reader_of_a_stream_delays_nobody_and_holds_little_memory(
    server_factory, worker_class, monkeypatch
):
    from server import APPS_DIR

    monkeypatch.syspath_prepend(str(APPS_DIR))
    srv = server_factory("stream_app:app", "-k", worker_class, "-w", "1")
    assert _get(srv.address, "/") == b"hello"  # warm: the app is imported, the loop running
    baseline = _worker_rss(srv)
    stalled = _connect(srv.address, receive_buffer=64 * 1024)
    try:
        stalled.sendall(build_request("GET", "/stream", [("Connection", "close")]))
        head, already = _read_head(stalled)
        assert _content_length(head) == STREAM_LENGTH
        # It stops reading now. Others are answered while it stalls, over a window long
        # enough for a drained 50 MiB generator to have shown up in the RSS many times over.
        peak = baseline
        window_end = time.monotonic() + 2.0
        answered = 0
        while time.monotonic() < window_end and answered < 200:
            assert _get(srv.address, "/") == b"hello"
            answered += 1
            peak = max(peak, _worker_rss(srv))
        assert _still_open(stalled)
        assert "stream: finished" not in srv.log_text(), "the iterator was drained, not paused"
        assert peak - baseline < RSS_GROWTH_LIMIT, f"RSS grew {(peak - baseline) / MiB:.1f} MiB"
        # Resumed, it gets every byte.
        digest = hashlib.sha256()
        _read_body(stalled, STREAM_LENGTH, digest, already)
        assert digest.hexdigest() == _expected_stream_digest()
        srv.wait_for_log("stream: finished", timeout=ANSWER_TIMEOUT)
    finally:
        stalled.close()


def _read_chunked_body(sock: socket.socket, digest, already: bytes) -> None:
    """Read a chunked body to its last chunk into `digest` (its framing checked on the way)."""
    buffer = bytearray(already)

    def fill(count: int) -> None:
        while len(buffer) < count:
            got = sock.recv(256 * 1024)
            assert got, f"closed inside a chunked body: {bytes(buffer[:100])!r}"
            buffer.extend(got)

    while True:
        while b"\r\n" not in buffer:
            fill(len(buffer) + 1)
        line_end = buffer.index(b"\r\n")
        size = int(bytes(buffer[:line_end]), 16)
        del buffer[: line_end + 2]
        fill(size + 2)
        assert buffer[size : size + 2] == b"\r\n", bytes(buffer[size : size + 10])
        if size == 0:
            return
        digest.update(buffer[:size])
        del buffer[: size + 2]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_write_calls_to_a_stalled_reader_return_and_hold_little_memory(
    server_factory, worker_class, framing, monkeypatch
):
    # PEP 3333 lets write() block until the client has the bytes, but then the worker's other
    # clients (sync, event) or the thread (gthread) would wait too. Past the queue's high-water
    # mark the bytes go to a spool file, sent from there as the client reads.
    from server import APPS_DIR

    monkeypatch.syspath_prepend(str(APPS_DIR))
    srv = server_factory("stream_app:app", "-k", worker_class, "-w", "1")
    assert _get(srv.address, "/") == b"hello"
    baseline = _worker_rss(srv)
    stalled = _connect(srv.address, receive_buffer=64 * 1024)
    try:
        path = "/write?chunked" if framing == "chunked" else "/write"
        stalled.sendall(build_request("GET", path, [("Connection", "close")]))
        head, already = _read_head(stalled)
        # All 800 write() calls return while the client reads nothing more.
        peak = baseline
        deadline = time.monotonic() + 3 * ANSWER_TIMEOUT
        while "write: finished" not in srv.log_text():
            assert time.monotonic() < deadline, "write() waited for the stalled client"
            peak = max(peak, _worker_rss(srv))
            time.sleep(0.02)
        for _ in range(20):
            assert _get(srv.address, "/") == b"hello"
            peak = max(peak, _worker_rss(srv))
        assert _still_open(stalled)
        # ASan keeps freed memory in quarantine: the app's 800 chunks, freed once spooled,
        # show up in the sanitized worker's RSS, so only an ordinary build can judge it.
        if not SANITIZED:
            grew = peak - baseline
            assert grew < RSS_GROWTH_LIMIT, f"RSS grew {grew / MiB:.1f} MiB"
        # Resumed, it gets every byte, in order.
        digest = hashlib.sha256()
        if framing == "chunked":
            assert b"\r\ntransfer-encoding: chunked" in head.lower(), head
            _read_chunked_body(stalled, digest, already)
        else:
            assert _content_length(head) == STREAM_LENGTH
            _read_body(stalled, STREAM_LENGTH, digest, already)
        assert digest.hexdigest() == _expected_stream_digest()
    finally:
        stalled.close()


# ------------------------------------------------------- 3. clients that send nothing (more)

SILENCES = {
    "nothing": b"",
    "half a head": b"GET /hello HTTP/1.1\r\nHost: a\r\n",
    "half a body": b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
}


@pytest.mark.parametrize("sent", SILENCES.values(), ids=SILENCES.keys())
def test_a_silent_client_is_closed_after_the_timeout(server_factory, worker_class, sent):
    # --timeout bounds how long a request may take to arrive (and a response to be taken).
    srv = server_factory("behaviours:app", "-k", worker_class, "-w", "1", "--timeout", "2")
    with RawConnection(srv.address, timeout=ANSWER_TIMEOUT) as conn:
        if sent:
            conn.send(sent)
        assert _get(srv.address, "/hello") == b"hello"  # it holds nobody meanwhile
        assert conn.server_closed(timeout=ANSWER_TIMEOUT)
    assert srv.worker_pids(), "the worker itself must not be the one timed out"


def _server_closed_its_side(srv, sock: socket.socket) -> bool:
    """True once the server's end of `sock` is no longer ESTABLISHED (/proc/net/tcp): after
    it closes, the bytes already in its send buffer still wait for the window, so the client
    cannot tell by reading without taking them."""
    server_end = f"0100007F:{srv.address[1]:04X} 0100007F:{sock.getsockname()[1]:04X} "
    with open("/proc/net/tcp") as table:
        for line in table:
            fields = line.split()
            if f"{fields[1]} {fields[2]} " == server_end:
                return fields[3] != "01"
    return True  # gone altogether


def test_a_reader_that_never_resumes_is_closed_after_the_timeout(server_factory, worker_class):
    srv = server_factory("stream_app:app", "-k", worker_class, "-w", "1", "--timeout", "2")
    stalled = _connect(srv.address, receive_buffer=64 * 1024)
    try:
        stalled.sendall(build_request("GET", "/stream", [("Connection", "close")]))
        _read_head(stalled)
        assert _get(srv.address, "/") == b"hello"
        wait_until(
            lambda: _server_closed_its_side(srv, stalled),
            3 * ANSWER_TIMEOUT,
            message="the server to give up on the stalled reader",
        )
        # Reading on finds the end (or a reset) well before 50 MiB.
        received = 0
        with contextlib.suppress(ConnectionResetError):
            while got := stalled.recv(256 * 1024):
                received += len(got)
        assert received < STREAM_LENGTH
    finally:
        stalled.close()


def _write_response_without_sendfile(server_factory):
    """A server with --no-sendfile (so no spool: it is sent with sendfile) and a 1 s timeout,
    and a client with a small window that asked for /write and read the head."""
    srv = server_factory(
        "stream_app:app", "-k", "event", "-w", "1", "--no-sendfile", "--timeout", "1"
    )
    sock = _connect(srv.address, receive_buffer=64 * 1024)
    sock.sendall(build_request("GET", "/write", [("Connection", "close")]))
    head, already = _read_head(sock)
    assert _content_length(head) == STREAM_LENGTH
    return srv, sock, already


def test_without_sendfile_write_waits_for_a_reader_that_keeps_reading(server_factory, monkeypatch):
    # write() then waits for the client, as PEP 3333 allows; a client slower than `timeout`
    # in all, but never idle that long, gets the whole response.
    from server import APPS_DIR

    monkeypatch.syspath_prepend(str(APPS_DIR))
    srv, slow, already = _write_response_without_sendfile(server_factory)
    try:
        digest = hashlib.sha256(already)
        received = len(already)
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # 2.5 timeouts of steady, slow reading
            got = slow.recv(64 * 1024)
            assert got, f"closed after {received} bytes"
            digest.update(got)
            received += len(got)
            time.sleep(0.01)
        _read_body(slow, STREAM_LENGTH - received, digest, b"")
        assert digest.hexdigest() == _expected_stream_digest()
        srv.wait_for_log("write: finished", timeout=ANSWER_TIMEOUT)
        # The worker was waiting, not stuck: the arbiter left it alone.
        assert "WORKER TIMEOUT" not in srv.log_text()
    finally:
        slow.close()


def test_without_sendfile_write_gives_up_on_a_reader_that_stops(server_factory):
    srv, stalled, _ = _write_response_without_sendfile(server_factory)
    try:
        # write() raises once the client has read nothing for `timeout`; the app's error is
        # logged and the worker serves others again.
        srv.wait_for_log("Error handling request", timeout=ANSWER_TIMEOUT)
        assert "write: finished" not in srv.log_text()
        assert _get(srv.address, "/") == b"hello"
        assert "WORKER TIMEOUT" not in srv.log_text()
    finally:
        stalled.close()


# ------------------------------------------------------------ 4. a file to a slow reader

FILE_LENGTH = 32 * MiB


def test_a_file_wrapper_to_a_slow_reader_delays_nobody(server_factory, worker_class, tmp_path):
    path = tmp_path / "large.bin"
    piece = bytes(range(256)) * 4096  # 1 MiB
    with open(path, "wb") as f:
        for index in range(FILE_LENGTH // len(piece)):
            f.write(index.to_bytes(4, "big") + piece[4:])
    expected = hashlib.sha256(path.read_bytes()).hexdigest()

    srv = server_factory("behaviours:app", "-k", worker_class, "-w", "1")
    slow = _connect(srv.address, receive_buffer=64 * 1024)
    try:
        slow.sendall(build_request("GET", f"/file?path={path}", [("Connection", "close")]))
        head, already = _read_head(slow)
        assert _content_length(head) == FILE_LENGTH
        digest = hashlib.sha256(already)
        received = len(already)
        # It reads a little between others' requests; they are answered all the same.
        for _ in range(20):
            assert _get(srv.address, "/hello") == b"hello"
            got = slow.recv(16 * 1024)
            assert got
            digest.update(got)
            received += len(got)
        assert received < FILE_LENGTH  # still in the middle of it
        _read_body(slow, FILE_LENGTH - received, digest, b"")
        assert digest.hexdigest() == expected
    finally:
        slow.close()


@pytest.mark.skipif(
    SANITIZED,
    reason="under ASan/UBSan the sanitizer runtime itself needs descriptors (its checks open "
    "files), so a worker starved of them reports a false error instead",
)
@pytest.mark.parametrize("worker_class", ["sync", "event", "gthread"])
def test_running_out_of_descriptors_backs_off_and_recovers(server_factory, worker_class):
    srv = server_factory("stream_app:app", "-k", worker_class)
    worker = srv.worker_pids()[0]
    open_now = len(os.listdir(f"/proc/{worker}/fd"))
    soft, hard = resource.prlimit(worker, resource.RLIMIT_NOFILE)
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (open_now + 5, hard))
    held = []
    try:
        for _ in range(40):  # far more than the worker can take
            held.append(socket.create_connection(srv.address, timeout=10))
        srv.wait_for_log("not accepting for a moment", timeout=10)
        time.sleep(1)  # a spinning accept loop would log thousands of lines meanwhile
        failures = srv.log_text().count("accept() failed")
        assert 1 <= failures <= 5, failures
    finally:
        for sock in held:
            sock.close()
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (soft, hard))
    response = wait_until(lambda: _try_get(srv.url("/")), 15, message="an answer again")
    assert response.status_code == 200


def _try_get(url: str):
    try:
        return requests.get(url, timeout=5)
    except requests.RequestException:
        return None


@pytest.mark.parametrize("worker_class", ["sync", "event", "gthread"])
def test_a_head_trickled_byte_by_byte_is_cut_off_after_the_timeout(server_factory, worker_class):
    # Each byte restarts the per-read timeout; the whole head still has `timeout` seconds.
    srv = server_factory("stream_app:app", "-k", worker_class, "--timeout", "2")
    closed = False
    with socket.create_connection(srv.address, timeout=10) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\n")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"X")
                readable, _, _ = select.select([sock], [], [], 0.5)
                closed = bool(readable) and sock.recv(4096) == b""
            except (ConnectionResetError, BrokenPipeError):
                closed = True
    assert closed, "the server kept a trickling head open past --timeout"
    assert requests.get(srv.url("/"), timeout=10).status_code == 200
