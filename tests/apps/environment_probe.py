"""Reports the process environment a worker sees (os.environ, not the WSGI environ) as JSON,
with the worker's pid: the systemd and upgrade variables must not leak into the app."""

import json
import os


def app(environ, start_response):
    body = json.dumps({"pid": os.getpid(), "environ": dict(os.environ)}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
