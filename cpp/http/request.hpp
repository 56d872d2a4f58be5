// A parsed HTTP/1.x request head: views into the caller's buffer, reused across requests.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace monoceros::http {

struct Header {
  std::string_view name;   // exactly as received (case preserved), validated as a token
  std::string_view value;  // leading/trailing SP and HTAB removed; obs-text kept byte-exact
};

enum class BodyFraming : std::uint8_t {
  none,            // no Content-Length and no Transfer-Encoding: zero-length body
  content_length,  // exactly content_length bytes follow the head
  chunked,         // chunked transfer coding (decode with ChunkedDecoder)
};

// Output of parse_request. Every view points into the buffer given to the parser, so the
// caller must keep those bytes unchanged while it uses the request. clear() keeps capacity.
struct Request {
  std::string_view method;    // as received (upper-cased in place if casefold_http_method)
  std::string_view target;    // request-target exactly as received (environ RAW_URI)
  std::string_view path;      // path component, still percent-encoded; "*" for asterisk-form
                              // and the whole target for authority-form (as gunicorn); the
                              // path of an absolute-form target ("/" if it has none)
  std::string_view query;     // after '?', before '#' ("" if none)
  std::string_view fragment;  // after '#' ("" if none); kept, as gunicorn does
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;

  // Header fields in wire order after the underscore policy (dropped names are absent).
  std::vector<Header> headers;

  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;  // meaningful when framing == content_length

  bool keep_alive = false;        // RFC 9112 section 9.3 with the first Connection header
  bool expect_continue = false;   // HTTP/1.1 with Expect: 100-continue
  std::uint32_t head_length = 0;  // bytes of the head, including the final CRLF CRLF

  // Parser bookkeeping, not part of the request: where parse_request stopped on a partial head,
  // so the next call with more bytes scans only the new ones (a client sending one byte at a
  // time costs linear, not quadratic, time). Only a hint: the head is always re-validated in
  // full once complete, and clear() (or any value) merely makes the parser start over.
  struct ResumePoint {
    std::uint32_t line_start = 0;     // first byte of the incomplete line
    std::uint32_t scanned_to = 0;     // no LF in [line_start, scanned_to)
    std::uint32_t section_start = 0;  // first byte after the request line
    std::uint32_t fields = 0;         // field lines before line_start
    std::uint32_t field_bytes = 0;    // bytes of the last field so far (for obs-fold)
    std::uint8_t stage = 0;           // 0: start over, 1: request line, 2: field lines
  } resume;

  void clear() noexcept {
    method = target = path = query = fragment = {};
    version_major = version_minor = 1;
    headers.clear();
    framing = BodyFraming::none;
    content_length = 0;
    keep_alive = expect_continue = false;
    head_length = 0;
    resume = {};
  }
};

}  // namespace monoceros::http
