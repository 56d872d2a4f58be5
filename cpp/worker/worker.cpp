// Worker: one worker process's event loop (sync, event and gthread).
#include "worker/worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "log/error_log.hpp"
#include "util/clock.hpp"
#include "util/errno_text.hpp"
#include "util/temp_file.hpp"

namespace monoceros::worker {
namespace {

constexpr int kMaxEvents = 128;
// How long a graceful stop waits for the first bytes of connections already accepted.
constexpr std::int64_t kShutdownIdleGraceNs = 2'000'000'000;
// How long a sync worker leaves new connections to other workers while the one it has just
// accepted has not sent its request (see defer_accepting).
constexpr std::int64_t kFreshNs = 50'000'000;
// At the connection cap, only a connection that has waited this long for its request head
// gives way to a new one: a client that has just connected (or just been answered) is about
// to send, and is left alone. When all of them are that young, accepting pauses until the
// oldest is old enough (give_way_retry_ns_).
constexpr std::int64_t kGiveWayAfterNs = 100'000'000;

}  // namespace

Worker::Worker(const WorkerConfig& config, std::vector<net::Listener> listeners,
               util::Heartbeat heartbeat, pid_t parent, PyObject* app,
               util::SharedCell<int> retire_request)
    : config_(config),
      environ_(config_.environ),

      context_{config_,      loop_, environ_, trusted_proxies_, proxy_senders_, app, std::nullopt,
               std::nullopt, {},    0},
      acceptor_(loop_, static_cast<std::uint8_t>(TagKind::listener), std::move(listeners),
                exclusive()),
      heartbeat_(std::move(heartbeat)),
      retire_request_(std::move(retire_request)),
      parent_(parent) {
  if (auto bad = trusted_proxies_.assign(config_.forwarded_allow_ips)) {
    throw std::runtime_error("invalid forwarded_allow_ips entry: " + *bad);
  }
  if (auto bad = proxy_senders_.assign(config_.proxy_allow_ips)) {
    throw std::runtime_error("invalid proxy_allow_ips entry: " + *bad);
  }
  if (heartbeat_) context_.heartbeat = &*heartbeat_;
  context_.spool_directory = util::temp_directory(config_.tmp_upload_dir);
  context_.spool_budget = std::make_shared<util::SpoolBudget>(
      config_.body_spool_limit >= 0
          ? static_cast<std::uint64_t>(config_.body_spool_limit)
          : util::automatic_spool_limit(context_.spool_directory, config_.workers));
  if (config_.access_log) context_.access_log.emplace(config_.access_log_format);
  if (config_.statsd) {
    std::string error;
    context_.statsd = log::StatsdClient::open(*config_.statsd, config_.statsd_prefix,
                                              config_.dogstatsd_tags, error);
    if (!context_.statsd) log::warning("StatsD metrics are off in this worker: " + error);
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  wakeup_read_.reset(fds[0]);
  wakeup_write_.reset(fds[1]);
  loop_.add(wakeup_read_.get(), net::Interest::read, &wakeup_tag_);
  // Where the app runs, chosen once from the worker's kind.
  switch (config_.kind) {
    case WorkerKind::sync:
    case WorkerKind::event:
      runtime_ = make_inline_runtime();
      break;
    case WorkerKind::gthread:
      runtime_ = make_thread_pool_runtime(std::max(1, config_.threads), loop_, runtime_tag_);
      break;
  }
  context_.app_inline = runtime_->runs_inline();
  context_.connection_trigger = runtime_->connection_trigger();
}

Worker::~Worker() {
  closed_.clear();
  connections_.clear();
}

int Worker::tick_ms() const {
  // The heartbeat must beat well within `timeout`; gunicorn waits timeout/2 at most.
  if (config_.timeout <= 0) return 1000;
  const int half = static_cast<int>(config_.timeout * 500);
  return half < 1000 ? (half < 50 ? 50 : half) : 1000;
}

int Worker::run() {
  return runtime_->run([this] { return run_loop(); });
}

bool Worker::forget_closed_elsewhere() {
  const bool fine = runtime_->collect_closed(closed_elsewhere_);
  for (Connection* connection : closed_elsewhere_)
    forget_connection(connection);
  closed_elsewhere_.clear();
  return fine;
}

int Worker::run_loop() {
  net::Ready ready[kMaxEvents];
  std::int64_t next_housekeeping = 0;
  for (;;) {
    const std::int64_t now = util::monotonic_ns();
    heartbeat_->store(now, std::memory_order_relaxed);
    if (!forget_closed_elsewhere()) return -1;
    if (stopping_ && !shutting_down_) begin_shutdown();
    if (shutting_down_ && connections_.empty()) return 0;
    if (now >= next_housekeeping) {
      if (::getppid() != parent_) {
        log::info("Parent changed, shutting down: " + std::to_string(::getpid()));
        return 0;
      }
      expire_connections();
      closed_.clear();
      // Paused at the cap: connections that had requests in progress then may be waiting
      // for their next one by now, and so may give way (make_room).
      if (!acceptor_.accepting() && !shutting_down_ && acceptor_.backoff_until_ns() == 0) {
        resume_accepting();
      }
      next_housekeeping = now + 1'000'000'000 / 2;
    }
    if (acceptor_.backoff_until_ns() != 0 && now >= acceptor_.backoff_until_ns()) {
      acceptor_.end_backoff();
      if (!shutting_down_ && static_cast<int>(connections_.size()) < config_.worker_connections) {
        resume_accepting();
      }
    }
    if (give_way_retry_ns_ != 0 && now >= give_way_retry_ns_) {
      // Paused at the cap while every connection waiting for a head was too young to give
      // way: the oldest of them is old enough now.
      give_way_retry_ns_ = 0;
      if (!acceptor_.accepting() && !shutting_down_ && acceptor_.backoff_until_ns() == 0) {
        resume_accepting();
      }
    }
    int wait_ms = defer_accepting(now);
    for (const std::int64_t until : {acceptor_.backoff_until_ns(), give_way_retry_ns_}) {
      if (until != 0) {
        wait_ms = std::min(wait_ms, static_cast<int>((until - now) / 1'000'000) + 1);
      }
    }
    if (!turns_.empty()) wait_ms = 0;  // connections with requests already buffered
    int count = 0;
    // While accepting is paused (the cap, a stop), a connection closed elsewhere must wake
    // the loop at once: it may let accepting resume, or be the last one.
    const bool wake_on_close = shutting_down_ || !acceptor_.accepting();
    if (!runtime_->wait(loop_, ready, wait_ms, wake_on_close, count)) return -1;
    for (int i = 0; i < count; ++i) {
      if (!handle(static_cast<net::LoopTag*>(ready[i].tag()), ready[i])) return -1;
    }
    if (!take_turns()) return -1;
    if (resume_after_turns_) {
      // The connections spared at the cap have been read: try again (make_room).
      resume_after_turns_ = false;
      if (!acceptor_.accepting() && !shutting_down_) resume_accepting();
    }
    closed_.clear();
    if (config_.max_requests != 0 && !stopping_ && context_.requests >= config_.max_requests) {
      retire_after_max_requests();
    }
  }
}

bool Worker::handle(net::LoopTag* tag, const net::Ready& ready) {
  switch (static_cast<TagKind>(tag->kind)) {
    case TagKind::wakeup: {
      char drain[64];
      while (::read(wakeup_read_.get(), drain, sizeof drain) > 0) {
      }
      return runtime_->check_signals();
    }
    case TagKind::app_runtime:
      runtime_->on_wakeup();
      return true;  // the round's start forgets what the runtime closed
    case TagKind::listener:
      return acceptor_.accept_from(*static_cast<net::Acceptor::Slot*>(tag), *this);
    case TagKind::connection: {
      auto* connection = static_cast<Connection*>(tag);
      if (!connections_.contains(connection)) return true;  // closed earlier in this batch
      if (!runtime_->loop_owns(*connection)) return true;   // not ours (never armed)
      if (ready.failed()) return settle(connection, Step::close);
      Step step = Step::keep;
      if (ready.writable()) step = connection->on_writable();
      if (step == Step::keep && ready.readable()) step = connection->on_readable();
      return settle(connection, step);
    }
  }
  return true;
}

bool Worker::settle(Connection* connection, Step step) {
  switch (step) {
    case Step::keep:
      // One-shot: the event disarmed it.
      if (context_.connection_trigger == net::Trigger::one_shot) connection->rearm();
      if (connection->wants_turn() && std::ranges::find(turns_, connection) == turns_.end()) {
        turns_.push_back(connection);
      }
      return true;
    case Step::hand_off:
      runtime_->hand_off(*connection);
      return true;
    case Step::close:
      close_connection(connection);
      return true;
    case Step::fatal:
      close_connection(connection);
      return false;
  }
  return true;
}

bool Worker::take_turns() {
  if (turns_.empty()) return true;
  // Those that want yet another turn wait for the next round (which then does not wait).
  // Both lists keep their capacity from round to round.
  turns_now_.swap(turns_);
  for (Connection* connection : turns_now_) {
    if (!connections_.contains(connection)) continue;  // closed meanwhile
    if (!settle(connection, connection->take_turn())) return false;
  }
  turns_now_.clear();
  return true;
}

void Worker::retire_after_max_requests() {
  // The arbiter starts the replacement first and stops this worker (SIGTERM) once that one is
  // ready, so capacity never dips; meanwhile this worker keeps serving. Should the arbiter not
  // answer within the timeout, the worker stops by itself, as gunicorn's does.
  const std::int64_t now = util::monotonic_ns();
  if (retire_requested_ns_ == 0) {
    log::info("Autorestarting worker after current request.");
    retire_requested_ns_ = now;
    if (retire_request_) {
      retire_request_->store(1);
      return;
    }
  }
  const double patience = config_.timeout > 0 ? config_.timeout : 30;
  if (!retire_request_ || now - retire_requested_ns_ > util::seconds_to_ns(patience)) {
    stopping_ = true;
  }
}

int Worker::defer_accepting(std::int64_t now) {
  // A sync worker that has just accepted a connection whose request has not arrived yet
  // leaves the next connections to the other workers for a moment: otherwise it would take
  // them too and answer them one after the other while another worker sits idle. A client
  // that stays silent (a slow or idle one) stops holding the listener back after kFreshNs.
  int wait_ms = tick_ms();
  if (exclusive() || !acceptor_.accepting() || shutting_down_) return wait_ms;
  // Only while that connection is the worker's only one: a worker already holding others
  // (slow clients) would otherwise take one silent connection per kFreshNs, and a normal
  // request queued behind 200 of them would wait 10 s in the accept queue.
  const bool waiting = last_accepted_ != nullptr && connections_.size() == 1 &&
                       last_accepted_->idle() && now < last_accepted_ns_ + kFreshNs;
  acceptor_.hold_back(waiting);
  if (waiting) {
    const auto left_ms = static_cast<int>((last_accepted_ns_ + kFreshNs - now) / 1'000'000) + 1;
    wait_ms = std::min(wait_ms, left_ms);
  }
  return wait_ms;
}

bool Worker::exclusive() const noexcept {
  // The listener is shared by every worker. Event and gthread workers are woken one per
  // connection and take what is queued; a sync worker takes one (see net::Acceptor).
  return keeps_connections(config_.kind);
}

bool Worker::has_room() {
  return static_cast<int>(connections_.size()) < config_.worker_connections;
}

bool Worker::take(net::Acceptor::Accepted accepted, net::Acceptor::Slot& slot, bool draining) {
  auto connection =
      std::make_unique<Connection>(context_, std::move(accepted.fd), accepted.peer, slot.listener);
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  // The last drain at shutdown: registered for reading, a request already received is
  // reported by the next wait.
  if (draining) return true;
  last_accepted_ = raw;
  last_accepted_ns_ = util::monotonic_ns();
  // Most clients send the request with the connection: read it without another wait. When
  // the app runs on the loop's thread (event), that happens at the end of the round, after
  // the clients that were ready before: one wake-up may accept dozens of connections.
  if (exclusive() && runtime_->runs_inline()) {
    turns_.push_back(raw);
    return true;
  }
  return settle(raw, raw->on_readable());
}

void Worker::accept_failed(int error, bool backing_off) {
  if (backing_off) {
    log::error("accept() failed: " + util::errno_text(error) +
               "; not accepting for a moment (raise the open files limit, or lower "
               "worker_connections)");
  } else {
    log::error("accept() failed: " + util::errno_text(error));
  }
}

bool Worker::make_room(const net::Acceptor::Slot&) {
  // At the cap, the connection that has waited longest for a request head gives way to the
  // new one: a kept-alive client between requests (nginx closes those when it runs out of
  // connections, too), or one whose head is trickling in. Otherwise a few thousand clients
  // sending a header byte now and then (slowloris) would hold every slot for `timeout`
  // seconds, and nobody else would be served; evicted, they only ever hold the oldest slots,
  // while a normal client sends its head at once and is never the oldest waiting.
  const std::int64_t now = util::monotonic_ns();
  const std::int64_t waited_since = now - kGiveWayAfterNs;
  std::int64_t young_since = 0;  // the oldest of those still too young to give way
  const std::vector<Connection*> owned = loop_owned_connections();  // once: it may lock
  Connection* spared[4];
  for (std::size_t attempt = 0; attempt < std::size(spared); ++attempt) {
    const auto is_spared = [&](Connection* c) {
      return std::find(spared, spared + attempt, c) != spared + attempt;
    };
    Connection* oldest = nullptr;
    for (Connection* connection : owned) {
      if (!connection->waiting_for_head() || is_spared(connection)) continue;
      const std::int64_t since = connection->waiting_since_ns();
      if (since > waited_since) {
        if (young_since == 0 || since < young_since) young_since = since;
      } else if (!oldest || since < oldest->waiting_since_ns()) {
        oldest = connection;
      }
    }
    if (!oldest) {
      if (young_since != 0) give_way_retry_ns_ = young_since + kGiveWayAfterNs;
      break;
    }
    // Bytes that arrived but are not read yet (a kept-alive client's next request, or a
    // connection accepted in this round) may be a whole request: such a connection is spared,
    // and accepting resumes once the round has read them (see take_turns).
    if (oldest->idle() && oldest->input_waiting()) {
      spared[attempt] = oldest;
      resume_after_turns_ = true;
      continue;
    }

    if (log::enabled(log::Level::debug)) {
      log::debug("worker_connections (" + std::to_string(config_.worker_connections) +
                 ") reached: closing the connection that waited longest for a request");
    }
    close_connection(oldest);
    if (has_room()) return true;
    break;
  }
  // Nobody waits for a head (every connection has a request in progress), or the one
  // closed is still an app thread's to close.
  pause_accepting();
  return false;
}

void Worker::close_connection(Connection* connection) {
  if (!runtime_->close_elsewhere(*connection)) forget_connection(connection);
}

void Worker::forget_connection(Connection* connection) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return;
  if (connection == last_accepted_) last_accepted_ = nullptr;
  std::erase(turns_, connection);
  closed_.push_back(std::move(found->second));
  connections_.erase(found);
  if (!acceptor_.accepting() && !shutting_down_ && has_room()) resume_accepting();
}

void Worker::pause_accepting() {
  acceptor_.pause();
}

void Worker::resume_accepting() {
  acceptor_.resume();
}

void Worker::begin_shutdown() {
  // Connections already queued are taken and served; the listeners are let go of at once.
  acceptor_.stop(*this);
  shutting_down_ = true;
  context_.stopping = true;
  // An accepted connection that has not sent a byte yet is usually a request on its way: it
  // gets a short grace to arrive rather than a reset (closing it would fail that client).
  // Connections with a request in progress finish, bounded by the arbiter's graceful_timeout.
  // A kept-alive connection between requests is closed at once.
  const std::int64_t now = util::monotonic_ns();
  for (Connection* connection : loop_owned_connections()) {
    if (connection->between_requests()) {
      close_connection(connection);
    } else if (connection->idle()) {
      connection->expire_by(now + kShutdownIdleGraceNs);
    }
  }
}

std::vector<Connection*> Worker::loop_owned_connections() {
  // gthread: a connection an app thread owns is left to it (it sees `stopping`, and a request
  // runs as long as the app takes, as in gunicorn's gthread worker). The lock keeps threads
  // from handing connections back while the list is made; those listed stay the loop's, since
  // only the loop hands connections to threads.
  const std::unique_lock<std::mutex> lock = runtime_->hold_owners();
  std::vector<Connection*> owned;
  owned.reserve(connections_.size());
  for (auto& [raw, unique] : connections_) {
    if (runtime_->loop_owns(*raw)) owned.push_back(raw);
  }
  return owned;
}

void Worker::expire_connections() {
  const std::int64_t now = util::monotonic_ns();
  for (Connection* connection : loop_owned_connections()) {
    if (connection->expired(now)) close_connection(connection);
  }
}

}  // namespace monoceros::worker
