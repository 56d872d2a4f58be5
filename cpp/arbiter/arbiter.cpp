// Arbiter: the master process loop, verb for verb gunicorn's: signals are queued, the loop
// dispatches them to handle_<signal>(), then murders stuck workers and manages the count.
// The verbs live beside it: arbiter_signals.cpp (handle_<signal>), arbiter_workers.cpp (spawn,
// reap, murder, manage), arbiter_listeners.cpp (the sockets), arbiter_upgrade.cpp (USR2).
#include "arbiter/arbiter.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "arbiter/arbiter_internal.hpp"
#include "arbiter/sd_notify.hpp"
#include "log/error_log.hpp"
#include "util/clock.hpp"
#include "util/process_title.hpp"

namespace monoceros::arbiter {
namespace {

using detail::kBootedStatus;

constexpr int kLoopTickMs = 1000;

}  // namespace

Arbiter::Arbiter(ArbiterConfig config, ArbiterHost& host)
    : config_(std::move(config)), host_(host), load_error_reported_(0) {}

void Arbiter::set_num_workers(int count) {
  const int old_count = num_workers_;
  num_workers_ = count;
  host_.nworkers_changed(count, old_count);
}

std::variant<int, WorkerLaunch> Arbiter::run() {
  pid_ = ::getpid();
  master_pid_ = config_.upgrade_parent;
  num_workers_ = -1;
  set_num_workers(config_.workers);
  try {
    if (!start()) return 1;  // bind failure: nothing was started, nothing to stop
    util::set_process_title(master_title());
    manage_workers();
    for (;;) {
      maybe_promote_master();
      wait_for_signals(kLoopTickMs);
      reap_workers();
      murder_workers();
      check_worker_memory();
      check_retire_requests();
      manage_workers();
    }
  } catch (const BecameWorker&) {
    return std::move(*launch_);
  } catch (const Halt& halted) {
    return halt(halted.reason, halted.exit_status);
  }
}

bool Arbiter::start() {
  log::info("Starting monoceros " + config_.version);
  host_.on_starting();
  signals_.emplace(std::initializer_list<int>{SIGHUP, SIGQUIT, SIGINT, SIGTERM, SIGTTIN, SIGTTOU,
                                              SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD});
  std::optional<std::vector<net::Listener>> opened;
  if (!config_.inherited_fds.empty()) {
    // systemd's sockets, or a binary upgrade's: the old master's, already bound to this
    // configuration's addresses (a reload compares against those, as gunicorn compares
    // configurations). Either way the socket files are not ours to unlink.
    systemd_ = config_.socket_activation;
    std::vector<net::ListenSpec> handed;
    for (int fd : config_.inherited_fds) {
      net::ListenSpec spec;
      spec.kind = net::ListenSpec::Kind::fd;
      spec.fd = fd;
      handed.push_back(spec);
    }
    opened = open_listeners(handed);
  } else {
    opened = open_listeners(config_.binds);
  }
  if (!opened) return false;
  listeners_ = std::move(*opened);
  bound_ = config_.binds;
  log_listening();
  log::info("Using worker: " + config_.worker_class_name);
  if (config_.statsd) {
    std::string error;
    statsd_ = log::StatsdClient::open(*config_.statsd, config_.statsd_prefix,
                                      config_.dogstatsd_tags, error);
    if (!statsd_) log::warning("StatsD metrics are off: " + error);
  }
  log::debug("Arbiter booted");
  if (master_pid_ != 0) {
    notify_ready_as_main(static_cast<long>(pid_), kBootedStatus);  // the new master of USR2
  } else {
    notify_ready(kBootedStatus);
  }
  host_.when_ready();
  return true;
}

void Arbiter::wait_for_signals(int timeout_ms) {
  host_.before_wait();
  std::optional<int> signal_number = signals_->next(timeout_ms);
  host_.after_wait();
  while (signal_number) {
    dispatch(*signal_number);
    signal_number = signals_->next(0);
  }
}

void Arbiter::stop(bool graceful) {
  // The old master of an upgrade goes away, not the service: the new master is systemd's
  // main process now (see notify_ready_as_main), and STOPPING=1 would say otherwise.
  if (!stopping_ && reexec_pid_ == 0) notify_stopping("Shutting down");
  stopping_ = true;
  close_listeners();
  int signal_number = graceful ? SIGTERM : SIGQUIT;
  std::int64_t limit = util::monotonic_ns() + util::seconds_to_ns(config_.graceful_timeout);
  kill_workers(signal_number);
  while (!workers_.empty() && util::monotonic_ns() < limit) {
    host_.before_wait();
    std::optional<int> received = signals_->next(100);
    host_.after_wait();
    // INT or QUIT during a graceful stop turns it into a quick one.
    if (received && (*received == SIGINT || *received == SIGQUIT) && signal_number == SIGTERM) {
      log::info(std::string("Handling signal: ") + signal_name(*received));
      signal_number = SIGQUIT;
      kill_workers(SIGQUIT);
      const std::int64_t quick = util::monotonic_ns() + util::seconds_to_ns(2);
      if (quick < limit) limit = quick;
    }
    reap_workers();
  }
  kill_workers(SIGKILL);
  // SIGKILL cannot be ignored, but a process in uninterruptible sleep takes a moment to die;
  // give up waiting after a few seconds rather than hang the shutdown.
  const std::int64_t give_up = util::monotonic_ns() + util::seconds_to_ns(5);
  while (!workers_.empty() && util::monotonic_ns() < give_up) {
    reap_workers();
    if (!workers_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Arbiter::halt(std::string_view reason, int exit_status) {
  stop(true);
  const log::Level level = exit_status == 0 ? log::Level::info : log::Level::error;
  log::write(level, "Shutting down: Master");
  if (!reason.empty()) log::write(level, "Reason: " + std::string(reason));
  host_.on_exit();
  signals_.reset();
  return exit_status;
}

}  // namespace monoceros::arbiter
