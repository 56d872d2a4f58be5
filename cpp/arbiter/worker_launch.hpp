// WorkerLaunch: what a freshly forked worker takes with it out of the arbiter.
#pragma once

#include <sys/types.h>

#include <vector>

#include "net/listener.hpp"
#include "util/shared_memory.hpp"

namespace monoceros::arbiter {

struct WorkerLaunch {
  int age = 0;     // spawn order, 1-based: the oldest worker has the smallest age
  pid_t ppid = 0;  // the arbiter; the worker exits when its parent changes
  std::vector<net::Listener> listeners;
  util::Heartbeat heartbeat;
  // Set to 1 by the worker when it has served max_requests: the arbiter then starts its
  // replacement and retires it once that one is ready.
  util::SharedCell<int> retire_request;
  // Shared by all workers of one arbiter: set by the first worker whose app fails to load, so
  // the traceback is printed once rather than once per worker.
  util::SharedCell<int>* load_error_reported = nullptr;
};

}  // namespace monoceros::arbiter
