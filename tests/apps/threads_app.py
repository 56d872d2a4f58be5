"""behaviours.py plus one route that shows which thread runs the app, for the threaded worker
tests (tests/test_gthread_worker.py).

Routes:
  /thread [sleep=seconds, tag=T]
            JSON {"ident", "name", "local_ident", "local_count", "tag", "pid"}: the
            threading.get_ident() and thread name of the thread running the app, what a
            module-level threading.local holds for that thread (the ident it recorded on the
            thread's first request, and how many requests that thread has run), after sleeping
  anything else  as behaviours.app
"""

import json
import os
import threading
import time
from urllib.parse import parse_qs

from behaviours import app as behaviours_app

_local = threading.local()


def thread_route(environ, start_response):
    query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if not hasattr(_local, "ident"):
        _local.ident = threading.get_ident()
        _local.count = 0
    _local.count += 1
    seconds = float(query.get("sleep", "0"))
    if seconds:
        time.sleep(seconds)
    body = json.dumps(
        {
            "ident": threading.get_ident(),
            "name": threading.current_thread().name,
            "local_ident": _local.ident,
            "local_count": _local.count,
            "tag": query.get("tag"),
            "pid": os.getpid(),
        }
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/thread":
        return thread_route(environ, start_response)
    return behaviours_app(environ, start_response)


application = app
