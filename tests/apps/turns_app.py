"""Tells each request when its turn came: the body is the number of requests the worker
process had started before this one (a per-process counter), so a test running one worker
can see the order in which the loop served its clients. /busy?s=N sleeps N seconds first
(and says so in the error log), holding an event worker's only thread."""

import itertools
import os
import time
from urllib.parse import parse_qs

_turns = itertools.count()


def app(environ, start_response):
    turn = next(_turns)
    if environ.get("PATH_INFO") == "/busy":
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["1"])[0])
        environ["wsgi.errors"].write(f"busy route: started in pid {os.getpid()}\n")
        environ["wsgi.errors"].flush()
        time.sleep(seconds)
    body = str(turn).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
