// The signal verbs: dispatch() hands each queued signal to its handle_<signal>(), as gunicorn.
#include <algorithm>
#include <csignal>
#include <string>

#include "arbiter/arbiter.hpp"
#include "arbiter/arbiter_internal.hpp"
#include "arbiter/sd_notify.hpp"
#include "log/error_log.hpp"

namespace monoceros::arbiter {
namespace {

using detail::kBootedStatus;

// The same addresses, whatever their order.
bool same_addresses(const std::vector<net::ListenSpec>& a, const std::vector<net::ListenSpec>& b) {
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(), [&](const net::ListenSpec& spec) {
    return std::count(a.begin(), a.end(), spec) == std::count(b.begin(), b.end(), spec);
  });
}

}  // namespace

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

}  // namespace monoceros::arbiter
