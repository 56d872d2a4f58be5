// Arbiter: the master process loop, verb for verb gunicorn's: signals are queued, the loop
// dispatches them to handle_<signal>(), then murders stuck workers and manages the count.
#include "arbiter/arbiter.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>

#include "arbiter/listen_fds.hpp"
#include "arbiter/sd_notify.hpp"
#include "arbiter/worker_memory.hpp"
#include "log/error_log.hpp"
#include "net/listen_queues.hpp"
#include "util/clock.hpp"
#include "util/errno_text.hpp"
#include "util/heartbeat.hpp"
#include "util/process_title.hpp"

namespace monoceros::arbiter {
namespace {

constexpr int kBindAttempts = 5;
constexpr int kLoopTickMs = 1000;
constexpr std::string_view kBootedStatus = "monoceros arbiter booted";

std::string pid_text(pid_t pid) {
  return std::to_string(pid);
}

// The same addresses, whatever their order.
bool same_addresses(const std::vector<net::ListenSpec>& a, const std::vector<net::ListenSpec>& b) {
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(), [&](const net::ListenSpec& spec) {
    return std::count(a.begin(), a.end(), spec) == std::count(b.begin(), b.end(), spec);
  });
}

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

std::optional<std::vector<net::Listener>> Arbiter::open_listeners(
    const std::vector<net::ListenSpec>& binds) {
  std::vector<net::Listener> opened;
  for (const net::ListenSpec& spec : binds) {
    std::optional<net::Listener> listener;
    for (int attempt = 1; attempt <= kBindAttempts && !listener; ++attempt) {
      std::string error;
      int code = 0;
      listener = net::open_listener(spec, listen_options(), error, code);
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
      return std::nullopt;
    }
    opened.push_back(std::move(*listener));
  }
  return opened;
}

void Arbiter::rebind_listeners(const std::vector<net::ListenSpec>& binds) {
  // Addresses kept across the reload keep their sockets (no moment without a listener, no
  // EADDRINUSE against ourselves); the others are opened, and the dropped ones closed.
  std::vector<bool> reused(listeners_.size(), false);
  std::vector<std::size_t> origin;  // for each kept listener (in new order), its old index
  std::vector<net::ListenSpec> added;
  for (const net::ListenSpec& spec : binds) {
    std::size_t index = 0;
    while (index < bound_.size() && (reused[index] || !(bound_[index] == spec)))
      ++index;
    if (index < bound_.size()) {
      reused[index] = true;
      origin.push_back(index);
    } else {
      added.push_back(spec);
    }
  }
  std::optional<std::vector<net::Listener>> opened = open_listeners(added);
  if (!opened) {
    log::error("Reload keeps the old listeners: a new address could not be bound");
    return;
  }
  // The kept sockets first, then the new ones; bound_ follows the same order.
  std::vector<net::Listener> next;
  std::vector<net::ListenSpec> next_bound;
  for (std::size_t index : origin) {
    next.push_back(std::move(listeners_[index]));
    next_bound.push_back(bound_[index]);
  }
  for (std::size_t i = 0; i < opened->size(); ++i) {
    next.push_back(std::move((*opened)[i]));
    next_bound.push_back(added[i]);
  }
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!reused[i] && !listeners_[i].unix_path.empty()) ::unlink(listeners_[i].unix_path.c_str());
  }
  listeners_ = std::move(next);
  bound_ = std::move(next_bound);
  log_listening();
}

void Arbiter::log_listening() const {
  // One line for all listeners, comma-separated, as gunicorn prints it.
  std::string urls;
  for (const net::Listener& listener : listeners_) {
    if (!urls.empty()) urls += ',';
    urls += listener.url;
  }
  log::info("Listening at: " + urls + " (" + pid_text(pid_) + ")");
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
  log::info("Hang up: Master");
  reload();
}

void Arbiter::reload() {
  // systemd (Type=notify-reload) waits for READY=1 after RELOADING=1, whatever the outcome.
  // (Not sent on the way out by a destructor: a worker forked below unwinds through here.)
  notify_reloading("Reloading");
  // The host re-reads the configuration (and sets logging up again); on a bad configuration
  // it says why and the server carries on as it was.
  std::optional<ArbiterConfig> fresh = host_.reload();
  if (!fresh) {
    notify_ready(kBootedStatus);
    return;
  }
  const bool rebind = !same_addresses(fresh->binds, bound_);
  fresh->version = config_.version;
  config_ = std::move(*fresh);
  set_num_workers(config_.workers);
  if (rebind) rebind_listeners(config_.binds);
  host_.on_reload();
  // New workers start with the new configuration (and load the app again, unless it was
  // preloaded); manage_workers() then retires the oldest, which are the old ones.
  for (int i = 0; i < config_.workers; ++i)
    spawn_worker();
  manage_workers();
  notify_ready(kBootedStatus);
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
  set_num_workers(num_workers_ + 1);
}

void Arbiter::handle_ttou() {
  if (num_workers_ > 1) set_num_workers(num_workers_ - 1);
}

void Arbiter::handle_usr1() {
  host_.reopen_logs();
  kill_workers(SIGUSR1);
}

void Arbiter::handle_usr2() {
  reexec();
}

void Arbiter::reexec() {
  if (reexec_pid_ != 0) {
    log::warning("USR2 signal ignored. Child exists.");
    return;
  }
  if (master_pid_ != 0) {
    log::warning("USR2 signal ignored. Parent exists.");
    return;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = host_.fork_process();
  if (pid < 0) {
    log::error("Unable to fork a new master: " + util::errno_text(errno));
    return;
  }
  if (pid > 0) {
    reexec_pid_ = pid;
    return;
  }
  // The child becomes the new master: the listening sockets cross exec(), nothing else of
  // this process's state does (signal dispositions back to default, the self-pipe closed).
  signals_->release_in_child();
  std::vector<int> fds;
  for (const net::Listener& listener : listeners_)
    fds.push_back(listener.fd.get());
  // Under systemd the sockets go on the systemd way: a count, the sockets from fd 3 on.
  std::string error;
  if (!make_inheritable(fds, systemd_, error)) {
    log::error("Could not start a new master: " + error);
    ::_exit(1);
  }
  host_.exec_new_master(parent, fds);
  log::error("Could not start a new master: exec failed");
  ::_exit(1);
}

void Arbiter::maybe_promote_master() {
  if (master_pid_ == 0 || ::getppid() == master_pid_) return;
  // The old master is gone: this one carries on alone, under the usual names.
  log::info("Master has been promoted.");
  master_pid_ = 0;
  ::unsetenv("GUNICORN_PID");
  host_.promoted();
  util::set_process_title(master_title());
}

std::string Arbiter::master_title() const {
  // The new master of an upgrade is "<name>.2" until it is promoted, as in gunicorn.
  return "monoceros: master [" + config_.proc_name + (master_pid_ != 0 ? ".2" : "") + "]";
}

void Arbiter::handle_winch() {
  // A daemon has no terminal whose resize could send WINCH: gunicorn reads it as "stop the
  // workers gracefully" (the master stays, TTIN brings workers back).
  if (!config_.daemon) {
    log::debug("SIGWINCH ignored. Not daemonized");
    return;
  }
  log::info("graceful stop of workers");
  set_num_workers(0);
  kill_workers(SIGTERM);
}

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

void Arbiter::report_backlog() {
  if (!config_.backlog_metric) return;
  int backlog = 0;
  for (const net::Listener& listener : listeners_) {
    // reuse_port: the master's socket is a reservation with no queue; the workers' sockets
    // on the same address hold them.
    const int waiting = listener.per_worker ? net::listen_queue_length(listener.address)
                                            : net::accept_queue_length(listener);
    if (waiting > 0) backlog += waiting;
  }
  log::debug("socket backlog: " + std::to_string(backlog));
  if (statsd_) statsd_->histogram("gunicorn.backlog", backlog);
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

net::ListenOptions Arbiter::listen_options() const {
  net::ListenOptions options;
  options.backlog = config_.backlog;
  options.umask_bits = config_.umask;
  options.reuse_port = config_.reuse_port;
  return options;
}

void Arbiter::open_own_listeners(std::vector<net::Listener>& listeners) const {
  // reuse_port, in a new worker: the master's reservations give way to sockets of the
  // worker's own, as gunicorn's workers create theirs after fork. The address is reserved,
  // so this fails only for want of resources; the worker then cannot serve at all.
  for (net::Listener& listener : listeners) {
    if (!listener.per_worker) continue;
    std::string error;
    std::optional<net::Listener> own = net::open_own_listener(listener, config_.backlog, error);
    if (!own) {
      log::error(error);
      ::_exit(kWorkerBootError);
    }
    listener = std::move(*own);
  }
}

void Arbiter::close_listeners() {
  // While two masters share the sockets (an upgrade in progress), the socket files stay.
  const bool unlink = reexec_pid_ == 0 && master_pid_ == 0;
  // When the sockets end with this server, no new connection may enter their queues from
  // now on: the workers, told to stop after this, take what is queued, and a client that
  // connects later is refused (a load balancer retries elsewhere) instead of being reset when
  // the last worker closes the socket. Not when the sockets live on: shared with another
  // master (an upgrade), systemd's (it queues connections for the next start), or handed to
  // us as fd://N by a process that may still use them.
  const bool sockets_end_here = unlink && !systemd_;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    const net::Listener& listener = listeners_[i];
    if (unlink && !listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
    const bool handed = i < bound_.size() && bound_[i].kind == net::ListenSpec::Kind::fd;
    if (sockets_end_here && !handed && !listener.per_worker) net::refuse_new_connections(listener);
  }
  listeners_.clear();
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
