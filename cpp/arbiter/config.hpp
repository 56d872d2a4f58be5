// ArbiterConfig: the settings the master process acts on.
#pragma once

#include <string>
#include <vector>

#include "net/listener.hpp"

namespace monoceros::arbiter {

struct ArbiterConfig {
  std::vector<net::ListenSpec> binds;
  int backlog = 2048;
  int workers = 1;
  double timeout = 30;           // seconds without a heartbeat before SIGABRT; 0 disables
  double graceful_timeout = 30;  // seconds workers get to finish after SIGTERM
  int umask = 0;                 // for unix socket files
  std::string worker_class = "sync";
  std::string version;  // printed in "Starting monoceros <version>"
};

}  // namespace monoceros::arbiter
