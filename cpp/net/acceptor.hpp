// Acceptor: a worker's listening sockets and the accept loop over them: how many connections
// one wake-up takes, TCP_NODELAY, the back-off when descriptors run out, pausing and resuming
// (connection cap, shutdown), the last drain of the queues and letting go of the sockets.
// Who may connect and what becomes of a connection is the owner's (Acceptor::Owner).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/event_loop.hpp"
#include "net/listener.hpp"
#include "net/socket_address.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::net {

class Acceptor {
 public:
  // One listening socket, registered with the loop under the owner's tag kind.
  struct Slot : LoopTag {
    Listener listener;
    bool registered = false;  // false while accepting is paused or held back
  };

  // A connection taken from a listener: non-blocking, close-on-exec, TCP_NODELAY for TCP.
  struct Accepted {
    util::unique_fd fd;
    SocketAddress peer;
  };

  // What the acceptor asks of whoever owns the connections.
  class Owner {
   public:
    virtual ~Owner() = default;
    // Below the connection cap.
    virtual bool has_room() = 0;
    // At the cap, with a connection waiting on `slot`: closes one to make room (true), or
    // pauses accepting (false).
    virtual bool make_room(const Slot& slot) = 0;
    // Takes a new connection. `draining`: the last drain at shutdown, where the connection is
    // only registered (its request is read by the loop). False: a fatal error, stop the loop.
    virtual bool take(Accepted accepted, Slot& slot, bool draining) = 0;
    // accept() failed with `error` (errno). `backing_off`: descriptors ran out and accepting
    // pauses for kBackoffNs; reported at most once a second.
    virtual void accept_failed(int error, bool backing_off) = 0;
  };

  // The most connections one wake-up takes from a listener shared exclusively.
  static constexpr int kAcceptsPerWakeup = 64;
  // How long accepting pauses after running out of descriptors.
  static constexpr std::int64_t kBackoffNs = 100'000'000;

  // `exclusive`: the workers sharing the listeners take everything queued, one of them woken
  // per connection (EPOLLEXCLUSIVE); otherwise one connection per wake-up, and every idle
  // worker is woken (a sync worker runs each request before it looks again, so a connection
  // waits for a busy worker only when none is free, as with gunicorn's blocking accept()).
  Acceptor(EventLoop& loop, std::uint8_t tag_kind, std::vector<Listener> listeners, bool exclusive);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // A listener is readable: takes what the owner admits. False when owner.take() failed.
  bool accept_from(Slot& slot, Owner& owner);
  // Whether a connection is waiting in the slot's queue (without taking it).
  static bool connection_waiting(const Slot& slot) noexcept;

  bool accepting() const noexcept { return accepting_; }
  // Stops listening (the connection cap, or a stop); resume() listens again.
  void pause() noexcept;
  void resume() noexcept;
  // Not accepting until this time (monotonic ns) because descriptors ran out; 0: not backing
  // off. The owner resumes once it has passed (or a connection closed meanwhile).
  std::int64_t backoff_until_ns() const noexcept { return backoff_until_ns_; }
  void end_backoff() noexcept { backoff_until_ns_ = 0; }
  // Leaves new connections to the other workers for a while without pausing (sync worker,
  // see worker::Worker::defer_accepting); false lets them come again.
  void hold_back(bool hold) noexcept;

  // The graceful stop: sockets no other process holds stop taking connections, the queues
  // are drained into the owner (as far as it has room), and every socket is closed, so what
  // arrives later goes to the workers still accepting, or is refused.
  void stop(Owner& owner);
  bool stopped() const noexcept { return stopped_; }

  const std::vector<std::unique_ptr<Slot>>& slots() const noexcept { return slots_; }

 private:
  bool register_slot(Slot& slot) noexcept;
  void unregister_slot(Slot& slot) noexcept;
  void back_off(int error, Owner& owner);

  EventLoop& loop_;
  std::vector<std::unique_ptr<Slot>> slots_;
  bool exclusive_;
  bool accepting_ = true;
  bool stopped_ = false;
  std::int64_t backoff_until_ns_ = 0;
  std::int64_t error_logged_ns_ = 0;
};

}  // namespace monoceros::net
