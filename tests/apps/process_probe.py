"""Reports what the worker process is: its ids, groups, umask and the mode of a file it
creates. Uses nothing but `os` (already imported by the server), so that it still imports
in a worker that has switched to an unprivileged user who cannot read the stdlib."""

import os


def app(environ, start_response):
    mask = os.umask(0)
    os.umask(mask)
    path = environ.get("QUERY_STRING", "")
    created = ""
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        os.close(fd)
        created = oct(os.stat(path).st_mode & 0o777)
        os.unlink(path)
    groups = ",".join(str(g) for g in sorted(os.getgroups()))
    body = (
        f"uid={os.getuid()} euid={os.geteuid()} gid={os.getgid()} egid={os.getegid()} "
        f"groups={groups} umask={oct(mask)} created={created} pid={os.getpid()}"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
