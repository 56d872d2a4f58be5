// Connection: one client connection of a worker, from accept to close.
#include "worker/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/error_response.hpp"
#include "http/parser.hpp"
#include "log/error_log.hpp"
#include "util/clock.hpp"
#include "worker/access_record.hpp"
#include "wsgi/deferred_release.hpp"
#include "wsgi/gil.hpp"
#include "wsgi/input.hpp"
#include "wsgi/post_request.hpp"

namespace monoceros::worker {
namespace {

constexpr std::size_t kHeadReadSize = 16 * 1024;
constexpr std::size_t kBodyReadSize = 64 * 1024;
constexpr int kReadsPerWakeup = 8;
// event: pipelined requests answered in one turn; the rest wait for the next round, so one
// client's long pipeline does not keep every other ready client waiting.
constexpr int kPipelinedPerTurn = 16;
// After an error response, what the client still sends is read and dropped for a short while
// so our close does not turn into a reset that destroys the response in flight (RFC 9112 §9.6).
constexpr std::int64_t kLingerNs = 2'000'000'000;
constexpr std::uint64_t kLingerMaxBytes = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A request body has `timeout` seconds, plus one more for each 500 bytes received, to arrive
// whole (the rate Apache's mod_reqtimeout asks by default): far slower than any real link,
// but a body trickled a byte now and then no longer holds its connection for ever.
constexpr std::uint64_t kMinBodyBytesPerSecond = 500;

}  // namespace

Connection::Connection(WorkerContext& context, util::unique_fd fd, const net::SocketAddress& peer,
                       const net::Listener& listener)
    : net::LoopTag(loop_tag(TagKind::connection)),
      context_(context),
      transport_(std::move(fd)),
      peer_(peer),
      remote_addr_(peer.host()),
      listener_(listener),
      peer_trusted_(context.trusted_proxies.matches(peer)),
      reader_(reader_settings()) {
  touch();
  waiting_since_ns_ = util::monotonic_ns();
  interest_ = net::Interest::read;
  context_.loop.add(transport_.fd(), interest_, static_cast<net::LoopTag*>(this),
                    context_.connection_trigger);
}

Connection::~Connection() {
  close_now();
}

void Connection::close_now() noexcept {
  abort();
  client_socket_.release();
  if (!transport_.is_open()) return;
  if (client_socket_.found_closed_by_app()) {
    // The app closed gunicorn.socket, which is our descriptor: it is gone (and its number
    // may be in use again), so neither epoll nor close() may touch it.
    transport_.forget();
    return;
  }
  context_.loop.remove(transport_.fd());
  transport_.close();
}

bool Connection::input_waiting() const noexcept {
  return transport_.input_waiting();
}

void Connection::rearm() noexcept {
  context_.loop.modify(transport_.fd(), interest_, static_cast<net::LoopTag*>(this),
                       context_.connection_trigger);
}

void Connection::hand_back() noexcept {
  set_with_app(false);
  rearm();
}

bool Connection::app_runs_elsewhere() const noexcept {
  return !context_.app_inline && !on_app_thread_;
}

Step Connection::run_on_app_thread() {
  on_app_thread_ = true;
  Step step;
  if (dispose_) {
    if (log_when_disposed_) log_access();
    step = Step::close;
  } else if (phase_ == Phase::queued) {
    step = serve_pipelined(dispatch());
  } else if (phase_ == Phase::respond && !response_produced_) {
    step = serve_pipelined(after(response_->resume()));
  } else {
    step = serve_pipelined(finish_exchange());  // the response is produced and written
  }
  on_app_thread_ = false;
  // A connection that will only linger or close goes back to the loop free of Python.
  if (step == Step::keep && (phase_ == Phase::closing || phase_ == Phase::linger)) {
    client_socket_.release();
  }
  return step;
}

void Connection::abort() noexcept {
  transport_.out().clear();
  end_exchange();
}

void Connection::end_exchange() noexcept {
  transport_.end_spool();
  if (response_) {
    response_->complete();
    if (environ_ && context_.config.post_request) {
      wsgi::run_post_request(context_.config.post_request, environ_.get(), *response_);
    }
    response_.reset();
  }
  environ_.reset();
}

void Connection::touch() noexcept {
  const std::int64_t limit = timeout_ns(context_.config);
  deadline_ns_ = limit ? util::monotonic_ns() + limit : 0;
}

void Connection::set_interest(net::Interest interest) {
  if (interest == interest_) return;
  interest_ = interest;
  // One-shot (gthread): whoever owns the connection re-arms it once done with it (rearm()).
  if (context_.connection_trigger != net::Trigger::one_shot)
    context_.loop.modify(transport_.fd(), interest, static_cast<net::LoopTag*>(this));
}

Step Connection::on_readable() {
  switch (phase_) {
    case Phase::head:
      return serve_pipelined(read_head());
    case Phase::body:
      return serve_pipelined(read_body());
    case Phase::linger:
      return read_linger();
    case Phase::queued:
    case Phase::respond:
    case Phase::closing:
      // Only hang-ups arrive here (no read interest): the client is gone.
      return Step::close;
  }
  return Step::keep;
}

Step Connection::take_turn() {
  wants_turn_ = false;
  if (phase_ == Phase::head && pipelined_) return serve_pipelined(Step::keep);
  return on_readable();
}

Step Connection::read_head() {
  for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
    const bool first_bytes = reader_.idle();
    const long got = transport_.read(reader_.input(), kHeadReadSize, true);
    if (got > 0) {
      touch();
      // The whole head must arrive within `timeout` of its first byte: a client trickling a
      // byte now and then does not hold the connection forever (nginx's
      // client_header_timeout). Bodies keep the per-read rule, as large uploads may be slow.
      const std::int64_t limit = timeout_ns(context_.config);
      if (first_bytes) head_started_ns_ = util::monotonic_ns();
      if (limit) expire_by(head_started_ns_ + limit);
      const Step step = advance_reader();
      // A request answered inline may have left the next ones buffered (pipelining): they
      // are answered (serve_pipelined) before the socket is read again, so an end of stream
      // read now (a client that sent its requests and half-closed) cannot drop them.
      if (step != Step::keep || phase_ != Phase::head || pipelined_) return step;
      continue;
    }
    if (got < 0 && errno == EAGAIN) return Step::keep;
    // End of stream or a reset before a whole head: nobody is left to answer.
    return Step::close;
  }
  return Step::keep;
}

http::RequestReader::Settings Connection::reader_settings() const noexcept {
  const WorkerConfig& config = context_.config;
  http::RequestReader::Settings settings;
  settings.parser = &config.parser;
  settings.proxy = config.proxy_protocol;
  settings.peer_trusted = peer_trusted_;
  settings.proxy_sender_allowed = config.proxy_protocol != http::ProxyProtocolMode::off &&
                                  context_.proxy_senders.matches(peer_);
  settings.body_limit = config.limit_request_body;
  return settings;
}

Step Connection::advance_reader() {
  // Goes as far as the bytes received allow: heads, the bodies that follow, and (pipelining)
  // the requests after them, one request at a time.
  for (;;) {
    const http::RequestReader::Event event = reader_.advance(&Connection::append_body, this);
    if (!proxy_applied_ && reader_.proxy_settled()) {
      // PROXY protocol: the client's address the load balancer passed on.
      proxy_applied_ = true;
      if (reader_.proxy().has_addresses) remote_addr_ = reader_.proxy().client_addr;
    }
    // The disk this worker's spooled bodies may use is bounded (see refuse_body).
    if (body_failed_ && body_ && body_->over_budget()) {
      return refuse_body(!body_->larger_than_budget());
    }
    switch (event) {
      case http::RequestReader::Event::need_bytes:
        // RFC 9110 §10.1.1: the client waits for 100 before sending the body. The body is
        // read before the app runs, so the interim response goes out now (as gunicorn does).
        if (reader_.take_continue()) {
          queue(std::string(kContinue));
          if (!flush()) return Step::close;
        }
        return Step::keep;
      case http::RequestReader::Event::head: {
        const Step step = begin_body();
        if (step != Step::keep) return step;
        continue;
      }
      case http::RequestReader::Event::complete:
        return body_complete();
      case http::RequestReader::Event::failed:
        return reject(reader_.error());
    }
  }
}

Step Connection::begin_body() {
  body_.reset();
  body_failed_ = false;
  const http::Request& request = reader_.request();
  const bool has_body =
      request.framing == http::BodyFraming::chunked ||
      (request.framing == http::BodyFraming::content_length && request.content_length != 0);
  if (!has_body) return Step::keep;  // complete already: the reader says so next
  // A body that will be spooled and cannot fit in the disk budget is refused before it is
  // read (it may still be refused later, should other uploads fill the budget first).
  if (request.framing == http::BodyFraming::content_length &&
      request.content_length > context_.config.body_memory_limit) {
    const util::SpoolBudget& budget = *context_.spool_budget;
    if (!budget.could_hold(request.content_length)) return refuse_body(false);
    if (budget.limit() != 0 && budget.used() + request.content_length > budget.limit()) {
      return refuse_body(true);
    }
  }
  phase_ = Phase::body;
  body_started_ns_ = util::monotonic_ns();
  body_received_ = 0;
  return Step::keep;
}

Step Connection::read_body() {
  for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
    const long got = transport_.read(reader_.input(), kBodyReadSize);
    if (got > 0) {
      touch();
      // Each read must come within `timeout` of the last, and the whole body at the minimum
      // rate: a body trickled just inside the timeout ends like a trickled head.
      body_received_ += static_cast<std::uint64_t>(got);
      if (const std::int64_t limit = timeout_ns(context_.config)) {
        const auto allowance = static_cast<std::int64_t>(
            std::min<std::uint64_t>(body_received_ / kMinBodyBytesPerSecond, 1ULL << 32));
        expire_by(body_started_ns_ + limit + util::seconds_to_ns(allowance));
      }
      const Step step = advance_reader();
      if (step != Step::keep || phase_ != Phase::body) return step;
      continue;
    }
    if (got < 0 && errno == EAGAIN) return Step::keep;
    if (got < 0) return Step::close;
    // End of stream inside the body. A chunked body is broken without its last chunk; a
    // Content-Length body goes to the app truncated (it can compare CONTENT_LENGTH), and the
    // connection closes after the response.
    if (reader_.end_of_stream() == http::RequestReader::Event::failed) {
      return reject(reader_.error());
    }
    return body_complete();
  }
  return Step::keep;
}

void Connection::append_body(void* self, std::string_view payload) {
  auto* connection = static_cast<Connection*>(self);
  // The reader enforces limit_request_body (from Content-Length, or each chunk-size line).
  if (connection->body_failed_) return;
  if (!connection->body().append(payload)) connection->body_failed_ = true;
}

Step Connection::refuse_body(bool for_now) {
  // Spooled bodies wait on disk for the app (a slow upload stays off the app's time); the
  // disk one worker may use for them at once is bounded (body_spool_limit). Said at most once
  // a second: an upload flood must not become a log flood.
  const util::SpoolBudget& budget = *context_.spool_budget;
  thread_local std::int64_t last_logged_ns = 0;
  const std::int64_t now = util::monotonic_ns();
  if (now - last_logged_ns > 1'000'000'000) {
    last_logged_ns = now;
    log::warning("Refused a request body from ip=" + remote_addr_ + ": " +
                 (for_now ? "the spooled bodies of this worker fill" : "it is larger than") +
                 " body_spool_limit (" + std::to_string(budget.used() >> 20) + " of " +
                 std::to_string(budget.limit() >> 20) + " MiB in use)");
  }
  return reject(for_now ? http::ParseError::body_spool_full : http::ParseError::body_too_large);
}

Step Connection::body_complete() {
  if (body_failed_) {
    log::error("Could not store a request body: " + std::string(std::strerror(errno)));
    return reject(http::ParseError::body_storage_failed);
  }
  return request_complete();
}

Step Connection::request_complete() {
  if (app_runs_elsewhere()) {
    phase_ = Phase::queued;
    return Step::hand_off;
  }
  return dispatch();
}

wsgi::RequestBody& Connection::body() {
  if (!body_) {
    body_ = std::make_unique<wsgi::RequestBody>(
        context_.config.body_memory_limit, context_.config.tmp_upload_dir, context_.spool_budget);
  }
  return *body_;
}

wsgi::ConnectionFacts Connection::connection_facts() const {
  const net::Listener& listener = listener_;
  wsgi::ConnectionFacts facts;
  facts.remote_addr = remote_addr_;
  facts.remote_port = peer_.is_ip() ? peer_.port() : -1;
  facts.unix_listener = !listener.address.is_ip();
  facts.server_name = facts.unix_listener ? std::string_view(listener.unix_path)
                                          : std::string_view(listener.server_name);
  facts.server_port = listener.server_port;
  facts.peer_trusted = peer_trusted_;
  facts.fd = transport_.fd();
  facts.family = peer_.family();
  if (!reader_.proxy().protocol.empty()) facts.proxy = &reader_.proxy();
  return facts;
}

Step Connection::dispatch() {
  phase_ = Phase::respond;
  response_produced_ = false;
  // Reading stays armed while the app runs inline (the loop is not running meanwhile): a
  // response that completes at once leaves the interest as it is, with no epoll_ctl at all.
  // A paused or unflushed response switches to writing (after()).
  request_start_ns_ = util::monotonic_ns();
  // gunicorn's default pre_request hook logs each request at debug level; a hook the user set
  // replaces it (and runs once the environ exists, below).
  if (!context_.config.pre_request && log::enabled(log::Level::debug)) {
    log::debug(std::string(reader_.request().method) + " " + std::string(reader_.request().path));
  }

  // Decided once, before the response says whether the connection stays (see may_keep_alive).
  const std::uint64_t max_requests = context_.config.max_requests;
  last_before_retiring_ =
      max_requests != 0 && context_.requests.load(std::memory_order_relaxed) + 1 >= max_requests;
  wsgi::RequestFacts facts;
  const http::Request& request = reader_.request();
  facts.version_minor = request.version_major > 1 ? 1 : request.version_minor;
  facts.head = request.method == "HEAD";
  // The sync worker closes every connection, as gunicorn's does; the event worker keeps it
  // when the client asked for it (the Response still closes a close-delimited body).
  facts.keep_alive = may_keep_alive();
  facts.raw_uri = request.target;
  response_.emplace(context_.config.response, context_.date, facts, *this);

  wsgi::PyRef input = wsgi::PyRef::steal(wsgi::new_input(std::move(body_)));
  http::ParseError rejected = http::ParseError::none;
  if (input) {
    environ_ = wsgi::PyRef::steal(context_.environ.build(request, connection_facts(), input.get(),
                                                         response_->early_hints(),
                                                         client_socket_.slot(), rejected));
  }
  if (rejected != http::ParseError::none) {
    end_exchange();
    return reject(rejected);
  }
  if (!environ_) return after(response_->fail_with_pending_error());
  if (context_.config.pre_request) {
    // A failing pre_request hook is answered like a failing app: 500, traceback logged.
    wsgi::PyRef outcome =
        wsgi::PyRef::steal(PyObject_CallOneArg(context_.config.pre_request, environ_.get()));
    if (!outcome) return after(response_->fail_with_pending_error());
  }
  return after(response_->run(context_.app, environ_.get()));
}

Step Connection::after(wsgi::Response::Progress progress) {
  using Progress = wsgi::Response::Progress;
  switch (progress) {
    case Progress::fatal:
      return Step::fatal;
    case Progress::failed:
      log_access();
      return Step::close;
    case Progress::paused:
      touch();
      set_interest(net::Interest::write);
      return Step::keep;
    case Progress::finished:
      response_produced_ = true;
      // Inside a pipelined batch the bytes wait for the batch's write (serve_pipelined).
      if (transport_.out().empty() || batching_) return finish_exchange();
      touch();
      set_interest(net::Interest::write);
      return Step::keep;
  }
  return Step::close;
}

Step Connection::on_writable() {
  const net::OutQueue::Flush flushed = transport_.flush();
  if (flushed == net::OutQueue::Flush::failed) {
    if (phase_ == Phase::respond) {
      if (app_runs_elsewhere()) {
        log_when_disposed_ = true;  // the access log needs the GIL
      } else {
        log_access();
      }
    }
    return Step::close;
  }
  touch();
  if (flushed == net::OutQueue::Flush::blocked) return Step::keep;
  switch (phase_) {
    case Phase::respond:
      if (!response_produced_) {
        if (congested()) return Step::keep;
        if (app_runs_elsewhere()) return Step::hand_off;  // resume the app's iterator
        return serve_pipelined(after(response_->resume()));
      }
      if (app_runs_elsewhere()) return Step::hand_off;  // access log, hooks, close()
      return serve_pipelined(finish_exchange());
    case Phase::closing:
      return half_close();
    case Phase::head:
      // A batch written after its connection gave up its turn: answer the requests left.
      if (pipelined_) return serve_pipelined(Step::keep);
      // Kept alive, everything written: wait for the next request.
      if (served_ > 0) deadline_ns_ = util::monotonic_ns() + keepalive_ns();
      set_interest(net::Interest::read);
      return Step::keep;
    default:
      return Step::keep;
  }
}

Step Connection::finish_exchange() {
  log_access();
  context_.requests.fetch_add(1, std::memory_order_relaxed);
  ++served_;
  const bool keep = keeps_alive() && !client_socket_.closed_by_app();
  end_exchange();
  if (client_socket_.found_closed_by_app())
    return Step::close;  // nothing left to write to, or to linger on
  return keep ? next_request() : start_closing();
}

std::int64_t Connection::keepalive_ns() const noexcept {
  return util::seconds_to_ns(context_.config.keepalive);
}

bool Connection::may_keep_alive() const noexcept {
  // The worker keeps connections (event, gthread), the client asked for it, no stop has
  // begun, and this is not the request that reaches max_requests (or one after it): as in
  // gunicorn, the client is told the connection ends, so it never sends a request to a worker
  // on its way out.
  return keeps_connections(context_.config.kind) && context_.config.keepalive > 0 &&
         reader_.request().keep_alive && !context_.stopping && !last_before_retiring_;
}

bool Connection::keeps_alive() const noexcept {
  // Decided again once the response is done: the worker may have begun to stop meanwhile,
  // and the response itself may need the close (close-delimited body, short body).
  return may_keep_alive() && !reader_.body_truncated() && response_ && !response_->must_close();
}

Step Connection::next_request() {
  // The connection waits for its next request; bytes that arrived with this one are parsed
  // by serve_pipelined() once this call has unwound (no recursion per pipelined request).
  phase_ = Phase::head;
  waiting_since_ns_ = util::monotonic_ns();
  if (reader_.next_request()) {
    head_started_ns_ = waiting_since_ns_;
    pipelined_ = true;
    batching_ = true;
  }
  deadline_ns_ = util::monotonic_ns() + keepalive_ns();
  if (transport_.out().empty()) set_interest(net::Interest::read);
  return Step::keep;
}

Step Connection::serve_pipelined(Step step) {
  // Requests already buffered are answered in order; their responses are written together
  // once no complete request is left (or sooner, when the output passes its high water).
  // When the app runs on the loop's thread, a turn answers a bounded number of them; the
  // connection then waits for the end of the round (wants_turn), behind the other clients.
  int answered = 0;
  const bool bounded = context_.app_inline;
  while (step == Step::keep && pipelined_ && phase_ == Phase::head) {
    if (bounded && ++answered > kPipelinedPerTurn) break;
    pipelined_ = false;
    touch();
    step = advance_reader();
  }
  const bool yielded = step == Step::keep && pipelined_ && phase_ == Phase::head;
  if (batching_ && (!pipelined_ || yielded)) {
    if (!yielded) batching_ = false;
    if (step == Step::keep && !transport_.out().empty()) {
      const net::OutQueue::Flush flushed = transport_.flush();
      if (flushed == net::OutQueue::Flush::failed) return Step::close;
      if (flushed == net::OutQueue::Flush::blocked) {
        // on_writable() goes on (with the requests left, or reading) once it is out.
        set_interest(net::Interest::write);
        return step;
      }
    }
    if (yielded) {
      wants_turn_ = true;
      return step;
    }
    // The batch is written: wait for the client's next requests (next_request() could not
    // ask for them while the batch's bytes were still queued).
    if (step == Step::keep && phase_ == Phase::head) set_interest(net::Interest::read);
  }
  return step;
}

void Connection::log_access() {
  if (!response_) return;
  const std::int64_t elapsed_ns = util::monotonic_ns() - request_start_ns_;
  if (context_.statsd) {
    // gunicorn's statsd logger counts every answered request, access log or not.
    log::StatsdClient& statsd = *context_.statsd;
    statsd.timer("gunicorn.request.duration", static_cast<double>(elapsed_ns) / 1e6);
    statsd.increment("gunicorn.requests", 1);
    if (response_->status_code() != 0) {
      statsd.increment("gunicorn.request.status." + std::to_string(response_->status_code()), 1);
    }
  }
  if (!context_.access_log || !context_.config.access_log) return;
  AccessFacts facts{reader_.request(), *response_, environ_.get(), remote_addr_, elapsed_ns};
  write_access_record(*context_.access_log, context_.config.access_log, facts);
}

Step Connection::start_closing() {
  // Bytes the client sent beyond the request (or still in flight) would make close() send a
  // reset that can destroy the response before the client reads it: half-close and linger.
  const bool unread = reader_.bytes_beyond_request() || input_waiting();
  if (!unread && transport_.out().empty()) return Step::close;
  phase_ = Phase::closing;
  if (!transport_.out().empty()) {
    set_interest(net::Interest::write);
    return Step::keep;
  }
  return half_close();
}

Step Connection::half_close() {
  transport_.shutdown_write();
  phase_ = Phase::linger;
  deadline_ns_ = util::monotonic_ns() + kLingerNs;
  set_interest(net::Interest::read);
  return Step::keep;
}

Step Connection::read_linger() {
  return transport_.discard_input(kLingerMaxBytes) ? Step::keep : Step::close;
}

Step Connection::reject(http::ParseError error) {
  const http::ErrorInfo& info = http::describe(error);
  if (log::enabled(log::Level::debug)) {
    log::debug("Invalid request from ip=" + remote_addr_ + ": " + std::string(info.message));
  }
  transport_.out().clear();
  // Also on the gthread loop's thread: a date cache of its own, not the app threads' one.
  thread_local http::HttpDate error_date;
  queue(http::error_response(info.status, info.reason, info.message, error_date.now(),
                             context_.config.response.server));
  phase_ = Phase::closing;
  const net::OutQueue::Flush flushed = transport_.flush();
  if (flushed == net::OutQueue::Flush::failed) return Step::close;
  if (flushed == net::OutQueue::Flush::blocked) {
    set_interest(net::Interest::write);
    return Step::keep;
  }
  return half_close();
}

}  // namespace monoceros::worker
