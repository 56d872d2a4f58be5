"""Reports what the app can learn of the server's name: environ["SERVER_SOFTWARE"] and the
process environment's SERVER_SOFTWARE (gunicorn's arbiter sets both), as JSON."""

import json
import os


def app(environ, start_response):
    body = json.dumps(
        {"environ": environ.get("SERVER_SOFTWARE"), "os_environ": os.environ.get("SERVER_SOFTWARE")}
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
