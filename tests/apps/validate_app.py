"""A WSGI app wrapped in `wsgiref.validate.validator`, so any server-side violation of PEP 3333
(environ keys and types, wsgi.input / wsgi.errors API, start_response, iterable handling) raises
an AssertionError inside the server and turns into a 500 plus a log line.

Routes:
  /            environ summary as JSON (GET), generator response
  /echo        reads wsgi.input with read(n), readline() and readlines() and returns a digest
  /errors      writes to wsgi.errors
  /broken      deliberately violates PEP 3333 (a non-str status) to prove the validator is live
"""

import hashlib
import json
from wsgiref.validate import validator

KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "wsgi.url_scheme",
)


def _inner(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/broken":
        # PEP 3333: the status must be a str. The validator asserts on this.
        start_response(b"200 OK", [("Content-Type", "text/plain")])
        return [b"unreachable"]
    if path == "/echo":
        body_input = environ["wsgi.input"]
        first = body_input.read(5)
        line = body_input.readline()
        rest = body_input.readlines()
        data = first + line + b"".join(rest)
        payload = {
            "first": first.decode("latin-1"),
            "line": line.decode("latin-1"),
            "rest_lines": len(rest),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    elif path == "/errors":
        errors = environ["wsgi.errors"]
        errors.write("validate_app: message on wsgi.errors\n")
        errors.writelines(["validate_app: line one\n", "validate_app: line two\n"])
        errors.flush()
        payload = {"written": True}
    else:
        payload = {key: environ.get(key) for key in KEYS}
    body = json.dumps(payload).encode()

    start_response("200 OK", [("Content-Type", "application/json")])

    def generate():
        # A generator response in several pieces (the validator checks every item is bytes).
        half = len(body) // 2
        yield body[:half]
        yield body[half:]

    return generate()


app = validator(_inner)
application = app
