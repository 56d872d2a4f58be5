"""Small WSGI apps used by the protocol, environ, error and lifecycle tests, dispatched on
PATH_INFO by `app`. Each route does one thing the server must handle exactly as gunicorn does.

Routes (query parameters in brackets):
  /hello                    200 text/plain "hello" with Content-Length
  /sleep [s=seconds]        logs "sleep route: started", sleeps, then 200 "slept <s>"
  /pid [sleep=seconds]      the worker pid as text (after sleeping)
  /crash-before             raises BehaviourCrash before start_response
  /crash-after [cl=N]       sends headers and one piece of body, then raises mid-iteration
                            (cl: declare Content-Length N, else no Content-Length)
  /write                    uses the write() callable, then returns an iterable
  /file [path=P, cl=0|1]    returns wsgi.file_wrapper(open(P, "rb")), Content-Length unless cl=0
  /nobody [status=204]      a HEAD/204/304 response that tries to send a body
  /hop                      returns hop-by-hop headers the server must drop
  /nocl [n=pieces, empty=1] n pieces of body without Content-Length (empty=1: b"" between)
  /overlong                 declares Content-Length 5 and returns more bytes
  /environ                  JSON of all str/int/bool/tuple environ values + type names
  /input [mode=...]         exercises wsgi.input and returns what it read as JSON
  /close [marker=P, mode=normal|error|disconnect]
                            returns an iterable whose close() writes "closed" to P
  /echo                     echoes the request body (read fully) with Content-Length
  /keep-input               reads the body's length, and keeps wsgi.input for the life of
                            the process (an app that caches request objects)
  /socket [close=1]         JSON about environ["gunicorn.socket"] (id, fileno, peer port);
                            close=1 closes it afterwards
"""

import json
import os
import time
from urllib.parse import parse_qs


class BehaviourCrash(Exception):
    """Raised on purpose by the crash routes; tests look for this name in the error log."""


def _query(environ):
    return {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _text(start_response, body, status="200 OK", extra=()):
    if isinstance(body, str):
        body = body.encode()
    start_response(
        status,
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *extra],
    )
    return [body]


def _json(start_response, payload, status="200 OK"):
    body = json.dumps(payload, sort_keys=True).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def hello(environ, start_response):
    return _text(start_response, "hello")


def sleep(environ, start_response):
    seconds = float(_query(environ).get("s", "2"))
    # Tell the tests (through the error log) that the request is now in progress.
    environ["wsgi.errors"].write(f"sleep route: started in pid {os.getpid()}\n")
    environ["wsgi.errors"].flush()
    time.sleep(seconds)
    return _text(start_response, f"slept {seconds:g}")


def pid(environ, start_response):
    seconds = float(_query(environ).get("sleep", "0"))
    if seconds:
        time.sleep(seconds)
    return _text(start_response, str(os.getpid()))


def crash_before(environ, start_response):
    raise BehaviourCrash("crash before start_response")


def crash_after(environ, start_response):
    cl = _query(environ).get("cl")
    headers = [("Content-Type", "text/plain")]
    if cl:
        headers.append(("Content-Length", cl))
    start_response("200 OK", headers)

    def generate():
        yield b"partial body, "
        raise BehaviourCrash("crash after headers were sent")

    return generate()


def write_callable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"write-1;")
    write(b"write-2;")
    return [b"iter-1;", b"iter-2"]


def file_route(environ, start_response):
    q = _query(environ)
    path = q["path"]
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("cl", "1") == "1":
        headers.append(("Content-Length", str(os.path.getsize(path))))
    start_response("200 OK", headers)
    return environ["wsgi.file_wrapper"](open(path, "rb"), 8192)  # noqa: SIM115 (closed by server)


NOBODY = b"this body must never reach the client"


def nobody(environ, start_response):
    status = int(_query(environ).get("status", "200"))
    reasons = {200: "OK", 204: "No Content", 304: "Not Modified"}
    start_response(
        f"{status} {reasons.get(status, 'Whatever')}",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(NOBODY)))],
    )
    return [NOBODY]


HOP_HEADERS = [
    ("Connection", "keep-alive"),
    ("Keep-Alive", "timeout=99"),
    ("Transfer-Encoding", "chunked"),
    ("Proxy-Authenticate", "Basic"),
    ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
    ("TE", "trailers"),
    ("Trailers", "X-Trailer"),
    ("Upgrade", "h2c"),
    ("Server", "app-server/1.0"),
    ("Date", "Thu, 01 Jan 1970 00:00:00 GMT"),
]


def hop(environ, start_response):
    body = b"hop-by-hop headers were sent by the app"
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("X-End-To-End", "kept"),
            *HOP_HEADERS,
        ],
    )
    return [body]


def nocl(environ, start_response):
    q = _query(environ)
    n = int(q.get("n", "3"))
    start_response("200 OK", [("Content-Type", "text/plain")])
    pieces = []
    for i in range(n):
        if q.get("empty") == "1":
            # An empty item must not end a chunked body early (b"" is not the last chunk).
            pieces.append(b"")
        pieces.append(f"piece {i};".encode())
    return pieces


def overlong(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"12345", b"-these bytes exceed the declared Content-Length"]


def environ_dump(environ, start_response):
    out = {}
    for key, value in environ.items():
        if isinstance(value, (str, int, bool)):
            out[key] = value
        elif isinstance(value, tuple):
            out[key] = list(value)
    out["__types__"] = {
        key: type(environ[key]).__name__ for key in sorted(environ) if not key.isupper()
    }
    out["__tuple_keys__"] = sorted(k for k, v in environ.items() if isinstance(v, tuple))
    out["__bool_keys__"] = sorted(k for k, v in environ.items() if isinstance(v, bool))
    out["__input_type__"] = type(environ.get("wsgi.input")).__name__
    out["__errors_type__"] = type(environ.get("wsgi.errors")).__name__
    out["__file_wrapper_type__"] = getattr(environ.get("wsgi.file_wrapper"), "__name__", None)
    out["__has_socket__"] = environ.get("gunicorn.socket") is not None
    out["__process_env_script_name__"] = os.environ.get("SCRIPT_NAME")
    return _json(start_response, out)


def _latin1(chunks):
    return [c.decode("latin-1") for c in chunks]


def input_route(environ, start_response):
    mode = _query(environ).get("mode", "read")
    body = environ["wsgi.input"]
    result = {"mode": mode}
    if mode == "read":
        result["parts"] = _latin1([body.read()])
    elif mode == "read_none":
        result["parts"] = _latin1([body.read(None)])
    elif mode == "read_n":
        parts = []
        while True:
            piece = body.read(7)
            if not piece:
                break
            parts.append(piece)
        result["parts"] = _latin1(parts)
    elif mode == "readline":
        parts = []
        while True:
            line = body.readline()
            if not line:
                break
            parts.append(line)
        result["parts"] = _latin1(parts)
    elif mode == "readline_n":
        parts = []
        while True:
            line = body.readline(4)
            if not line:
                break
            parts.append(line)
        result["parts"] = _latin1(parts)
    elif mode == "readlines":
        result["parts"] = _latin1(body.readlines())
    elif mode == "iter":
        result["parts"] = _latin1(list(body))
    elif mode == "mixed":
        first = body.read(3)
        line = body.readline()
        rest = body.read()
        result["parts"] = _latin1([first, line, rest])
    else:
        return _text(start_response, f"unknown mode {mode}", status="400 Bad Request")
    # After EOF, further reads return b"".
    result["after_eof"] = body.read().decode("latin-1")
    result["content_length"] = environ.get("CONTENT_LENGTH")
    result["transfer_encoding"] = environ.get("HTTP_TRANSFER_ENCODING")
    return _json(start_response, result)


class ClosingIterable:
    """An iterable that records close() by writing to a marker file."""

    def __init__(self, marker, mode):
        self.marker = marker
        self.mode = mode
        self.produced = 0

    def __iter__(self):
        if self.mode == "error":
            yield b"before the error;"
            raise BehaviourCrash("iterable failed mid-body")
        if self.mode == "disconnect":
            # Enough data to overflow every socket buffer on the way to a client that has gone,
            # bounded in time so the worker never hangs if writes keep succeeding.
            deadline = time.monotonic() + 20
            piece = b"x" * 65536
            while time.monotonic() < deadline:
                self.produced += 1
                yield piece
                time.sleep(0.001)
            return
        for i in range(3):
            self.produced += 1
            yield f"part {i};".encode()

    def close(self):
        with open(self.marker, "w") as f:
            f.write(f"closed after {self.produced}")


def close_route(environ, start_response):
    q = _query(environ)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ClosingIterable(q["marker"], q.get("mode", "normal"))


def echo(environ, start_response):
    length = environ.get("CONTENT_LENGTH")
    data = environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
    return _text(start_response, data, extra=[("X-Received", str(len(data)))])


KEPT_INPUTS = []


def keep_input(environ, start_response):
    stream = environ["wsgi.input"]
    KEPT_INPUTS.append((stream, stream.read))  # the object and a method bound to it
    return _text(start_response, str(len(stream.read())))


def socket_route(environ, start_response):
    sock = environ["gunicorn.socket"]
    body = json.dumps(
        {"id": id(sock), "fileno": sock.fileno(), "peer_port": sock.getpeername()[1]}
    ).encode()
    if _query(environ).get("close") == "1":
        sock.close()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response("200 OK", headers)
    return [body]


ROUTES = {
    "/hello": hello,
    "/sleep": sleep,
    "/pid": pid,
    "/crash-before": crash_before,
    "/crash-after": crash_after,
    "/write": write_callable,
    "/file": file_route,
    "/nobody": nobody,
    "/hop": hop,
    "/nocl": nocl,
    "/overlong": overlong,
    "/environ": environ_dump,
    "/input": input_route,
    "/close": close_route,
    "/echo": echo,
    "/keep-input": keep_input,
    "/socket": socket_route,
}


def app(environ, start_response):
    handler = ROUTES.get(environ.get("PATH_INFO", ""))
    if handler is None:
        # /environ is also reachable under any prefix so SCRIPT_NAME / PATH_INFO
        # decoding can be observed on arbitrary paths.
        if environ.get("PATH_INFO", "").startswith("/environ"):
            return environ_dump(environ, start_response)
        return _text(start_response, "not found", status="404 Not Found")
    return handler(environ, start_response)


application = app
