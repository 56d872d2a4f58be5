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
  std::string_view path;      // path component, still percent-encoded ("" for "*" and
                              // authority-form; the path of an absolute-form target)
  std::string_view query;     // after '?', before '#' ("" if none)
  std::string_view fragment;  // after '#' ("" if none); kept, as gunicorn does
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;

  // Header fields in wire order after the underscore policy (dropped names are absent).
  std::vector<Header> headers;

  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;  // meaningful when framing == content_length

  bool keep_alive = false;            // RFC 9112 section 9.3 with the first Connection header
  bool expect_continue = false;       // HTTP/1.1 with Expect: 100-continue
  bool close_after_response = false;  // e.g. "gzip, chunked": gunicorn forces close
  std::uint32_t head_length = 0;      // bytes of the head, including the final CRLF CRLF

  void clear() noexcept {
    method = target = path = query = fragment = {};
    version_major = version_minor = 1;
    headers.clear();
    framing = BodyFraming::none;
    content_length = 0;
    keep_alive = expect_continue = close_after_response = false;
    head_length = 0;
  }
};

}  // namespace monoceros::http
