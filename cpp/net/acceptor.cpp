// Acceptor: a worker's listening sockets and the accept loop over them.
#include "net/acceptor.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "util/clock.hpp"

namespace monoceros::net {
namespace {

// accept4() one connection, non-blocking and close-on-exec; -1 with errno otherwise.
int accept_one(const Listener& listener, SocketAddress& peer) noexcept {
  peer.length = sizeof peer.storage;
  const int fd = ::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&peer.storage),
                           &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0 && peer.is_ip()) {
    // Without it a response written in two pieces waits ~40 ms for a delayed ACK.
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  return fd;
}

bool out_of_descriptors(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

Acceptor::Acceptor(EventLoop& loop, std::uint8_t tag_kind, std::vector<Listener> listeners,
                   bool exclusive)
    : loop_(loop), exclusive_(exclusive) {
  for (Listener& listener : listeners) {
    auto slot = std::make_unique<Slot>();
    slot->kind = tag_kind;
    slot->listener = std::move(listener);
    register_slot(*slot);
    slots_.push_back(std::move(slot));
  }
}

bool Acceptor::register_slot(Slot& slot) noexcept {
  if (!slot.registered && slot.listener.fd) {
    slot.registered = loop_.add(slot.listener.fd.get(), Interest::read, &slot,
                                exclusive_ ? Trigger::exclusive : Trigger::level);
  }
  return slot.registered;
}

void Acceptor::unregister_slot(Slot& slot) noexcept {
  if (slot.registered) loop_.remove(slot.listener.fd.get());
  slot.registered = false;
}

bool Acceptor::accept_from(Slot& slot, Owner& owner) {
  const int limit = exclusive_ ? kAcceptsPerWakeup : 1;
  for (int taken = 0; taken < limit && accepting_ && !stopped_; ++taken) {
    // At the cap, someone gives way only to a connection that is really there.
    if (!owner.has_room() && (!connection_waiting(slot) || !owner.make_room(slot))) return true;
    Accepted accepted;
    const int fd = accept_one(slot.listener, accepted.peer);
    if (fd < 0) {
      const int error = errno;
      if (error == EINTR || error == ECONNABORTED) continue;
      if (out_of_descriptors(error)) {
        back_off(error, owner);
      } else if (error != EAGAIN && error != EWOULDBLOCK) {
        owner.accept_failed(error, false);
      }
      return true;
    }
    accepted.fd.reset(fd);
    if (!owner.take(std::move(accepted), slot, false)) return false;
  }
  return true;
}

bool Acceptor::connection_waiting(const Slot& slot) noexcept {
  pollfd listener{slot.listener.fd.get(), POLLIN, 0};
  return ::poll(&listener, 1, 0) == 1 && (listener.revents & POLLIN);
}

void Acceptor::back_off(int error, Owner& owner) {
  // Out of descriptors (or kernel memory): the listener stays readable, so retrying at once
  // would spin and flood the log. Stop listening for a moment (a closing connection also
  // resumes it) and say so at most once a second.
  const std::int64_t now = util::monotonic_ns();
  if (now - error_logged_ns_ > 1'000'000'000) {
    error_logged_ns_ = now;
    owner.accept_failed(error, true);
  }
  pause();
  backoff_until_ns_ = now + kBackoffNs;
}

void Acceptor::pause() noexcept {
  accepting_ = false;
  for (auto& slot : slots_)
    unregister_slot(*slot);
}

void Acceptor::resume() noexcept {
  if (stopped_) return;
  accepting_ = true;
  for (auto& slot : slots_)
    register_slot(*slot);
}

void Acceptor::hold_back(bool hold) noexcept {
  if (!accepting_ || stopped_) return;
  for (auto& slot : slots_) {
    if (hold) {
      unregister_slot(*slot);
    } else {
      register_slot(*slot);
    }
  }
}

void Acceptor::stop(Owner& owner) {
  // Connections already in the listen queue were accepted by the kernel and their clients
  // may have sent a request: take them before letting go of the listeners. A socket of this
  // worker's own (reuse_port) first stops taking new connections, so that none can arrive
  // between the drain and the close (the master does the same for shared sockets when the
  // whole server stops). Whether a listener is registered at this moment does not matter:
  // the queue is read directly.
  for (auto& slot : slots_) {
    if (slot->listener.sole_holder) refuse_new_connections(slot->listener);
  }
  for (auto& slot : slots_) {
    while (owner.has_room()) {
      Accepted accepted;
      const int fd = accept_one(slot->listener, accepted.peer);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        break;  // EAGAIN: the queue is empty (or another worker took the rest)
      }
      accepted.fd.reset(fd);
      owner.take(std::move(accepted), *slot, true);
    }
  }
  pause();
  stopped_ = true;
  // Let go of the sockets now, not when the worker exits: connections that arrive during the
  // graceful stop go to the workers still accepting (or, when the server stops, are refused),
  // rather than waiting in a queue this worker will never read.
  for (auto& slot : slots_)
    slot->listener.fd.reset();
}

}  // namespace monoceros::net
