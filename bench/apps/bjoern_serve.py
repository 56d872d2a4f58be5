"""Serve a WSGI app with bjoern, which has no worker processes of its own.

Usage: python bjoern_serve.py MODULE:CALLABLE HOST PORT WORKERS

The socket is bound once, then the process forks WORKERS - 1 children that all run bjoern's
loop on it, so bjoern gets the same number of processes serving as every other server.
"""

import importlib
import os
import signal
import sys

import bjoern


def main() -> None:
    target, host, port, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    module, _, name = target.partition(":")
    app = getattr(importlib.import_module(module), name or "application")
    bjoern.listen(app, host, port)
    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            bjoern.run()
            os._exit(0)
        children.append(pid)
    try:
        bjoern.run()
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
