// Grammar of one field line (header or trailer), shared by the parser and the chunked decoder.
// Inline: it runs once per header line, and the call would cost as much as the work.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/byte_classes.hpp"
#include "http/errors.hpp"
#include "http/wide_scan.hpp"

// Per-line helpers are forced inline into their one or two callers: on a 500-byte head the
// call overhead otherwise costs as much as the scanning.
#if defined(__GNUC__) || defined(__clang__)
#define MONOCEROS_HTTP_INLINE [[gnu::always_inline]] inline
#else
#define MONOCEROS_HTTP_INLINE inline
#endif

namespace monoceros::http::grammar {

enum class LineStatus : std::uint8_t {
  complete,   // the line and its CRLF were read
  partial,    // no error so far, but the text ends before the CRLF
  too_large,  // the line cannot end within `room` octets
  invalid,    // a grammar error (see `error`)
};

struct FieldLine {
  std::string_view name;   // field line: the field-name; continuation line: empty
  std::string_view value;  // trimmed of SP / HTAB only
  std::size_t length = 0;  // octets of the line including its CRLF (when complete)
  bool name_has_underscore = false;
};

// The first offset in [from, stop) whose octet is not a field-value octet (RFC 9110 §5.5:
// field-vchar / SP / HTAB, obs-text included), or stop.
MONOCEROS_HTTP_INLINE std::size_t skip_value_octets(const char* data, std::size_t from,
                                                    std::size_t stop) noexcept {
  std::size_t i = wide::find_value_special(data, from, stop);
  while (i < stop && data[i] == '\t')
    i = wide::find_value_special(data, i + 1, stop);  // HTAB: fine
  return i;
}

// Scans one line from text[0] octet by octet. `text` may extend past the line (the rest of the
// buffer); the line, CRLF included, must fit in `room` octets. Each outcome is decided by the
// first octet that forces it, so a shorter `text` can only turn an answer into `partial`.
//
// A field line (RFC 9112 §5.1): field-line = field-name ":" OWS field-value OWS CRLF, with
// - field-name = token (RFC 9110 §5.1); no whitespace before the colon (RFC 9112 §5.1 MUST
//   reject) unless `strip_spaces_before_colon` (gunicorn's strip_header_spaces) drops it;
// - field-value octets limited to field-vchar / SP / HTAB (RFC 9110 §5.5): NUL, CR, LF, other
//   CTLs and DEL are refused, obs-text (>= 0x80) is kept byte-exact (checklist C7, C8, C10);
// - CRLF only (RFC 9112 §2.2): a bare CR or bare LF is refused (checklist C9).
// Errors: invalid_header (no colon, empty name, bad value octet, bare CR/LF) and
// invalid_header_name (an octet no name may hold where the name continues).
//
// A continuation line (`continuation`, text[0] is SP / HTAB: RFC 9112 §5.2 obs-fold) holds
// only field-value octets; its trimmed text is returned in `value`.
MONOCEROS_HTTP_INLINE LineStatus scan_field_line(std::string_view text, std::size_t room,
                                                 bool continuation, bool strip_spaces_before_colon,
                                                 FieldLine& line, ParseError& error) noexcept {
  const char* data = text.data();
  const std::size_t size = text.size();
  if (room < 2) return LineStatus::too_large;
  // The CR must sit at or before max_cr; any other octet there or beyond means too large.
  const std::size_t max_cr = room - 2;
  const std::size_t stop = std::min(size, max_cr);

  std::size_t i = 0;
  if (!continuation) {
    // RFC 9110 §5.1: field-name = token. The classes seen are OR-ed to spot "_" on the way;
    // four octets per step while they last, one at a time near the end.
    std::uint16_t seen = 0;
    const auto* u = reinterpret_cast<const unsigned char*>(data);
    i = wide::skip_plain_name(data, i, stop);  // letters, digits, "-": tchar, and never "_"
    while (i + 4 <= stop && data[i] != ':') {
      const std::uint16_t c0 = k_byte_classes[u[i]];
      const std::uint16_t c1 = k_byte_classes[u[i + 1]];
      const std::uint16_t c2 = k_byte_classes[u[i + 2]];
      const std::uint16_t c3 = k_byte_classes[u[i + 3]];
      if ((c0 & c1 & c2 & c3 & k_tchar) == 0) break;
      seen |= c0 | c1 | c2 | c3;
      i += 4;
    }
    while (i < stop && data[i] != ':') {
      const std::uint16_t cls = k_byte_classes[u[i]];
      if ((cls & k_tchar) == 0) break;
      seen |= cls;
      ++i;
    }
    const std::size_t name_end = i;
    if (i < stop && is_ows(data[i]) && strip_spaces_before_colon && name_end > 0) {
      // Leniency (strip_header_spaces): "Name : value" is read as "Name: value".
      while (i < stop && is_ows(data[i]))
        ++i;
    }
    if (i == size) return LineStatus::partial;
    if (i >= max_cr && data[i] != '\r') return LineStatus::too_large;
    if (data[i] != ':') {
      // RFC 9112 §5.1: whitespace before the colon MUST be rejected (checklist C2); a line
      // with no colon (C5) ends in CR or LF where the colon should be.
      const char c = data[i];
      error = c == '\r' || c == '\n' ? ParseError::invalid_header : ParseError::invalid_header_name;
      return LineStatus::invalid;
    }
    if (name_end == 0) {
      error = ParseError::invalid_header;  // ": value" (checklist C4)
      return LineStatus::invalid;
    }
    line.name = std::string_view(data, name_end);
    line.name_has_underscore = (seen & k_underscore) != 0;
    ++i;
  } else {
    line.name = {};
    line.name_has_underscore = false;
  }

  const std::size_t value_begin = i;
  i = skip_value_octets(data, i, stop);
  if (i == size) return LineStatus::partial;
  if (i >= max_cr && data[i] != '\r') return LineStatus::too_large;
  // RFC 9110 §5.5 and RFC 9112 §2.2: the value ends at CRLF; a CTL, DEL, bare LF or a CR not
  // followed by LF is an error, never repaired.
  if (data[i] != '\r') {
    error = ParseError::invalid_header;
    return LineStatus::invalid;
  }
  if (i + 1 == size) return LineStatus::partial;
  if (data[i + 1] != '\n') {
    error = ParseError::invalid_header;
    return LineStatus::invalid;
  }
  line.value = trim_ows(std::string_view(data + value_begin, i - value_begin));
  line.length = i + 2;
  return LineStatus::complete;
}

}  // namespace monoceros::http::grammar
