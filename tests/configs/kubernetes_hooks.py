# Kubernetes: a readiness file written when the server is ready, a long grace period for
# rolling updates, per-request timing through hooks, and a stack dump when a worker hangs.
import os
import sys
import time
import traceback

run_dir = os.environ["CONFIG_RUN_DIR"]

workers = 2
graceful_timeout = 25
timeout = 60
keepalive = 5


def when_ready(server):
    with open(os.path.join(run_dir, "ready"), "w") as marker:
        marker.write(str(server.pid))


def on_exit(server):
    ready = os.path.join(run_dir, "ready")
    if os.path.exists(ready):
        os.unlink(ready)


def post_fork(server, worker):
    server.log.info("Worker spawned (pid: %s)", worker.pid)


def pre_request(worker, req):
    req.started = time.monotonic()


def post_request(worker, req, environ, resp):
    elapsed = time.monotonic() - req.started
    worker.log.info("%s %s took %.1f ms", req.method, req.path, elapsed * 1000)


def worker_abort(worker):
    for thread_id, frame in sys._current_frames().items():
        worker.log.error("Thread %s:\n%s", thread_id, "".join(traceback.format_stack(frame)))
