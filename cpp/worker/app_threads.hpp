// AppThreads: the gthread worker's Python threads and the queue the event loop feeds them.
//
// The loop never holds the GIL: it accepts, reads and parses, and writes to clients that read
// slowly. A connection whose request is complete (or whose response needs the app again) is
// queued here and belongs to the thread that takes it until the thread hands it back to the
// loop (re-arming its one-shot registration) or closes it. A thread that finishes a request
// takes the next one from the queue without letting go of the GIL, so under load requests
// follow each other on one thread with no wake-up in between; idle threads sleep on a
// condition variable and are woken only when a request would otherwise wait.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "worker/connection.hpp"
#include "wsgi/python.hpp"

namespace monoceros::worker {

class AppThreads {
 public:
  // `loop_wakeup_fd` (an eventfd) is written when the loop must look at closed connections
  // (it waits for them while stopping, or at the connection cap) or at a fatal error.
  explicit AppThreads(int loop_wakeup_fd) noexcept : loop_wakeup_fd_(loop_wakeup_fd) {}
  AppThreads(const AppThreads&) = delete;
  AppThreads& operator=(const AppThreads&) = delete;

  // ---- the loop's side (no GIL)
  // The connection belongs to the app threads from now on.
  void push(Connection* connection);
  // Wakes the sleeping threads the pushes since the last call need; before the loop waits.
  void wake_threads();
  // Connections the threads have closed; the loop deletes them.
  void take_closed(std::vector<Connection*>& out);
  // Held while the loop walks its connections, so none is handed back meanwhile.
  std::mutex& mutex() noexcept { return mutex_; }
  // Whether closing a connection should wake the loop at once.
  void wake_loop_on_close(bool on) noexcept { wake_on_close_.store(on); }
  bool fatal() const noexcept { return fatal_.load(); }
  // Every thread returns from serve() once the queue is empty.
  void finish();
  // How many jobs threads took, and how many times a sleeping thread had to be woken for one
  // (the design's measure: under load, far fewer wake-ups than jobs).
  std::uint64_t jobs_taken();
  std::uint64_t wakeups();

  // ---- the threads' side (GIL held)
  // Runs requests until finish(); called by each of the worker's Python threads.
  void serve();
  // With the GIL: the BaseException (SystemExit...) a thread met becomes this thread's.
  void restore_fatal() noexcept;

 private:
  Connection* next();
  void settle(Connection* connection, Step step);
  void closed(Connection* connection, bool wake);
  void wake_loop() noexcept;

  int loop_wakeup_fd_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Connection*> queue_;    // guarded by mutex_
  std::vector<Connection*> closed_;  // guarded by mutex_
  std::size_t idle_ = 0;             // threads waiting on work_; guarded by mutex_
  std::size_t waking_ = 0;           // woken, not yet back with the GIL; guarded by mutex_
  std::uint64_t jobs_taken_ = 0;     // guarded by mutex_
  std::uint64_t wakeups_ = 0;        // guarded by mutex_
  std::size_t wakes_due_ = 0;        // guarded by mutex_
  bool finished_ = false;            // guarded by mutex_
  std::atomic<bool> wake_on_close_{false};
  std::atomic<bool> fatal_{false};
  PyObject* fatal_type_ = nullptr;  // the exception that stops the worker (GIL-guarded)
  PyObject* fatal_value_ = nullptr;
  PyObject* fatal_traceback_ = nullptr;
};

}  // namespace monoceros::worker
