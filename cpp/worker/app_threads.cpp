// AppThreads: the gthread worker's Python threads and the queue the event loop feeds them.
#include "worker/app_threads.hpp"

#include <unistd.h>

#include <cstdint>

#include "wsgi/deferred_release.hpp"
#include "wsgi/gil.hpp"

namespace monoceros::worker {

void AppThreads::push(Connection* connection) {
  connection->set_with_app(true);
  std::lock_guard lock(mutex_);
  queue_.push_back(connection);
  // One sleeping thread per queued request: a thread already running takes the rest when it
  // is done, without a wake-up. The wake-ups wait for wake_threads(), once the loop's batch
  // of events is handled: a thread woken at once would take the processor from the loop (on
  // a busy machine they share one) and find a single request where a batch was coming.
  // A thread woken earlier that has not taken its request yet (it waits for the GIL) counts
  // as sleeping: that request is still in the queue.
  if (idle_ > 0 && queue_.size() <= idle_ + waking_) ++wakes_due_;
}

void AppThreads::wake_threads() {
  std::size_t due;
  {
    std::lock_guard lock(mutex_);
    due = wakes_due_;
    wakes_due_ = 0;
    wakeups_ += due;
  }
  for (; due > 0; --due)
    work_.notify_one();
}

void AppThreads::take_closed(std::vector<Connection*>& out) {
  std::lock_guard lock(mutex_);
  out.swap(closed_);
}

std::uint64_t AppThreads::jobs_taken() {
  std::lock_guard lock(mutex_);
  return jobs_taken_;
}

std::uint64_t AppThreads::wakeups() {
  std::lock_guard lock(mutex_);
  return wakeups_;
}

void AppThreads::finish() {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  work_.notify_all();
}

void AppThreads::serve() {
  while (Connection* connection = next()) {
    wsgi::release_deferred();
    settle(connection, connection->run_on_app_thread());
    wsgi::release_deferred();
  }
}

Connection* AppThreads::next() {
  bool woken = false;
  for (;;) {
    {
      // Under load the next request is already queued: take it with the GIL still held.
      std::lock_guard lock(mutex_);
      if (woken) --waking_;
      woken = false;
      if (!queue_.empty()) {
        Connection* connection = queue_.front();
        queue_.pop_front();
        ++jobs_taken_;
        return connection;
      }
      if (finished_) return nullptr;
    }
    // Sleep without the GIL. A woken thread takes its request only once it holds the GIL
    // again (at the next turn): a request taken before would wait, up to the interpreter's
    // switch interval, for a GIL the running thread keeps while it drains the queue, when
    // that thread could have run it at once. The GIL is let go before the lock is taken (the
    // loop takes the lock without the GIL) and taken back after the lock is let go.
    wsgi::GilReleased released;
    std::unique_lock lock(mutex_);
    ++idle_;
    work_.wait(lock, [this] { return !queue_.empty() || finished_; });
    --idle_;
    ++waking_;
    woken = true;
  }
}

void AppThreads::settle(Connection* connection, Step step) {
  switch (step) {
    case Step::keep: {
      // Back to the loop: reading the next request, or writing to a slow client.
      std::lock_guard lock(mutex_);
      connection->hand_back();
      return;
    }
    case Step::fatal:
      // SystemExit or KeyboardInterrupt in the app: the worker stops, as a sync worker
      // does; the exception is re-raised in the loop's thread.
      if (!fatal_type_) PyErr_Fetch(&fatal_type_, &fatal_value_, &fatal_traceback_);
      PyErr_Clear();
      fatal_.store(true);
      connection->close_now();
      closed(connection, true);
      return;
    case Step::close:
    case Step::hand_off:
      connection->close_now();
      closed(connection, wake_on_close_.load());
      return;
  }
}

void AppThreads::closed(Connection* connection, bool wake) {
  {
    std::lock_guard lock(mutex_);
    closed_.push_back(connection);
  }
  if (wake) wake_loop();
}

void AppThreads::wake_loop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(loop_wakeup_fd_, &one, sizeof one);
}

void AppThreads::restore_fatal() noexcept {
  if (!fatal_type_) return;
  PyErr_Restore(fatal_type_, fatal_value_, fatal_traceback_);
  fatal_type_ = fatal_value_ = fatal_traceback_ = nullptr;
}

}  // namespace monoceros::worker
