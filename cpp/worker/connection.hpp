// Connection: one client connection of a worker, from accept to close. It reads and parses
// the request head and body without blocking, calls the app only with a complete request,
// and writes the response as fast as the client reads it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/errors.hpp"
#include "http/request_reader.hpp"
#include "net/socket_address.hpp"
#include "net/transport.hpp"
#include "util/clock.hpp"
#include "util/unique_fd.hpp"
#include "worker/context.hpp"
#include "wsgi/client_socket.hpp"
#include "wsgi/py_ref.hpp"
#include "wsgi/request_body.hpp"
#include "wsgi/response.hpp"

namespace monoceros::worker {

// Seconds of `timeout` as nanoseconds; 0 when there is none.
inline std::int64_t timeout_ns(const WorkerConfig& config) noexcept {
  return config.timeout > 0 ? util::seconds_to_ns(config.timeout) : 0;
}

// What the worker does with a connection after an event.
enum class Step : std::uint8_t {
  keep,      // still in use
  close,     // close it now
  fatal,     // a Python BaseException is pending: the worker must stop
  hand_off,  // gthread: the app must run next; an app thread takes the connection
};

class Connection final : public net::LoopTag, public wsgi::ResponseOutput {
 public:
  Connection(WorkerContext& context, util::unique_fd fd, const net::SocketAddress& peer,
             const net::Listener& listener);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  int fd() const noexcept { return transport_.fd(); }
  Step on_readable();
  Step on_writable();
  // event: a turn given by the worker at the end of a round, to a connection just accepted
  // (it reads its request) or to one that left pipelined requests for later (wants_turn()).
  Step take_turn();
  // The connection stopped answering its buffered pipelined requests to let the other
  // clients have their turn; the worker gives it another at the end of the round.
  bool wants_turn() const noexcept { return wants_turn_; }
  // Ends the connection now (timeout, shutdown): the response is abandoned and close()d.
  void abort() noexcept;
  // Abandons the exchange, lets go of the Python objects and closes the socket. Needs the GIL
  // when holds_python(); the object itself may be deleted later, by the loop.
  void close_now() noexcept;

  // ---- gthread: the loop runs without the GIL and hands a connection to an app thread
  // (Step::hand_off) whenever the app must run. The thread owns it until hand_back().
  bool with_app() const noexcept { return with_app_.load(std::memory_order_acquire); }
  void set_with_app(bool on) noexcept { with_app_.store(on, std::memory_order_release); }
  // On an app thread, with the GIL: runs the app (or resumes or finishes its response).
  Step run_on_app_thread();
  // On an app thread: gives the connection back to the loop and re-arms it. The thread must
  // not touch it afterwards.
  void hand_back() noexcept;
  // Re-arms the one-shot registration for the events the connection waits for.
  void rearm() noexcept;
  // Whether closing needs the GIL (the loop then asks an app thread to do it, see dispose()).
  bool holds_python() const noexcept {
    return response_.has_value() || environ_ || client_socket_.held();
  }
  // Marks the connection to be closed by the app thread that takes it next.
  void dispose() noexcept { dispose_ = true; }

  // Idle means nothing of a request has arrived yet.
  bool idle() const noexcept { return phase_ == Phase::head && reader_.idle(); }
  // Kept alive after a response, waiting for the next request: safe to close on a graceful
  // stop (clients retry a request on a reused connection that closes before it is answered).
  // Not when the next request's bytes are already in the socket, unread: that request is in
  // progress, and is answered (with Connection: close) before the connection closes.
  bool between_requests() const noexcept { return idle() && served_ > 0 && !input_waiting(); }
  // Bytes the client sent that the socket holds and nobody has read yet.
  bool input_waiting() const noexcept;
  // Waiting for a request head (new, kept alive between requests, or a head still arriving),
  // with nothing to write: at the connection cap, the one waiting longest gives way.
  bool waiting_for_head() const noexcept {
    return phase_ == Phase::head && !pipelined_ && transport_.out().empty() && !with_app();
  }
  std::int64_t waiting_since_ns() const noexcept { return waiting_since_ns_; }
  bool expired(std::int64_t now_ns) const noexcept { return deadline_ns_ && now_ns > deadline_ns_; }
  // Bring the deadline forward to `deadline_ns` (never later than it already is).
  void expire_by(std::int64_t deadline_ns) noexcept {
    if (deadline_ns_ == 0 || deadline_ns < deadline_ns_) deadline_ns_ = deadline_ns;
  }

  // wsgi::ResponseOutput
  void queue(std::string bytes) override;
  void queue_borrowed(PyObject* owner, std::string_view data) override;
  void queue_file(PyObject* owner, int fd, std::uint64_t offset, std::uint64_t length) override;
  bool flush() override;
  bool congested() const override;
  bool make_room() override;

 private:
  enum class Phase : std::uint8_t {
    head,     // reading the request head
    body,     // reading the request body
    queued,   // gthread: complete, waiting for an app thread
    respond,  // the app's response is being produced and written
    closing,  // writing the last bytes (an error page) before the half-close
    linger,   // half-closed: discarding what the client still sends, briefly
  };

  Step read_head();
  Step advance_reader();
  Step begin_body();
  Step read_body();
  Step body_complete();
  Step refuse_body(bool for_now);
  Step request_complete();
  Step dispatch();
  bool app_runs_elsewhere() const noexcept;
  Step after(wsgi::Response::Progress progress);
  Step finish_exchange();
  bool may_keep_alive() const noexcept;
  bool keeps_alive() const noexcept;
  std::int64_t keepalive_ns() const noexcept;
  Step next_request();
  Step serve_pipelined(Step step);
  Step reject(http::ParseError error);
  Step start_closing();
  Step read_linger();
  Step half_close();

  void end_exchange() noexcept;
  bool wait_for_room();
  void set_interest(net::Interest interest);
  void touch() noexcept;
  wsgi::RequestBody& body();
  wsgi::ConnectionFacts connection_facts() const;
  void log_access();
  static void append_body(void* self, std::string_view payload);
  http::RequestReader::Settings reader_settings() const noexcept;

  WorkerContext& context_;
  net::Transport transport_;
  net::SocketAddress peer_;
  std::string remote_addr_;
  const net::Listener& listener_;
  bool peer_trusted_ = false;
  bool proxy_applied_ = false;  // remote_addr_ is the PROXY header's (or there is none)
  Phase phase_ = Phase::head;
  net::Interest interest_ = net::Interest::read;
  std::int64_t deadline_ns_ = 0;
  std::int64_t head_started_ns_ = 0;   // the current head's first byte (see read_head)
  std::int64_t waiting_since_ns_ = 0;  // when the connection began to wait for this head
  std::int64_t body_started_ns_ = 0;   // when the current body began to arrive
  std::uint64_t body_received_ = 0;    // its bytes read so far (see read_body)

  // The HTTP/1 reading side: heads, bodies, pipelining, 100-continue, PROXY (no I/O).
  http::RequestReader reader_;
  std::unique_ptr<wsgi::RequestBody> body_;
  bool body_failed_ = false;
  bool pipelined_ = false;             // the reader holds the next request's bytes, unparsed
  bool batching_ = false;              // answering pipelined requests: one write for the batch
  bool wants_turn_ = false;            // buffered requests left for the next round (event)
  std::uint64_t served_ = 0;           // requests answered on this connection
  bool last_before_retiring_ = false;  // this request reaches max_requests (or is past it)

  std::optional<wsgi::Response> response_;
  bool response_produced_ = false;  // the Response has nothing more to produce
  wsgi::PyRef environ_;
  wsgi::ClientSocket client_socket_;  // environ['gunicorn.socket'], for the connection
  std::int64_t request_start_ns_ = 0;

  std::atomic<bool> with_app_{false};  // gthread: an app thread owns the connection
  bool on_app_thread_ = false;         // inside run_on_app_thread()
  bool dispose_ = false;               // the next app thread closes it
  bool log_when_disposed_ = false;     // a write failed mid-response: log it when closing
};

}  // namespace monoceros::worker
