// The workers: spawn, reap, murder (timeouts), replace (memory, max_requests) and manage the count.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/arbiter.hpp"
#include "arbiter/arbiter_internal.hpp"
#include "arbiter/worker_memory.hpp"
#include "log/error_log.hpp"
#include "util/clock.hpp"
#include "util/errno_text.hpp"
#include "util/heartbeat.hpp"
#include "util/process_title.hpp"

namespace monoceros::arbiter {

using detail::pid_text;

void Arbiter::reap_workers() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == reexec_pid_) {
      reexec_pid_ = 0;  // the new master of an upgrade exited (or failed to start)
      continue;
    }
    auto found = workers_.find(pid);
    if (found == workers_.end()) continue;  // not ours (an orphan re-parented to us)
    const int age = found->second.age;
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
    // After the exit is logged; not reached when a boot or load failure halts the master.
    host_.child_exit(pid, age);
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

int Arbiter::active_workers() const {
  return static_cast<int>(std::count_if(workers_.begin(), workers_.end(),
                                        [](const auto& entry) { return !entry.second.retiring; }));
}

void Arbiter::manage_workers() {
  // Workers being replaced do not count: their replacements start now, beside them.
  for (int active = active_workers(); active < num_workers_; ++active)
    spawn_worker();
  retire_replaced_workers();
  if (static_cast<int>(workers_.size()) != logged_worker_count_) {
    logged_worker_count_ = static_cast<int>(workers_.size());
    log::debug(std::to_string(logged_worker_count_) + " workers");
    if (statsd_) statsd_->gauge("gunicorn.workers", logged_worker_count_);
  }
  report_backlog();
  const int excess = active_workers() - num_workers_;
  if (excess <= 0) return;
  // Retire the oldest first, as gunicorn does; they leave the table when reaped.
  std::vector<std::pair<int, pid_t>> by_age;
  for (const auto& [pid, record] : workers_) {
    if (!record.retiring) by_age.emplace_back(record.age, pid);
  }
  std::sort(by_age.begin(), by_age.end());
  for (int i = 0; i < excess; ++i)
    kill_worker(by_age[static_cast<std::size_t>(i)].second, SIGTERM);
}

void Arbiter::check_worker_memory() {
  if (config_.max_worker_memory == 0) return;
  const std::int64_t now = util::monotonic_ns();
  for (auto& [pid, record] : workers_) {
    if (record.retiring) continue;
    const std::optional<std::uint64_t> resident = resident_bytes(pid);
    if (!resident || *resident <= config_.max_worker_memory) continue;
    log::info("Worker (pid:" + pid_text(pid) + ") uses " +
              std::to_string(*resident / (1024 * 1024)) + " MiB, more than max_worker_memory (" +
              std::to_string(config_.max_worker_memory / (1024 * 1024)) +
              " MiB): starting its replacement");
    record.retiring = true;
    record.retiring_since_ns = now;
  }
}

void Arbiter::check_retire_requests() {
  const std::int64_t now = util::monotonic_ns();
  for (auto& [pid, record] : workers_) {
    if (record.retiring || !record.retire_request || record.retire_request->load() == 0) continue;
    log::debug("Worker (pid:" + pid_text(pid) + ") served max_requests: starting its replacement");
    record.retiring = true;
    record.retiring_since_ns = now;
  }
}

void Arbiter::retire_replaced_workers() {
  // A replaced worker stops (gracefully) once every worker that counts is ready, that is,
  // has loaded the app and entered its loop: capacity never dips. A replacement that cannot
  // get ready within `timeout` does not keep the old worker forever.
  bool all_ready = true;
  for (const auto& [pid, record] : workers_) {
    if (!record.retiring &&
        record.heartbeat->load(std::memory_order_relaxed) <= record.spawned_ns) {
      all_ready = false;
    }
  }
  const std::int64_t now = util::monotonic_ns();
  const std::int64_t patience = util::seconds_to_ns(config_.timeout > 0 ? config_.timeout : 30);
  std::vector<pid_t> retire;
  for (auto& [pid, record] : workers_) {
    if (!record.retiring || record.retire_sent) continue;
    if (all_ready || now - record.retiring_since_ns > patience) {
      record.retire_sent = true;
      retire.push_back(pid);
    }
  }
  for (pid_t pid : retire)
    kill_worker(pid, SIGTERM);
}

void Arbiter::spawn_worker() {
  WorkerRecord record;
  record.age = ++worker_age_;
  std::string heartbeat_error;
  record.spawned_ns = util::monotonic_ns();
  record.retire_request = util::SharedCell<int>(0);
  record.heartbeat =
      util::new_heartbeat(config_.worker_tmp_dir, record.spawned_ns, heartbeat_error);
  if (!record.heartbeat) {
    log::error(heartbeat_error);
    throw Halt{"Can't create workertmp.", 1};
  }
  host_.pre_fork(record.age);
  const pid_t pid = host_.fork_process();
  if (pid < 0) {
    log::error("Unable to fork a worker: " + util::errno_text(errno));
    throw Halt{"Unable to fork a worker.", 1};
  }
  if (pid > 0) {
    const int age = record.age;
    workers_.emplace(pid, std::move(record));
    host_.worker_spawned(pid, age);
    return;
  }
  // In the new worker: keep only what it needs, then unwind out of the arbiter loop.
  signals_->release_in_child();
  WorkerLaunch launch;
  launch.age = record.age;
  launch.ppid = pid_;
  launch.listeners = std::move(listeners_);
  open_own_listeners(launch.listeners);
  launch.heartbeat = std::move(record.heartbeat);
  launch.retire_request = std::move(record.retire_request);
  launch.load_error_reported = &load_error_reported_;
  launch_.emplace(std::move(launch));
  workers_.clear();
  util::set_process_title("monoceros: worker [" + config_.proc_name + "]");
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
  if (::kill(pid, signal_number) == 0 || errno != ESRCH) return;
  // Already gone without being reaped: forget it, and tell the host as gunicorn does.
  auto found = workers_.find(pid);
  if (found == workers_.end()) return;
  const int age = found->second.age;
  workers_.erase(found);
  host_.worker_vanished(pid, age);
}

}  // namespace monoceros::arbiter
