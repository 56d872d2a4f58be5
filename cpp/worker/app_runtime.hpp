// AppRuntime: where the app runs once a request is ready, chosen once per worker from its
// kind. The loop, the acceptor and the HTTP/1 exchange are the same for every runtime; only
// this interface differs between "the app runs on the loop's thread" (sync, event) and "the
// app runs on a pool of Python threads" (gthread). A greenlet or asyncio runtime is another
// implementation of it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "net/event_loop.hpp"

namespace monoceros::worker {

class Connection;

class AppRuntime {
 public:
  virtual ~AppRuntime() = default;

  // ---- fixed for the worker's life
  // True: the loop's thread calls the app as soon as a request is complete. False: complete
  // requests are handed off (Step::hand_off) and the connection is the runtime's until it
  // gives it back to the loop.
  virtual bool runs_inline() const noexcept = 0;
  // How connections are registered with the loop (one-shot when another thread may own one).
  virtual net::Trigger connection_trigger() const noexcept = 0;
  // How many Python threads must call serve() (0: none; the app runs inside run()).
  virtual int threads() const noexcept = 0;

  // ---- on the loop's thread
  // Runs the worker's loop under this runtime's rule for the GIL; returns the loop's status.
  virtual int run(const std::function<int()>& loop) = 0;
  // Waits for the loop's events (at most timeout_ms) into `ready`; sets `count`. False when a
  // Python signal handler raised (the worker must stop). `wake_loop_on_close`: a connection
  // closed elsewhere must wake the loop at once (accepting is paused, or the worker stops).
  virtual bool wait(net::EventLoop& loop, std::span<net::Ready> ready, int timeout_ms,
                    bool wake_loop_on_close, int& count) = 0;
  // Runs Python's pending signal handlers; false when one raised.
  virtual bool check_signals() = 0;
  // The runtime's own wake-up (its tag, registered with the loop) was reported.
  virtual void on_wakeup() noexcept = 0;
  // Takes a connection whose app must run next.
  virtual void hand_off(Connection& connection) = 0;
  // Closes a connection that holds Python objects where the GIL is held: false when the
  // loop's thread may close it itself.
  virtual bool close_elsewhere(Connection& connection) = 0;
  // Connections the runtime closed since the last call, for the loop to forget. False when
  // the app raised a BaseException (SystemExit...): the worker must stop.
  virtual bool collect_closed(std::vector<Connection*>& out) = 0;
  // Whether the loop owns the connection now (not an app thread).
  virtual bool loop_owns(const Connection& connection) const noexcept = 0;
  // Held while the loop walks its connections, so that none changes owner meanwhile.
  virtual std::unique_lock<std::mutex> hold_owners() = 0;

  // ---- on the app's threads
  // Runs requests until run() has returned (returns at once when threads() is 0).
  virtual void serve() = 0;
};

// The app on the loop's thread (sync, event).
std::unique_ptr<AppRuntime> make_inline_runtime();
// The app on `threads` Python threads (gthread); `loop` gets the runtime's wake-up registered
// under `wakeup_tag`.
std::unique_ptr<AppRuntime> make_thread_pool_runtime(int threads, net::EventLoop& loop,
                                                     net::LoopTag& wakeup_tag);

}  // namespace monoceros::worker
