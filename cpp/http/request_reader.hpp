// RequestReader: the reading side of one HTTP/1.1 connection as a state machine without I/O.
// Bytes read from the client go into its buffer; advance() turns them into requests: the
// PROXY header before the first one, each head (parsed in place, its views valid until the
// next request), its body by Content-Length or chunked coding (payload handed to a sink), the
// Expect: 100-continue moment, and the bytes beyond a request kept for the next (pipelining).
// After an error it parses nothing more. Sockets, clocks and the app are the owner's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/chunked.hpp"
#include "http/errors.hpp"
#include "http/parser.hpp"
#include "http/proxy_protocol.hpp"
#include "http/request.hpp"
#include "util/byte_buffer.hpp"

namespace monoceros::http {

class RequestReader {
 public:
  struct Settings {
    const ParserOptions* parser = nullptr;
    ProxyProtocolMode proxy = ProxyProtocolMode::off;
    bool peer_trusted = false;          // forwarded_allow_ips: may send forwarder headers
    bool proxy_sender_allowed = false;  // proxy_allow_ips: may send a PROXY header
    std::uint64_t body_limit = 0;       // limit_request_body; 0: none
  };

  enum class Event : std::uint8_t {
    need_bytes,  // a head or a body is incomplete: read more
    head,        // request() is complete and its body is next; the owner may refuse() it
    complete,    // the request, head and body, is read
    failed,      // error() says why: answer it and close; nothing more is parsed
  };

  // Receives body payload in order; `context` is the owner's.
  using BodySink = void (*)(void* context, std::string_view payload);

  explicit RequestReader(const Settings& settings) noexcept;
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Where bytes read from the client are appended (the owner never consumes them). Another
  // buffer while a body is read: the head's views stay where they are until next_request().
  util::ByteBuffer& input() noexcept { return phase_ == Phase::body ? body_in_ : in_; }
  // Copies bytes that arrived elsewhere to the input.
  void append(std::string_view bytes);

  // Goes as far as the bytes received allow. Body payload goes to sink(context, bytes).
  Event advance(BodySink sink, void* context);
  // The client ended its stream while a body was read: a Content-Length body is complete,
  // cut short (body_truncated()); a chunked body without its last chunk is an error.
  Event end_of_stream();
  // The owner refuses the request (a limit of its own): nothing more is parsed.
  void refuse(ParseError error) noexcept;
  // After `complete`: the next request starts with the bytes received beyond this one (their
  // head views are gone). True when some are buffered already (a pipelined request).
  bool next_request();

  const Request& request() const noexcept { return request_; }
  ParseError error() const noexcept { return error_; }
  // The PROXY header's facts once it has been read (or found absent).
  const ProxyInfo& proxy() const noexcept { return proxy_; }
  bool proxy_settled() const noexcept { return proxy_checked_; }

  bool reading_head() const noexcept { return phase_ == Phase::head; }
  bool reading_body() const noexcept { return phase_ == Phase::body; }
  // Nothing of a request has arrived yet.
  bool idle() const noexcept { return phase_ == Phase::head && in_.empty(); }
  // Once, when the body is awaited from a client that sent Expect: 100-continue (RFC 9110
  // §10.1.1): it waits for the interim response before sending the body.
  bool take_continue() noexcept;
  // A Content-Length body that ended early (end_of_stream()).
  bool body_truncated() const noexcept { return truncated_; }
  // After `complete`: the client sent bytes beyond this request.
  bool bytes_beyond_request() const noexcept {
    return next_start_ < (next_in_body_buffer_ ? body_in_ : in_).size();
  }

 private:
  enum class Phase : std::uint8_t { head, head_ready, body, complete, failed };

  static void append_to(util::ByteBuffer& buffer, std::string_view bytes);
  Event read_proxy_header();
  Event read_head();
  Event start_body();
  Event read_body(BodySink sink, void* context);
  Event finish(std::size_t next_start);
  Event fail(ParseError error) noexcept;

  const Settings settings_;
  Phase phase_ = Phase::head;
  bool proxy_checked_;
  ProxyInfo proxy_;
  util::ByteBuffer in_;       // this request's head (and whatever came with it)
  util::ByteBuffer body_in_;  // body bytes read after the head, and what follows the body
  Request request_;
  std::size_t head_length_ = 0;
  // After `complete`: where the bytes beyond the request begin, in in_ or in body_in_.
  std::size_t next_start_ = 0;
  bool next_in_body_buffer_ = false;
  ChunkedDecoder chunked_;
  std::uint64_t body_remaining_ = 0;  // Content-Length bytes still to come
  bool truncated_ = false;
  bool continue_due_ = false;
  ParseError error_ = ParseError::none;
};

}  // namespace monoceros::http
