# Preloaded app with memory-leak insurance: workers are recycled after a jittered number of
# requests, heartbeats kept off the disk.
preload_app = True
workers = 2
max_requests = 1000
max_requests_jitter = 50
worker_tmp_dir = "/dev/shm"
timeout = 30


def post_fork(server, worker):
    # The usual place to reopen connections a preloaded app must not share across processes.
    worker.log.debug("post_fork in %s", worker.pid)
