// ParserOptions limits after gunicorn's clamping, shared by the parser and the chunked decoder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "http/parser.hpp"

namespace monoceros::http::grammar {

// gunicorn/http/message.py: MAX_REQUEST_LINE, MAX_HEADERS, DEFAULT_MAX_HEADERFIELD_SIZE.
inline constexpr std::size_t k_max_request_line = 8190;
inline constexpr std::size_t k_max_fields = 32768;
inline constexpr std::size_t k_default_field_size = 8190;
// Offsets into a head are kept in 32 bits (Request::head_length); no sane head comes close.
inline constexpr std::size_t k_max_head_bytes = std::size_t{UINT32_MAX} - (1u << 16);

struct EffectiveLimits {
  std::size_t request_line;  // octets of the request-line before its CRLF
  std::size_t fields;        // field lines in the header section (or the trailer section)
  std::size_t field_size;    // octets of one field line including CRLF (obs-fold lines summed)
  std::size_t section_cap;   // octets of the whole header section
};

constexpr EffectiveLimits effective_limits(const ParserOptions& options) noexcept {
  EffectiveLimits limits{};
  // limit_request_line: 0 means unlimited but is still capped, as is anything >= 8190 (and a
  // negative Python int, which arrives here as a huge size_t).
  limits.request_line = options.limit_request_line == 0
                            ? k_max_request_line
                            : std::min(options.limit_request_line, k_max_request_line);
  limits.fields = options.limit_request_fields == 0
                      ? k_max_fields
                      : std::min(options.limit_request_fields, k_max_fields);
  // limit_request_field_size: 0 (documented "unlimited") is the default in gunicorn's code.
  limits.field_size = options.limit_request_field_size == 0
                          ? k_default_field_size
                          : std::min(options.limit_request_field_size, k_max_head_bytes);
  // gunicorn's "max buffer headers": fields * (field_size + 2) + 4, saturated.
  const std::size_t per_field = limits.field_size + 2;
  limits.section_cap = per_field > (k_max_head_bytes - 4) / limits.fields
                           ? k_max_head_bytes
                           : limits.fields * per_field + 4;
  return limits;
}

}  // namespace monoceros::http::grammar
