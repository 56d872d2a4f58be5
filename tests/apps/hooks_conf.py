"""A config file that sets every server hook monoceros calls; each hook appends one JSON line
describing what it received to the file named by $HOOKS_LOG. tests/test_hooks.py reads it.

$HOOKS_MODE switches behaviours on:
  pre_request_raises   pre_request raises for /boom
  retire_after_request post_request sets worker.alive = False (gunicorn's recycling idiom)
  grow_when_ready      when_ready sets server.num_workers = 2
  post_fork_raises     post_fork raises
"""

import json
import os

MODE = set(filter(None, os.environ.get("HOOKS_MODE", "").split(",")))


def _record(hook, **fields):
    fields.update(hook=hook, process=os.getpid())
    with open(os.environ["HOOKS_LOG"], "a") as out:
        out.write(json.dumps(fields, default=str) + "\n")


def _worker(worker):
    return {"pid": worker.pid, "age": worker.age, "ppid": worker.ppid}


def on_starting(server):
    _record(
        "on_starting", pid=server.pid, num_workers=server.num_workers, workers=len(server.WORKERS)
    )


def when_ready(server):
    _record(
        "when_ready",
        pid=server.pid,
        listeners=[str(listener) for listener in server.LISTENERS],
        proc_name=server.proc_name,
    )
    if "grow_when_ready" in MODE:
        server.num_workers = 2


def pre_fork(server, worker):
    _record("pre_fork", worker=_worker(worker), workers=sorted(server.WORKERS))


def post_fork(server, worker):
    _record("post_fork", worker=_worker(worker), booted=worker.booted)
    if "post_fork_raises" in MODE:
        raise RuntimeError("post_fork refuses")


def post_worker_init(worker):
    _record(
        "post_worker_init",
        worker=_worker(worker),
        has_app=callable(worker.wsgi),
        alive=worker.alive,
        nr=worker.nr,
        sockets=[str(s) for s in worker.sockets],
    )


def worker_int(worker):
    _record("worker_int", worker=_worker(worker), alive=worker.alive)


def worker_abort(worker):
    _record("worker_abort", worker=_worker(worker))


def pre_request(worker, req):
    req.seen_by_pre_request = "yes"
    _record(
        "pre_request",
        worker=_worker(worker),
        method=req.method,
        uri=req.uri,
        path=req.path,
        query=req.query,
        version=list(req.version),
        scheme=req.scheme,
        headers=[list(h) for h in req.headers],
        peer=req.peer_addr[0],
        nr=worker.nr,
    )
    if "pre_request_raises" in MODE and req.path == "/boom":
        raise RuntimeError("pre_request refuses /boom")


def post_request(worker, req, environ, resp):
    _record(
        "post_request",
        worker=_worker(worker),
        path=req.path,
        marker=getattr(req, "seen_by_pre_request", None),
        path_info=environ.get("PATH_INFO"),
        status=resp.status,
        status_code=resp.status_code,
        headers=[list(h) for h in resp.headers],
        sent=resp.sent,
        response_length=resp.response_length,
    )
    if "retire_after_request" in MODE:
        worker.alive = False


def child_exit(server, worker):
    _record("child_exit", worker=_worker(worker), workers=sorted(server.WORKERS))


def worker_exit(server, worker):
    _record("worker_exit", worker=_worker(worker))


def nworkers_changed(server, new_value, old_value):
    _record("nworkers_changed", new=new_value, old=old_value)


def on_exit(server):
    _record("on_exit", pid=server.pid)
