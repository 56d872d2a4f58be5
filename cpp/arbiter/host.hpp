// ArbiterHost: what the arbiter needs from the program embedding it (the Python bindings).
#pragma once

#include <sys/types.h>

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
};

}  // namespace monoceros::arbiter
