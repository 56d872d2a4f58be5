"""WSGI app that echoes the parsed request back as JSON, so a harness can check every field."""

import base64
import json

# Lets a harness tell "the app answered" apart from an error page the server wrote itself.
ECHO_MARKER_HEADER = "X-Echo-App"
ECHO_MARKER_VALUE = "corpus-echo"

_SCALAR_KEYS = (
    "REQUEST_METHOD",
    "RAW_URI",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "wsgi.url_scheme",
)


def app(environ, start_response):
    # Read the whole body first: a framing error in the body must surface as a server error,
    # never as an echo of a partial body.
    body = environ["wsgi.input"].read()
    echo = {key: environ[key] for key in _SCALAR_KEYS if key in environ}
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            echo[key] = value
    echo["body_b64"] = base64.b64encode(body).decode("ascii")
    payload = json.dumps(echo, sort_keys=True).encode("ascii")
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            (ECHO_MARKER_HEADER, ECHO_MARKER_VALUE),
        ],
    )
    return [payload]
