// Message-body framing fields: Content-Length values and Transfer-Encoding coding lists.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/errors.hpp"

namespace monoceros::http::grammar {

// RFC 9112 §6.2 / RFC 9110 §8.6: Content-Length = 1*DIGIT, read as decimal even with leading
// zeros (never octal: checklist D6). No sign, no list ("5, 5" is refused: D2), no whitespace,
// at most 19 digits and at most INT64_MAX so any signed offset type downstream can hold it (D7).
bool parse_content_length_value(std::string_view text, std::uint64_t& value) noexcept;

// Accumulates every Transfer-Encoding field line of one request, in order, and says how the body
// is framed. RFC 9112 §6.1 and §6.3, with gunicorn's coding rules and the checklist's (E1-E10).
class TransferCodings {
 public:
  // Adds one field value (a comma list). Returns the first error seen so far.
  ParseError add(std::string_view field_value) noexcept;

  // After every field was added: none when the body is chunked; otherwise the error.
  ParseError finish() const noexcept;

  bool chunked() const noexcept { return chunked_; }

 private:
  ParseError error_ = ParseError::none;
  bool chunked_ = false;
  bool compressed_ = false;  // gzip / deflate / compress seen: 501 (checklist E10)
};

}  // namespace monoceros::http::grammar
