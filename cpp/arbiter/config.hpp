// ArbiterConfig: the settings the master process acts on.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "log/statsd.hpp"
#include "net/listener.hpp"

namespace monoceros::arbiter {

// Filled by monoceros.core_settings from the settings table, which holds the defaults; members
// are only value-initialised so that no default is written twice.
struct ArbiterConfig {
  std::vector<net::ListenSpec> binds;
  int backlog{};
  int workers{};
  double timeout{};            // seconds without a heartbeat before SIGABRT; 0 disables
  double graceful_timeout{};   // seconds workers get to finish after SIGTERM
  int umask{};                 // for unix socket files
  std::string worker_tmp_dir;  // heartbeat files go here; "" keeps them in anonymous memory
  bool daemon{};               // SIGWINCH stops the workers of a daemon (no terminal)
  std::string proc_name;       // process titles: "monoceros: master [<proc_name>]"
  // StatsD: the workers gauge (and the listen backlog, when asked) go to this server.
  std::optional<log::StatsdTarget> statsd;
  std::string statsd_prefix;  // used as given, trailing dot included
  std::string dogstatsd_tags;
  bool backlog_metric{};
  // A binary upgrade (SIGUSR2): the old master's pid and the listening sockets it handed
  // over. Set in the new master only; its sockets are then adopted instead of bound.
  pid_t upgrade_parent{};
  std::vector<int> inherited_fds;
  // systemd socket activation: inherited_fds are systemd's (LISTEN_FDS, from fd 3), and a
  // binary upgrade hands them on the same way (LISTEN_PID/LISTEN_FDS instead of GUNICORN_FD).
  bool socket_activation{};
  // SO_REUSEPORT: the master only reserves each TCP address; every worker listens on a socket
  // of its own bound to it, and the kernel spreads connections across them.
  bool reuse_port{};
  std::uint64_t max_worker_memory{};  // bytes of resident memory; 0: no memory recycling
  std::string worker_class_name;      // as the user gave it, for the startup line
  std::string version;                // printed in "Starting monoceros <version>"
};

}  // namespace monoceros::arbiter
