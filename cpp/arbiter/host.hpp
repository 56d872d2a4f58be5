// ArbiterHost: what the arbiter needs from the program embedding it (the Python bindings).
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "arbiter/config.hpp"

namespace monoceros::arbiter {

class ArbiterHost {
 public:
  virtual ~ArbiterHost() = default;

  // fork() with the interpreter's bookkeeping around it (PyOS_BeforeFork and friends): the one
  // place a process is forked. Returns what fork() returns.
  virtual pid_t fork_process() = 0;

  // Bracket every blocking wait of the arbiter loop, so other interpreter threads may run.
  virtual void before_wait() = 0;
  virtual void after_wait() = 0;

  // SIGUSR1: reopen log files in the master.
  virtual void reopen_logs() = 0;

  // The master's moments where gunicorn calls its server hooks. `age` identifies a worker
  // (its spawn order); `old_count` is -1 the first time the worker count is set.
  virtual void on_starting() = 0;
  virtual void when_ready() = 0;
  virtual void pre_fork(int age) = 0;
  virtual void worker_spawned(pid_t pid, int age) = 0;   // in the master, right after fork
  virtual void child_exit(pid_t pid, int age) = 0;       // a worker was reaped
  virtual void worker_vanished(pid_t pid, int age) = 0;  // signalled, but already gone (ESRCH)
  virtual void nworkers_changed(int count, int old_count) = 0;
  virtual void on_exit() = 0;

  // SIGHUP: re-read the configuration. The new settings, or nullopt to keep the old ones (the
  // host has logged why). on_reload() follows once the listeners match the new settings.
  virtual std::optional<ArbiterConfig> reload() = 0;
  virtual void on_reload() = 0;

  // SIGUSR2, in the forked child of the old master: run pre_exec and exec a new master that
  // inherits `fds` (listening, without FD_CLOEXEC) and knows `parent`. Returns only on failure.
  virtual void exec_new_master(pid_t parent, const std::vector<int>& fds) = 0;
  // The new master of an upgrade outlived the old one: it is the master now (pidfile rename).
  virtual void promoted() = 0;
};

}  // namespace monoceros::arbiter
