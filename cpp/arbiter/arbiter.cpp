// Arbiter: the master process loop, verb for verb gunicorn's: signals are queued, the loop
// dispatches them to handle_<signal>(), then murders stuck workers and manages the count.
#include "arbiter/arbiter.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>

#include "log/error_log.hpp"
#include "util/clock.hpp"
#include "util/errno_text.hpp"

namespace monoceros::arbiter {
namespace {

constexpr int kBindAttempts = 5;
constexpr int kLoopTickMs = 1000;

std::string pid_text(pid_t pid) {
  return std::to_string(pid);
}

}  // namespace

Arbiter::Arbiter(ArbiterConfig config, ArbiterHost& host)
    : config_(std::move(config)), host_(host), load_error_reported_(0) {}

std::variant<int, WorkerLaunch> Arbiter::run() {
  pid_ = ::getpid();
  num_workers_ = config_.workers;
  try {
    if (!start()) return 1;  // bind failure: nothing was started, nothing to stop
    manage_workers();
    for (;;) {
      wait_for_signals(kLoopTickMs);
      reap_workers();
      murder_workers();
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
  signals_.emplace(std::initializer_list<int>{SIGHUP, SIGQUIT, SIGINT, SIGTERM, SIGTTIN, SIGTTOU,
                                              SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD});
  for (const net::ListenSpec& spec : config_.binds) {
    std::optional<net::Listener> listener;
    for (int attempt = 1; attempt <= kBindAttempts && !listener; ++attempt) {
      std::string error;
      int code = 0;
      listener = net::open_listener(spec, config_.backlog, config_.umask, error, code);
      if (listener) break;
      if (code == EADDRINUSE) log::error("Connection in use: " + net::describe_spec(spec));
      log::error(error);
      if (code != EADDRINUSE || attempt == kBindAttempts) break;
      log::debug("Retrying in 1 second.");
      host_.before_wait();
      std::this_thread::sleep_for(std::chrono::seconds(1));
      host_.after_wait();
    }
    if (!listener) {
      log::error("Can't connect to " + net::describe_spec(spec));
      return false;
    }
    listeners_.push_back(std::move(*listener));
  }
  // One line for all listeners, comma-separated, as gunicorn prints it.
  std::string urls;
  for (const net::Listener& listener : listeners_) {
    if (!urls.empty()) urls += ',';
    urls += listener.url;
  }
  log::info("Listening at: " + urls + " (" + pid_text(pid_) + ")");
  log::info("Using worker: " + config_.worker_class);
  log::debug("Arbiter booted");
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

void Arbiter::dispatch(int signal_number) {
  if (signal_number != SIGCHLD) {
    log::info(std::string("Handling signal: ") + signal_name(signal_number));
  }
  switch (signal_number) {
    case SIGCHLD:
      handle_chld();
      break;
    case SIGHUP:
      handle_hup();
      break;
    case SIGTERM:
      handle_term();
      break;
    case SIGINT:
      handle_int();
      break;
    case SIGQUIT:
      handle_quit();
      break;
    case SIGTTIN:
      handle_ttin();
      break;
    case SIGTTOU:
      handle_ttou();
      break;
    case SIGUSR1:
      handle_usr1();
      break;
    case SIGUSR2:
      handle_usr2();
      break;
    case SIGWINCH:
      handle_winch();
      break;
    default:
      log::info("Ignoring unknown signal: " + std::to_string(signal_number));
      break;
  }
}

void Arbiter::handle_chld() {
  reap_workers();
}

void Arbiter::handle_hup() {
  log::warning("SIGHUP (reload) is not supported by monoceros yet; ignoring it");
}

void Arbiter::handle_term() {
  throw Halt{"", 0};
}

void Arbiter::handle_int() {
  stop(false);
  throw Halt{"", 0};
}

void Arbiter::handle_quit() {
  stop(false);
  throw Halt{"", 0};
}

void Arbiter::handle_ttin() {
  ++num_workers_;
}

void Arbiter::handle_ttou() {
  if (num_workers_ > 1) --num_workers_;
}

void Arbiter::handle_usr1() {
  host_.reopen_logs();
  kill_workers(SIGUSR1);
}

void Arbiter::handle_usr2() {
  log::warning("SIGUSR2 (binary upgrade) is not supported by monoceros yet; ignoring it");
}

void Arbiter::handle_winch() {
  log::debug("SIGWINCH ignored. Not daemonized");
}

void Arbiter::reap_workers() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto found = workers_.find(pid);
    if (found == workers_.end()) continue;  // not ours (an orphan re-parented to us)
    workers_.erase(found);
    if (WIFEXITED(status)) {
      const int code = WEXITSTATUS(status);
      if (!stopping_ && code == kWorkerBootError) throw Halt{"Worker failed to boot.", code};
      if (!stopping_ && code == kAppLoadError) throw Halt{"App failed to load.", code};
      if (code > 0) {
        log::error("Worker (pid:" + pid_text(pid) + ") exited with code " + std::to_string(code));
      }
    } else if (WIFSIGNALED(status)) {
      const int signal_number = WTERMSIG(status);
      const std::string name = signal_full_name(signal_number);
      if (signal_number == SIGKILL) {
        log::error("Worker (pid:" + pid_text(pid) + ") was sent SIGKILL! Perhaps out of memory?");
      } else if (signal_number == SIGTERM) {
        log::info("Worker (pid:" + pid_text(pid) + ") was sent " + name + "!");
      } else {
        log::warning("Worker (pid:" + pid_text(pid) + ") was sent " + name + "!");
      }
    }
  }
}

void Arbiter::murder_workers() {
  if (config_.timeout <= 0) return;
  const std::int64_t now = util::monotonic_ns();
  const std::int64_t limit = util::seconds_to_ns(config_.timeout);
  for (auto& [pid, record] : workers_) {
    if (now - record.heartbeat->load(std::memory_order_relaxed) <= limit) continue;
    if (!record.aborted) {
      log::critical("WORKER TIMEOUT (pid:" + pid_text(pid) + ")");
      record.aborted = true;
      kill_worker(pid, SIGABRT);
    } else {
      kill_worker(pid, SIGKILL);
    }
  }
}

void Arbiter::manage_workers() {
  while (static_cast<int>(workers_.size()) < num_workers_)
    spawn_worker();
  if (static_cast<int>(workers_.size()) != logged_worker_count_) {
    logged_worker_count_ = static_cast<int>(workers_.size());
    log::debug(std::to_string(logged_worker_count_) + " workers");
  }
  const int excess = static_cast<int>(workers_.size()) - num_workers_;
  if (excess <= 0) return;
  // Retire the oldest first, as gunicorn does; they leave the table when reaped.
  std::vector<std::pair<int, pid_t>> by_age;
  for (const auto& [pid, record] : workers_)
    by_age.emplace_back(record.age, pid);
  std::sort(by_age.begin(), by_age.end());
  for (int i = 0; i < excess; ++i)
    kill_worker(by_age[static_cast<std::size_t>(i)].second, SIGTERM);
}

void Arbiter::spawn_worker() {
  WorkerRecord record;
  record.age = ++worker_age_;
  record.heartbeat = util::Heartbeat(util::monotonic_ns());
  const pid_t pid = host_.fork_process();
  if (pid < 0) {
    log::error("Unable to fork a worker: " + util::errno_text(errno));
    throw Halt{"Unable to fork a worker.", 1};
  }
  if (pid > 0) {
    workers_.emplace(pid, std::move(record));
    return;
  }
  // In the new worker: keep only what it needs, then unwind out of the arbiter loop.
  signals_->release_in_child();
  WorkerLaunch launch;
  launch.age = record.age;
  launch.ppid = pid_;
  launch.listeners = std::move(listeners_);
  launch.heartbeat = std::move(record.heartbeat);
  launch.load_error_reported = &load_error_reported_;
  launch_.emplace(std::move(launch));
  workers_.clear();
  log::info("Booting worker with pid: " + pid_text(::getpid()));
  throw BecameWorker{};
}

void Arbiter::kill_workers(int signal_number) {
  std::vector<pid_t> pids;
  for (const auto& entry : workers_)
    pids.push_back(entry.first);
  for (pid_t pid : pids)
    kill_worker(pid, signal_number);
}

void Arbiter::kill_worker(pid_t pid, int signal_number) {
  if (::kill(pid, signal_number) != 0 && errno == ESRCH) workers_.erase(pid);
}

void Arbiter::close_listeners() {
  for (const net::Listener& listener : listeners_) {
    if (!listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
  }
  listeners_.clear();
}

void Arbiter::stop(bool graceful) {
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
  signals_.reset();
  return exit_status;
}

}  // namespace monoceros::arbiter
