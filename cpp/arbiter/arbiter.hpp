// Arbiter: the master process loop, verb for verb gunicorn's: signals are queued, the loop
// dispatches them to handle_<signal>(), then murders stuck workers and manages the count.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "arbiter/config.hpp"
#include "arbiter/host.hpp"
#include "arbiter/signal_queue.hpp"
#include "arbiter/worker_launch.hpp"
#include "net/listener.hpp"
#include "util/shared_memory.hpp"

namespace monoceros::arbiter {

// Worker exit statuses that stop the arbiter instead of respawning (no fork loops).
inline constexpr int kWorkerBootError = 3;
inline constexpr int kAppLoadError = 4;

class Arbiter {
 public:
  Arbiter(ArbiterConfig config, ArbiterHost& host);
  Arbiter(const Arbiter&) = delete;
  Arbiter& operator=(const Arbiter&) = delete;

  // In the master: runs until shutdown and returns the exit status. In a freshly forked
  // worker: returns what the worker inherits; the caller runs the worker and then exits.
  std::variant<int, WorkerLaunch> run();

  // The target number of workers (gunicorn's `num_workers`); setting it tells the host.
  int num_workers() const noexcept { return num_workers_; }
  void set_num_workers(int count);
  pid_t pid() const noexcept { return pid_; }
  // The bound sockets (empty before start() and in a worker).
  const std::vector<net::Listener>& listeners() const noexcept { return listeners_; }

 private:
  struct WorkerRecord {
    int age = 0;
    util::Heartbeat heartbeat;
    std::int64_t spawned_ns = 0;           // the heartbeat's first value: ready once it moves on
    util::SharedCell<int> retire_request;  // see WorkerLaunch
    bool aborted = false;  // SIGABRT sent for a timeout; SIGKILL follows if still stuck
    // Being replaced (max_worker_memory): it serves until its replacement is ready, and does
    // not count towards num_workers meanwhile.
    bool retiring = false;
    bool retire_sent = false;
    std::int64_t retiring_since_ns = 0;
  };

  // Control flow of gunicorn's loop: StopIteration and HaltServer.
  struct Halt {
    std::string reason;
    int exit_status = 0;
  };
  struct BecameWorker {};

  bool start();
  void wait_for_signals(int timeout_ms);
  void dispatch(int signal_number);

  void handle_chld();
  void handle_hup();
  void handle_term();
  void handle_int();
  void handle_quit();
  void handle_ttin();
  void handle_ttou();
  void handle_usr1();
  void handle_usr2();
  void handle_winch();

  void reap_workers();
  void murder_workers();
  void manage_workers();
  void spawn_worker();
  void kill_workers(int signal_number);
  void kill_worker(pid_t pid, int signal_number);
  void stop(bool graceful);
  int halt(std::string_view reason, int exit_status);
  void close_listeners();
  net::ListenOptions listen_options() const;
  void open_own_listeners(std::vector<net::Listener>& listeners) const;
  std::optional<std::vector<net::Listener>> open_listeners(
      const std::vector<net::ListenSpec>& binds);
  void rebind_listeners(const std::vector<net::ListenSpec>& binds);
  void log_listening() const;
  void reload();
  void reexec();
  void maybe_promote_master();
  std::string master_title() const;
  void report_backlog();
  void check_worker_memory();
  void check_retire_requests();
  void retire_replaced_workers();
  int active_workers() const;

  ArbiterConfig config_;
  ArbiterHost& host_;
  pid_t pid_ = 0;
  pid_t master_pid_ = 0;  // in the new master of an upgrade: the old master, until it exits
  pid_t reexec_pid_ = 0;  // in the old master: the new master being started by SIGUSR2
  int num_workers_ = 1;
  int worker_age_ = 0;
  int logged_worker_count_ = -1;
  bool stopping_ = false;
  bool systemd_ = false;  // the listeners came from systemd socket activation
  std::optional<SignalQueue> signals_;
  std::optional<log::StatsdClient> statsd_;
  std::vector<net::Listener> listeners_;
  std::vector<net::ListenSpec> bound_;  // what listeners_ were opened from, in order
  std::map<pid_t, WorkerRecord> workers_;
  util::SharedCell<int> load_error_reported_;
  std::optional<WorkerLaunch> launch_;
};

}  // namespace monoceros::arbiter
