// Worker: one worker process's event loop, for the three worker classes.
// - sync: gunicorn's sync worker semantics. One request reaches the app at a time and every
//   response closes its connection, but heads and bodies of many clients are read concurrently
//   and responses are written as each client reads, so one slow client never holds the process.
// - event: the same loop keeping connections alive and answering pipelined requests; the app
//   runs on the loop's thread as soon as a request is complete.
// - gthread: the loop runs without the GIL and hands complete requests to `threads` Python
//   threads (AppThreads), which run the app and write the response.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/acceptor.hpp"
#include "net/address_matcher.hpp"
#include "net/event_loop.hpp"
#include "net/listener.hpp"
#include "util/shared_memory.hpp"
#include "util/unique_fd.hpp"
#include "worker/app_runtime.hpp"
#include "worker/config.hpp"
#include "worker/connection.hpp"
#include "worker/context.hpp"
#include "wsgi/environ.hpp"
#include "wsgi/py_ref.hpp"

namespace monoceros::worker {

class Worker final : private net::Acceptor::Owner {
 public:
  // `app` is borrowed for the worker's life. Throws std::runtime_error on setup failure.
  // `retire_request` is set to 1 once max_requests is reached (the arbiter replaces the
  // worker); without one (0-sized) the worker stops by itself, as gunicorn's does.
  Worker(const WorkerConfig& config, std::vector<net::Listener> listeners,
         util::Heartbeat heartbeat, pid_t parent, PyObject* app,
         util::SharedCell<int> retire_request = {});
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() override;

  // Runs until stopped: 0 after a normal stop, -1 when a Python exception is pending (a signal
  // handler raised SystemExit, or the app raised a BaseException). Needs the GIL.
  int run();

  // gthread: run by each of the worker's Python threads (GIL held); returns once run() has.
  // Returns at once for the other worker classes.
  void serve_requests() { runtime_->serve(); }
  int threads() const noexcept { return runtime_->threads(); }

  // Graceful stop (SIGTERM): accept nothing new, finish what was accepted, then return.
  void request_stop() noexcept { stopping_ = true; }
  bool stopping() const noexcept { return stopping_; }

  // The write end to pass to signal.set_wakeup_fd, so a signal interrupts the wait at once.
  int wakeup_fd() const noexcept { return wakeup_write_.get(); }
  std::uint64_t requests() const noexcept { return context_.requests.load(); }

 private:
  int run_loop();
  bool forget_closed_elsewhere();
  bool handle(net::LoopTag* tag, const net::Ready& ready);
  bool settle(Connection* connection, Step step);
  bool take_turns();
  void close_connection(Connection* connection);
  void forget_connection(Connection* connection);
  void pause_accepting();
  void resume_accepting();
  void begin_shutdown();
  // net::Acceptor::Owner
  bool has_room() override;
  bool make_room(const net::Acceptor::Slot& slot) override;
  bool take(net::Acceptor::Accepted accepted, net::Acceptor::Slot& slot, bool draining) override;
  void accept_failed(int error, bool backing_off) override;
  bool exclusive() const noexcept;
  int defer_accepting(std::int64_t now);
  void retire_after_max_requests();
  void expire_connections();
  std::vector<Connection*> loop_owned_connections();
  int tick_ms() const;

  WorkerConfig config_;
  net::EventLoop loop_;
  net::AddressMatcher trusted_proxies_;
  net::AddressMatcher proxy_senders_;
  wsgi::EnvironBuilder environ_;
  WorkerContext context_;
  net::Acceptor acceptor_;
  util::Heartbeat heartbeat_;
  util::SharedCell<int> retire_request_;
  std::int64_t retire_requested_ns_ = 0;  // when max_requests was reached
  pid_t parent_;
  net::LoopTag wakeup_tag_ = loop_tag(TagKind::wakeup);
  util::unique_fd wakeup_read_;
  util::unique_fd wakeup_write_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> closed_;
  // event: connections owed a turn at the end of the round: those accepted during it, and
  // those that left pipelined requests for later. Served after every connection that was
  // ready, so newcomers and long pipelines take their turn instead of everyone's.
  std::vector<Connection*> turns_;
  std::vector<Connection*> turns_now_;  // the round's list while take_turns() walks it
  // Where the app runs (AppRuntime); its wake-up, if it has one, is reported under this tag.
  net::LoopTag runtime_tag_ = loop_tag(TagKind::app_runtime);
  std::unique_ptr<AppRuntime> runtime_;
  std::vector<Connection*> closed_elsewhere_;
  std::atomic<bool> stopping_ = false;
  bool shutting_down_ = false;
  Connection* last_accepted_ = nullptr;  // the newest connection, until it closes
  std::int64_t last_accepted_ns_ = 0;
  bool resume_after_turns_ = false;     // see make_room
  std::int64_t give_way_retry_ns_ = 0;  // likewise
};

}  // namespace monoceros::worker
