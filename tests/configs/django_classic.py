# A classic Django deployment behind nginx: a unix socket, the usual worker formula, log files.
import multiprocessing
import os

run_dir = os.environ["CONFIG_RUN_DIR"]

bind = f"unix:{run_dir}/django.sock"
workers = min(multiprocessing.cpu_count() * 2 + 1, 3)
timeout = 120
graceful_timeout = 30
accesslog = f"{run_dir}/access.log"
errorlog = f"{run_dir}/error.log"
loglevel = "info"
proc_name = "djproject"
pidfile = f"{run_dir}/django.pid"
umask = 0o007
