// RequestReader: the reading side of one HTTP/1.1 connection as a state machine without I/O.
#include "http/request_reader.hpp"

#include <cstring>

namespace monoceros::http {

RequestReader::RequestReader(const Settings& settings) noexcept
    : settings_(settings),
      proxy_checked_(settings.proxy == ProxyProtocolMode::off),
      chunked_(settings.parser) {
  chunked_.set_body_limit(settings.body_limit);
}

void RequestReader::append(std::string_view bytes) {
  append_to(input(), bytes);
}

void RequestReader::append_to(util::ByteBuffer& buffer, std::string_view bytes) {
  if (bytes.empty()) return;
  const std::span<char> space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
}

RequestReader::Event RequestReader::advance(BodySink sink, void* context) {
  switch (phase_) {
    case Phase::head:
      if (!proxy_checked_) {
        const Event event = read_proxy_header();
        if (!proxy_checked_ || phase_ != Phase::head) return event;
      }
      return read_head();
    case Phase::head_ready: {
      const Event event = start_body();
      // Body bytes that came with the head are read at once.
      return phase_ == Phase::body ? read_body(sink, context) : event;
    }
    case Phase::body:
      return read_body(sink, context);
    case Phase::complete:
      return Event::complete;
    case Phase::failed:
      return Event::failed;
  }
  return Event::failed;
}

RequestReader::Event RequestReader::read_proxy_header() {
  // Only before the first request of a connection, as in gunicorn.
  const ProxyResult result = parse_proxy_header(in_.view(), settings_.proxy, proxy_);
  // The sender is checked as soon as the bytes are known to be a PROXY header, before they
  // are trusted for anything (gunicorn answers 403 ForbiddenProxyRequest).
  if (result.detected && !settings_.proxy_sender_allowed) return fail(ParseError::forbidden_proxy);
  switch (result.status) {
    case ProxyStatus::partial:
      return Event::need_bytes;
    case ProxyStatus::error:
      return fail(result.error);
    case ProxyStatus::complete:
      in_.consume(result.consumed);
      break;
    case ProxyStatus::absent:
      proxy_ = ProxyInfo{};
      break;
  }
  proxy_checked_ = true;
  return Event::need_bytes;
}

RequestReader::Event RequestReader::read_head() {
  if (in_.empty()) return Event::need_bytes;
  const ParseResult result =
      parse_request(in_.readable(), *settings_.parser, settings_.peer_trusted, request_);
  switch (result.status) {
    case ParseStatus::partial:
      return Event::need_bytes;
    case ParseStatus::error:
      return fail(result.error);
    case ParseStatus::complete:
      break;
  }
  head_length_ = result.consumed;
  // Refused from the head alone: the body is never read (RFC 9110 §15.5.14).
  if (request_.framing == BodyFraming::content_length && settings_.body_limit != 0 &&
      request_.content_length > settings_.body_limit) {
    return fail(ParseError::body_too_large);
  }
  phase_ = Phase::head_ready;
  return Event::head;
}

RequestReader::Event RequestReader::start_body() {
  truncated_ = false;
  switch (request_.framing) {
    case BodyFraming::none:
      return finish(head_length_);
    case BodyFraming::content_length:
      body_remaining_ = request_.content_length;
      if (body_remaining_ == 0) return finish(head_length_);
      break;
    case BodyFraming::chunked:
      chunked_.reset();
      break;
  }
  phase_ = Phase::body;
  continue_due_ = request_.expect_continue;
  return Event::need_bytes;  // the owner advances again for the bytes already here
}

RequestReader::Event RequestReader::read_body(BodySink sink, void* context) {
  // Body bytes that came with the head follow it in in_; later ones arrive in body_in_ (in_
  // must not move while the head's views are in use). Once handed on they are dropped.
  const bool with_head = in_.size() > head_length_;
  util::ByteBuffer& source = with_head ? in_ : body_in_;
  const std::size_t start = with_head ? head_length_ : 0;
  const std::string_view bytes = source.view().substr(start);
  if (bytes.empty()) return Event::need_bytes;
  bool done = false;
  std::size_t used = 0;  // when done: how many of `bytes` belong to this body
  if (request_.framing == BodyFraming::content_length) {
    const std::size_t take =
        bytes.size() < body_remaining_ ? bytes.size() : static_cast<std::size_t>(body_remaining_);
    sink(context, bytes.substr(0, take));
    body_remaining_ -= take;
    done = body_remaining_ == 0;
    used = take;
  } else {
    const ChunkedResult result = chunked_.feed(bytes, sink, context);
    if (result.status == ChunkedStatus::error) return fail(result.error);
    done = result.status == ChunkedStatus::complete;
    used = result.consumed;
  }
  if (!done) {
    source.truncate(start);
    return Event::need_bytes;
  }
  // Bytes past the body are the next (pipelined) request.
  next_in_body_buffer_ = !with_head;
  return finish(start + used);
}

RequestReader::Event RequestReader::end_of_stream() {
  if (phase_ != Phase::body) return phase_ == Phase::failed ? Event::failed : Event::need_bytes;
  // A chunked body is broken without its last chunk; a Content-Length body goes to the app
  // truncated (it can compare CONTENT_LENGTH), and the connection closes after the response.
  if (request_.framing == BodyFraming::chunked) return fail(ParseError::chunk_missing_terminator);
  truncated_ = true;
  next_in_body_buffer_ = false;
  return finish(in_.size());
}

RequestReader::Event RequestReader::finish(std::size_t next_start) {
  phase_ = Phase::complete;
  continue_due_ = false;
  next_start_ = next_start;
  return Event::complete;
}

RequestReader::Event RequestReader::fail(ParseError error) noexcept {
  phase_ = Phase::failed;
  error_ = error;
  continue_due_ = false;
  return Event::failed;
}

void RequestReader::refuse(ParseError error) noexcept {
  fail(error);
}

bool RequestReader::take_continue() noexcept {
  const bool due = continue_due_;
  continue_due_ = false;
  return due;
}

bool RequestReader::next_request() {
  if (next_in_body_buffer_) {
    // The next request began in the body buffer: its bytes move to the head buffer.
    in_.clear();
    append_to(in_, body_in_.view().substr(next_start_));
  } else {
    in_.consume(next_start_);
  }
  body_in_.clear();
  next_in_body_buffer_ = false;
  // A connection that waits for its next request holds no header storage (~1 KiB, see
  // parse_request): thousands of idle kept-alive clients must cost little. A pipelined request
  // already here reuses it.
  if (in_.empty()) {
    request_ = Request{};
  } else {
    request_.clear();
  }
  head_length_ = next_start_ = 0;
  truncated_ = false;
  phase_ = Phase::head;
  return !in_.empty();
}

}  // namespace monoceros::http
