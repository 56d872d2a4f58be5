"""Hold many idle keep-alive connections open against a server (the idle-10k scenario).

Usage: python idle.py HOST PORT PATH COUNT SETUP_SECONDS

Opens COUNT connections, sends one keep-alive GET on each and reads the answer, for at most
SETUP_SECONDS (less when the server makes no progress for a second). Then prints
`READY {json}` and waits for a line on stdin (the load runs meanwhile); then counts how many
of the answered connections the server still holds open, prints `DONE {json}` and exits,
which closes them all. Loopback only; bounded in time.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import sys
import time

STALL_SECONDS = 1.0


class Conn:
    __slots__ = ("sock", "buf", "state")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.state = "connecting"  # -> sent -> answered | closed | failed


def _complete(buf: bytes) -> bool:
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def setup(host: str, port: int, path: str, count: int, seconds: float) -> list[Conn]:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    conns: list[Conn] = []
    deadline = time.monotonic() + seconds
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        conn = Conn(sock)
        conns.append(conn)
        err = sock.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            conn.state = "failed"
            continue
        sel.register(sock, selectors.EVENT_WRITE, conn)
    open_count = sum(c.state == "connecting" for c in conns)
    progress = time.monotonic()
    while open_count and time.monotonic() < deadline:
        now = time.monotonic()
        if now - progress > STALL_SECONDS:
            break  # the server has stopped answering (a sync worker held by one connection)
        for key, _ in sel.select(timeout=0.05):
            progress = now
            conn = key.data
            if conn.state == "connecting":
                if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    conn.state = "failed"
                    sel.unregister(conn.sock)
                    open_count -= 1
                    continue
                conn.sock.send(request)
                conn.state = "sent"
                sel.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except OSError:
                data = b""
            if data:
                conn.buf += data
                if not _complete(conn.buf):
                    continue
                conn.state = "answered"
            else:
                conn.state = "closed"
            sel.unregister(conn.sock)
            open_count -= 1
    sel.close()
    return conns


def still_open(conn: Conn) -> bool:
    try:
        return conn.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main() -> None:
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, seconds = int(sys.argv[4]), float(sys.argv[5])
    started = time.monotonic()
    conns = setup(host, port, path, count, seconds)
    answered = [c for c in conns if c.state == "answered"]
    ready = {
        "setup_s": round(time.monotonic() - started, 3),
        "answered": len(answered),
        "closed": sum(c.state == "closed" for c in conns),
        "failed": sum(c.state == "failed" for c in conns),
        "unanswered": sum(c.state in ("connecting", "sent") for c in conns),
        "held_before_load": sum(still_open(c) for c in answered),
    }
    print("READY " + json.dumps(ready), flush=True)
    sys.stdin.readline()
    done = dict(ready, held_after_load=sum(still_open(c) for c in answered))
    print("DONE " + json.dumps(done), flush=True)
    for c in conns:
        c.sock.close()


if __name__ == "__main__":
    main()
