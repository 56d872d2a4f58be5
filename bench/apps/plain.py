"""The plain WSGI apps every server runs: one callable per scenario, no framework.

Each returns one body chunk with a Content-Length, so every server can frame it the same way.
"""

import time

HELLO = b"Hello, World!"
BIG = b"x" * (64 * 1024)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]


def big(environ, start_response):
    """A 64 KiB response."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BIG)))])
    return [BIG]


def echo(environ, start_response):
    """Read the whole request body and send it back (the 1 MiB upload scenario)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))],
    )
    return [body]


def sleep10(environ, start_response):
    """Wait 10 ms as if on I/O (time.sleep: gevent's worker patches it), then answer."""
    time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]


def sleep5(environ, start_response):
    """Work 5 ms on the worker's thread (time.sleep: the fairness run, bench/fairness.py)."""
    time.sleep(0.005)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]
