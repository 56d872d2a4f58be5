"""Apps and logger classes for the logging-settings tests (tests/test_logging_settings.py)."""

import sys

try:  # the logger classes need gunicorn; the apps do not
    from gunicorn.glogging import Logger as GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a test dependency
    GunicornLogger = object


def printing_app(environ, start_response):
    """Writes to stdout and stderr the plain way an app does (what capture_output catches)."""
    print(f"app printed {environ['PATH_INFO']}", flush=True)
    sys.stderr.write(f"app wrote to stderr {environ['PATH_INFO']}\n")
    sys.stderr.flush()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]


class TaggedErrorLogger(GunicornLogger):
    """Changes only the error-line format, the most common reason to subclass."""

    error_fmt = "TAGGED %(levelname)s %(message)s"


class CustomAccessLogger(GunicornLogger):
    """Changes the access line: an extra atom and a fixed clock."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["Z"] = f"custom-{req.method}-{resp.status_code}"
        return atoms

    def now(self):
        return "[fixed-time]"


class NotAGunicornLogger:
    def __init__(self, cfg):
        self.cfg = cfg
