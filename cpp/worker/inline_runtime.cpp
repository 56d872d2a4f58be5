// The inline app runtime: the app runs on the loop's thread (sync and event workers). The
// loop holds the GIL except while it waits for events, so the app's own threads run then.

#include "worker/app_runtime.hpp"
#include "wsgi/gil.hpp"
#include "wsgi/python.hpp"

namespace monoceros::worker {
namespace {

class InlineRuntime final : public AppRuntime {
 public:
  bool runs_inline() const noexcept override { return true; }
  net::Trigger connection_trigger() const noexcept override { return net::Trigger::level; }
  int threads() const noexcept override { return 0; }

  int run(const std::function<int()>& loop) override { return loop(); }
  bool wait(net::EventLoop& loop, std::span<net::Ready> ready, int timeout_ms, bool,
            int& count) override {
    {
      wsgi::GilReleased released;
      count = loop.wait(ready, timeout_ms);
    }
    return check_signals();
  }
  // Python-level signal handlers (TERM, INT, QUIT, ABRT, USR1) run here, on this thread.
  bool check_signals() override { return PyErr_CheckSignals() == 0; }
  void on_wakeup() noexcept override {}
  void hand_off(Connection&) override {}  // never asked: the app already ran
  bool close_elsewhere(Connection&) override { return false; }
  bool collect_closed(std::vector<Connection*>&) override { return true; }
  bool loop_owns(const Connection&) const noexcept override { return true; }
  std::unique_lock<std::mutex> hold_owners() override { return {}; }
  void serve() override {}
};

}  // namespace

std::unique_ptr<AppRuntime> make_inline_runtime() {
  return std::make_unique<InlineRuntime>();
}

}  // namespace monoceros::worker
