"""A large streamed response, for the slow-reader tests (tests/test_slow_clients.py).

/stream   50 MiB with Content-Length, yielded by a generator in 64 KiB chunks; chunk i is
          its 4-byte big-endian index repeated (see `chunk`), so a client can check every
          byte. The generator prints "stream: finished" to stderr once it has yielded the
          last chunk: while it has not, the server has paused it rather than drained it.
/write    the same 50 MiB through the write() callable (?chunked: without Content-Length, so
          HTTP/1.1 frames it chunked); prints "write: finished" to stderr when the last
          write() has returned: before the client has read it all, write() did not wait.
anything else  200 "hello"
"""

import sys

CHUNK_SIZE = 64 * 1024
CHUNKS = 800  # 50 MiB


def chunk(index: int) -> bytes:
    return index.to_bytes(4, "big") * (CHUNK_SIZE // 4)


def _stream():
    for index in range(CHUNKS):
        yield chunk(index)
    print("stream: finished", file=sys.stderr, flush=True)


def _write_all(environ, start_response):
    headers = [("Content-Type", "application/octet-stream")]
    if environ.get("QUERY_STRING") != "chunked":
        headers.append(("Content-Length", str(CHUNK_SIZE * CHUNKS)))
    write = start_response("200 OK", headers)
    for index in range(CHUNKS):
        write(chunk(index))
    print("write: finished", file=sys.stderr, flush=True)
    return []


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/write":
        return _write_all(environ, start_response)
    if environ.get("PATH_INFO") == "/stream":
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", str(CHUNK_SIZE * CHUNKS)),
            ],
        )
        return _stream()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


application = app
