// The thread pool app runtime (gthread): the loop runs without the GIL and hands complete
// requests to `threads` Python threads (AppThreads), which run the app and write the response,
// and give the connection back (or close it). An eventfd wakes the loop when they must.
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "log/error_log.hpp"
#include "util/unique_fd.hpp"
#include "worker/app_runtime.hpp"
#include "worker/app_threads.hpp"
#include "worker/connection.hpp"
#include "wsgi/gil.hpp"
#include "wsgi/python.hpp"

namespace monoceros::worker {
namespace {

class ThreadPoolRuntime final : public AppRuntime {
 public:
  ThreadPoolRuntime(int threads, net::EventLoop& loop, net::LoopTag& wakeup_tag)
      : threads_(threads), wakeup_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!wakeup_) throw std::runtime_error("eventfd failed");
    loop.add(wakeup_.get(), net::Interest::read, &wakeup_tag);
    app_threads_ = std::make_unique<AppThreads>(wakeup_.get());
  }

  bool runs_inline() const noexcept override { return false; }
  // One-shot: an event disarms the connection, so the loop never hears of one an app thread
  // owns, and whoever owns it next re-arms it (Connection::rearm()).
  net::Trigger connection_trigger() const noexcept override { return net::Trigger::one_shot; }
  int threads() const noexcept override { return threads_; }

  int run(const std::function<int()>& loop) override {
    // The loop never holds the GIL; the app threads share it.
    int status;
    {
      wsgi::GilReleased released;
      status = loop();
      app_threads_->finish();
    }
    if (log::enabled(log::Level::debug)) {
      log::debug("App threads took " + std::to_string(app_threads_->jobs_taken()) + " jobs after " +
                 std::to_string(app_threads_->wakeups()) + " wake-ups");
    }
    if (status < 0 && !PyErr_Occurred()) app_threads_->restore_fatal();
    return status;
  }

  bool wait(net::EventLoop& loop, std::span<net::Ready> ready, int timeout_ms,
            bool wake_loop_on_close, int& count) override {
    app_threads_->wake_loop_on_close(wake_loop_on_close);
    app_threads_->wake_threads();
    // Signals are looked at when the wake-up pipe says one arrived (check_signals()).
    count = loop.wait(ready, timeout_ms);
    return true;
  }

  bool check_signals() override {
    wsgi::GilHeld held;
    return PyErr_CheckSignals() == 0;
  }

  void on_wakeup() noexcept override {
    std::uint64_t count;
    [[maybe_unused]] const auto ignored = ::read(wakeup_.get(), &count, sizeof count);
  }

  void hand_off(Connection& connection) override { app_threads_->push(&connection); }

  bool close_elsewhere(Connection& connection) override {
    // Letting go of Python objects needs the GIL: an app thread closes it.
    if (!connection.holds_python()) return false;
    connection.dispose();
    app_threads_->push(&connection);
    return true;
  }

  bool collect_closed(std::vector<Connection*>& out) override {
    app_threads_->take_closed(out);
    return !app_threads_->fatal();
  }

  bool loop_owns(const Connection& connection) const noexcept override {
    return !connection.with_app();
  }

  std::unique_lock<std::mutex> hold_owners() override {
    // Threads hand connections back under this lock; those the loop sees as its own stay
    // its own, since only the loop hands connections to threads.
    return std::unique_lock(app_threads_->mutex());
  }

  void serve() override { app_threads_->serve(); }

 private:
  int threads_;
  util::unique_fd wakeup_;
  std::unique_ptr<AppThreads> app_threads_;
};

}  // namespace

std::unique_ptr<AppRuntime> make_thread_pool_runtime(int threads, net::EventLoop& loop,
                                                     net::LoopTag& wakeup_tag) {
  return std::make_unique<ThreadPoolRuntime>(threads, loop, wakeup_tag);
}

}  // namespace monoceros::worker
