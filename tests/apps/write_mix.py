"""Apps that mix the write() callable with a returned body, or call write() with nothing.

Every route answers the body b"one two\\n" (PEP 3333: what write() sent, then the iterable),
whatever framing the server picks. The routes cover each shape the server may take a fast
path for: a one-item list or tuple, a list holding b"", a wsgi.file_wrapper, with and without
an app-given Content-Length, and empty write() calls before, between and after the rest.
"""

import os
import tempfile

BODY = b"one two\n"

# The file the file_wrapper routes send ("two\n"), made once per worker process.
_fd, TWO_PATH = tempfile.mkstemp(prefix="monoceros-write-mix-")
os.write(_fd, b"two\n")
os.close(_fd)


def _start(start_response, content_length=None):
    headers = [("Content-Type", "text/plain")]
    if content_length is not None:
        headers.append(("Content-Length", str(content_length)))
    return start_response("200 OK", headers)


def _two_file(environ):
    return environ["wsgi.file_wrapper"](open(TWO_PATH, "rb"), 8192)  # noqa: SIM115 (closed by server)


def write_then_one(environ, start_response):
    _start(start_response)(b"one ")
    return [b"two\n"]


def write_then_tuple(environ, start_response):
    _start(start_response)(b"one ")
    return (b"two\n",)


def write_then_empty_item(environ, start_response):
    _start(start_response)(b"one two\n")
    return [b""]


def write_then_file(environ, start_response):
    _start(start_response)(b"one ")
    return _two_file(environ)


def length_write_then_one(environ, start_response):
    _start(start_response, len(BODY))(b"one ")
    return [b"two\n"]


def length_write_then_file(environ, start_response):
    _start(start_response, len(BODY))(b"one ")
    return _two_file(environ)


def empty_write_between(environ, start_response):
    write = _start(start_response)
    write(b"one ")
    write(b"")
    write(b"two\n")
    return []


def empty_write_first(environ, start_response):
    _start(start_response)(b"")
    return [BODY]


def empty_write_first_then_file(environ, start_response):
    write = _start(start_response)
    write(b"")
    write(b"one ")
    return _two_file(environ)


def empty_write_last(environ, start_response):
    write = _start(start_response)
    write(BODY)
    write(b"")
    return []


def length_empty_writes(environ, start_response):
    write = _start(start_response, len(BODY))
    write(b"")
    write(b"one ")
    write(b"")
    return [b"two\n"]


ROUTES = {
    "/w-then-one": write_then_one,
    "/w-then-tuple": write_then_tuple,
    "/w-then-empty-item": write_then_empty_item,
    "/w-then-file": write_then_file,
    "/w-cl-then-one": length_write_then_one,
    "/w-cl-then-file": length_write_then_file,
    "/w-empty-between": empty_write_between,
    "/w-empty-first": empty_write_first,
    "/w-empty-first-then-file": empty_write_first_then_file,
    "/w-empty-last": empty_write_last,
    "/w-cl-empty-writes": length_empty_writes,
}


def app(environ, start_response):
    route = ROUTES.get(environ.get("PATH_INFO", ""))
    if route is None:
        body = b"after"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [body]
    return route(environ, start_response)
