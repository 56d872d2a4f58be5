"""WSGI app for tests/test_cli.py: reports the process facts the command line controls.

Any path answers 200 with JSON (Content-Type application/json):
  pid           os.getpid() of the process serving the request
  import_pid    os.getpid() when this module was imported (differs from pid under --preload)
  cwd           os.getcwd()
  module_file   where this module was imported from
  env           {NAME: os.environ.get(NAME)} for each query parameter `env=NAME`
  environ       a few WSGI environ values (SERVER_NAME, SERVER_PORT, REMOTE_ADDR,
                wsgi.multiprocess, wsgi.url_scheme, ...)
  helper        the value of cli_helper.VALUE when the query has `helper=1` (a module that
                only a --pythonpath directory provides), else null
Query `sleep=S` sleeps S seconds first (logging "cli_probe: sleeping in pid N" to wsgi.errors).
"""

import json
import os
import time
from urllib.parse import parse_qs

IMPORT_PID = os.getpid()

_ENVIRON_KEYS = (
    "SERVER_NAME",
    "SERVER_PORT",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "SERVER_PROTOCOL",
    "wsgi.multiprocess",
    "wsgi.multithread",
    "wsgi.url_scheme",
)


def app(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    seconds = float(query.get("sleep", ["0"])[-1])
    if seconds:
        environ["wsgi.errors"].write(f"cli_probe: sleeping in pid {os.getpid()}\n")
        environ["wsgi.errors"].flush()
        time.sleep(seconds)
    helper = None
    if query.get("helper"):
        import cli_helper  # provided by a --pythonpath directory

        helper = cli_helper.VALUE
    payload = {
        "pid": os.getpid(),
        "import_pid": IMPORT_PID,
        "cwd": os.getcwd(),
        "module_file": os.path.abspath(__file__),
        "env": {name: os.environ.get(name) for name in query.get("env", [])},
        "environ": {key: environ[key] for key in _ENVIRON_KEYS if key in environ},
        "helper": helper,
    }
    body = json.dumps(payload, sort_keys=True).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


application = app
