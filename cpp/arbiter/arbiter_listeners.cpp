// The listening sockets: bind (with retries), rebind on reload, per-worker sockets, backlog, close.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/arbiter.hpp"
#include "arbiter/arbiter_internal.hpp"
#include "log/error_log.hpp"
#include "net/listen_queues.hpp"

namespace monoceros::arbiter {
namespace {

using detail::pid_text;

constexpr int kBindAttempts = 5;

}  // namespace

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

}  // namespace monoceros::arbiter
