"""WSGI app for tests/test_conformance.py: echoes the parsed request as JSON, and under
/__conformance/ misbehaves on the response side in the ways checklist rows I1-I5 name.

Every response carries X-App-Calls, the number of times this worker process has called the app
(this call included). With one worker, a harness that reads it from a valid request sent after a
payload can tell whether the payload reached the app at all.

Echo (any other path): 200 application/json with REQUEST_METHOD, RAW_URI, SCRIPT_NAME, PATH_INFO,
QUERY_STRING, SERVER_PROTOCOL, wsgi.url_scheme, every HTTP_* key, CONTENT_TYPE, CONTENT_LENGTH
and the body (read fully, base64). Marked with X-Echo-App: conformance. A HEAD request gets
the same JSON, base64-encoded, in the X-Echo-Json header.

Response routes (query values are percent-decoded as latin-1, so any byte can be given):
  /__conformance/header?name=N&value=V   200 "ok" with one extra header (N, V)
  /__conformance/status?status=S          start_response(S, ...) with a 2-byte body "ok"
  /__conformance/length?cl=L&n=N          declares Content-Length L, writes N bytes of "x"
                                          (cl absent: no Content-Length)
  /__conformance/bodiless?status=S        status S (e.g. 103, 204, 304) with Content-Length and
                                          a body that must never reach the client
  /__conformance/hop                      hop-by-hop headers the server must drop
  /__conformance/upgrade                  Connection: Upgrade + Upgrade: websocket
"""

import base64
import json
from urllib.parse import parse_qsl

ECHO_MARKER_HEADER = "X-Echo-App"
ECHO_MARKER_VALUE = "conformance"
ECHO_JSON_HEADER = "X-Echo-Json"  # the echo, base64, on HEAD responses
CALLS_HEADER = "X-App-Calls"
PREFIX = "/__conformance/"
BODILESS = b"this body must never reach the client"

_SCALAR_KEYS = (
    "REQUEST_METHOD",
    "RAW_URI",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_PROTOCOL",
    "wsgi.url_scheme",
    "REMOTE_ADDR",
)

_REASONS = {103: "Early Hints", 200: "OK", 204: "No Content", 304: "Not Modified"}

_calls = 0


def _query(environ):
    return dict(
        parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, encoding="latin-1")
    )


def _counted(headers):
    return [*headers, (CALLS_HEADER, str(_calls))]


def echo(environ, start_response):
    # Read the whole body first: a framing error in the body must surface as a server error,
    # never as an echo of a partial body.
    body = environ["wsgi.input"].read()
    out = {key: environ[key] for key in _SCALAR_KEYS if key in environ}
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            out[key] = value
    out["body_b64"] = base64.b64encode(body).decode("ascii")
    payload = json.dumps(out, sort_keys=True).encode("ascii")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        (ECHO_MARKER_HEADER, ECHO_MARKER_VALUE),
    ]
    if environ["REQUEST_METHOD"] == "HEAD":
        # A HEAD response has no body: carry the echo in a header instead.
        headers.append((ECHO_JSON_HEADER, base64.b64encode(payload).decode("ascii")))
    start_response("200 OK", _counted(headers))
    return [payload]


def header(environ, start_response):
    q = _query(environ)
    start_response(
        "200 OK",
        _counted(
            [("Content-Type", "text/plain"), ("Content-Length", "2"), (q["name"], q["value"])]
        ),
    )
    return [b"ok"]


def status(environ, start_response):
    start_response(
        _query(environ)["status"],
        _counted([("Content-Type", "text/plain"), ("Content-Length", "2")]),
    )
    return [b"ok"]


def length(environ, start_response):
    q = _query(environ)
    headers = [("Content-Type", "text/plain")]
    if "cl" in q:
        headers.append(("Content-Length", q["cl"]))
    start_response("200 OK", _counted(headers))
    return [b"x" * int(q.get("n", "0"))]


def bodiless(environ, start_response):
    code = int(_query(environ).get("status", "204"))
    start_response(
        f"{code} {_REASONS.get(code, 'Whatever')}",
        _counted([("Content-Type", "text/plain"), ("Content-Length", str(len(BODILESS)))]),
    )
    return [BODILESS]


HOP_HEADERS = [
    ("Connection", "keep-alive"),
    ("Keep-Alive", "timeout=99"),
    ("Transfer-Encoding", "chunked"),
    ("Proxy-Authenticate", "Basic"),
    ("TE", "trailers"),
    ("Trailers", "X-Trailer"),
    ("Upgrade", "h2c"),
]


def hop(environ, start_response):
    body = b"hop-by-hop headers were sent by the app"
    start_response(
        "200 OK",
        _counted(
            [
                ("Content-Type", "text/plain"),
                ("Content-Length", str(len(body))),
                ("X-End-To-End", "kept"),
                *HOP_HEADERS,
            ]
        ),
    )
    return [body]


def upgrade(environ, start_response):
    start_response(
        "200 OK",
        _counted(
            [
                ("Content-Length", "2"),
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
            ]
        ),
    )
    return [b"ok"]


ROUTES = {
    "header": header,
    "status": status,
    "length": length,
    "bodiless": bodiless,
    "hop": hop,
    "upgrade": upgrade,
}


def app(environ, start_response):
    global _calls
    _calls += 1
    path = environ.get("PATH_INFO", "")
    if path.startswith(PREFIX) and path[len(PREFIX) :] in ROUTES:
        return ROUTES[path[len(PREFIX) :]](environ, start_response)
    return echo(environ, start_response)


application = app
