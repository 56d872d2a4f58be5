// Response head serialisation helpers: the cached Date value and chunk framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace monoceros::http {

// The IMF-fixdate for the current second (RFC 9110 section 5.6.7), formatted at most once a
// second: every response carries a Date header and formatting it per request is wasted work.
class HttpDate {
 public:
  std::string_view now() noexcept;

 private:
  std::time_t second_ = -1;
  char text_[32] = {};
  std::size_t length_ = 0;
};

// Formats `when` as "Sun, 06 Nov 1994 08:49:37 GMT" into buffer (>= 30 bytes); returns length.
std::size_t format_http_date(std::time_t when, char* buffer) noexcept;

// True for statuses that never carry a body (RFC 9110 section 6.4.1): 1xx, 204, 304.
constexpr bool status_forbids_body(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// Appends "<hex size>\r\n" for a chunk of `size` bytes (RFC 9112 section 7.1).
void append_chunk_size(std::string& out, std::uint64_t size);

// Response header fields that belong to one connection, not to the app (RFC 9110 §7.6.1),
// plus Server and Date, which the server writes itself: dropped from the app's headers.
bool is_hop_by_hop(std::string_view name) noexcept;

// Parses a Content-Length value strictly (1*DIGIT, at most 19 digits); false otherwise.
bool parse_content_length(std::string_view text, std::uint64_t& value) noexcept;

// Appends a decimal number.
void append_decimal(std::string& out, std::uint64_t value);

// The last chunk with no trailers: "0\r\n\r\n".
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace monoceros::http
