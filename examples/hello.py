"""The smallest WSGI app: serve it with `monoceros --chdir examples hello:app`."""


def app(environ, start_response):
    body = b"Hello from monoceros!\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
