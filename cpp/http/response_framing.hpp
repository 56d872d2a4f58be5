// ResponseFraming: every HTTP/1.1 framing decision of one response and the bytes it produces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/response_head.hpp"

namespace monoceros::http {

// Response header fields in the order they are written: validated, hop-by-hop ones removed.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// One response's framing, from the app's status and fields to the last chunk. Pure: it appends
// to the caller's buffer and never writes, so a response head and a small body share one buffer
// (and leave in one writev), and a large body piece or a file range is sent by the caller without
// being copied: begin_piece() says how many of its bytes to send and frames them around it.
//
// The order of calls: start() (again, before the head, when the app replaces its answer),
// optionally set_whole_body() / set_no_body(), write_head(), then begin_piece() / end_piece()
// per piece of body, then finish(). write_error() replaces all of it with the server's own page.
class ResponseFraming {
 public:
  // The facts of the request that decide the framing of its answer.
  struct Request {
    int version_minor = 1;    // HTTP/1.<minor>; 1.0 clients know neither chunked nor 1xx
    bool head = false;        // HEAD: the head of what GET would send, never body bytes
    bool keep_alive = false;  // the connection may stay open after this response
  };

  explicit ResponseFraming(const Request& request) noexcept : request_(request) {}

  // The app's answer: "200 OK" and its code, its fields and, when one is among them, the value
  // of its Content-Length field. `upgrade`: the app answered `Connection: upgrade`.
  void start(int code, std::string status, HeaderFields fields,
             std::optional<std::uint64_t> content_length, bool upgrade);

  // The whole body is known before the head leaves, so it can carry its length (RFC 9110 §8.6),
  // unless the app gave one or the status has none. Also for HEAD: the length GET would send.
  void set_whole_body(std::uint64_t size) {
    if (!content_length_ && !status_forbids_body(code_)) add_content_length(size);
  }
  // The app produced no body at all: a body of length 0, where a body may be sent. Not for HEAD,
  // whose GET body may well have bytes (RFC 9110 §9.3.2).
  void set_no_body() {
    if (!content_length_ && body_allowed()) add_content_length(0);
  }

  // Appends the status line, Server, Date, Connection, Transfer-Encoding and the app's fields.
  void write_head(std::string& out, std::string_view server, std::string_view date);

  // Begins a piece of body `size` bytes long: appends its chunk-size line when chunked and returns
  // how many of its first bytes to send, fewer than `size` past the Content-Length (RFC 9112 §6.3:
  // the length ends the message; more bytes would be read as the next response). 0: send nothing
  // and do not call end_piece(): an empty chunk would end a chunked body (RFC 9112 §7.1).
  std::uint64_t begin_piece(std::string& out, std::uint64_t size) {
    if (!body_allowed()) return 0;  // HEAD, 1xx, 204, 304: the app's bytes are dropped
    if (content_length_ && size > *content_length_ - body_sent_) {
      size = *content_length_ - body_sent_;
    }
    if (size == 0) return 0;
    if (chunked_) append_chunk_size(out, size);
    body_sent_ += size;
    return size;
  }
  // Ends a piece begun with a non-zero count, once its bytes are in place: the chunk's CRLF.
  void end_piece(std::string& out) const {
    if (chunked_) out += "\r\n";
  }

  // After the last piece: the last chunk (RFC 9112 §7.1) and whether the connection must close.
  void finish(std::string& out) {
    if (chunked_) out += last_chunk;
    // RFC 9112 §8: a body shorter than its Content-Length is incomplete, and the client can only
    // tell if the connection closes; otherwise it would read the next response as the body.
    if (content_length_ && body_allowed() && body_sent_ < *content_length_) must_close_ = true;
  }

  // Before the head: answer with the server's own error page instead (HTTP/1.1, a small HTML
  // body, Connection: close). status() then names the page and headers() is empty (the page's
  // fields are the server's, like Server and Date); the Content-Length facts stay the app's.
  void write_error(std::string& out, int code, std::string_view reason, std::string_view message,
                   std::string_view server, std::string_view date);

  // 103 Early Hints (RFC 8297) may precede the final head, and only to HTTP/1.1 clients
  // (RFC 9110 §15.2: a server must not send a 1xx response to an HTTP/1.0 client).
  bool early_hints_allowed() const noexcept { return !head_sent_ && request_.version_minor >= 1; }
  static void write_early_hints(std::string& out, const HeaderFields& fields);

  // The connection must close after this response (whatever the client asked for).
  void set_must_close() noexcept { must_close_ = true; }
  bool must_close() const noexcept { return must_close_; }
  bool head_sent() const noexcept { return head_sent_; }
  bool chunked() const noexcept { return chunked_; }
  // RFC 9110 §9.3.2 and §6.4.1: HEAD, 1xx, 204 and 304 responses end with their head.
  bool body_allowed() const noexcept { return !request_.head && !status_forbids_body(code_); }
  std::uint64_t body_sent() const noexcept { return body_sent_; }

  int status_code() const noexcept { return code_; }
  const std::string& status() const noexcept { return status_; }  // "200 OK"; empty if none
  const HeaderFields& headers() const noexcept { return fields_; }
  // The Content-Length the head carries (the app's, or one added from the whole body).
  bool has_content_length() const noexcept { return content_length_.has_value(); }
  std::uint64_t content_length() const noexcept { return content_length_.value_or(0); }

 private:
  void add_content_length(std::uint64_t length);

  Request request_;
  int code_ = 0;
  bool head_sent_ = false;
  bool chunked_ = false;
  bool must_close_ = false;
  bool upgrade_ = false;
  std::optional<std::uint64_t> content_length_;
  std::uint64_t body_sent_ = 0;
  std::string status_;
  HeaderFields fields_;
};

}  // namespace monoceros::http
