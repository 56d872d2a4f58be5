// Grammar of one field line (header or trailer), shared by the parser and the chunked decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/errors.hpp"

namespace monoceros::http::grammar {

enum class LineStatus : std::uint8_t {
  complete,   // the line and its CRLF were read
  partial,    // no error so far, but the text ends before the CRLF
  too_large,  // the line cannot end within `room` octets
  invalid,    // a grammar error (see `error`)
};

struct FieldLine {
  std::string_view name;    // field line: the field-name; continuation line: empty
  std::string_view value;   // trimmed of SP / HTAB only
  std::size_t length = 0;   // octets of the line including its CRLF (when complete)
};

// Scans one line from text[0] octet by octet. `text` may extend past the line (the rest of the
// buffer); the line, CRLF included, must fit in `room` octets. Each outcome is decided by the
// first octet that forces it, so a shorter `text` can only turn an answer into `partial`.
//
// A field line (RFC 9112 §5.1): field-line = field-name ":" OWS field-value OWS CRLF, with
// - field-name = token (RFC 9110 §5.1); no whitespace before the colon (RFC 9112 §5.1 MUST
//   reject) unless `strip_spaces_before_colon` (gunicorn's strip_header_spaces) drops it;
// - field-value octets limited to field-vchar / SP / HTAB (RFC 9110 §5.5): NUL, CR, LF, other
//   CTLs and DEL are refused, obs-text (>= 0x80) is kept byte-exact;
// - CRLF only (RFC 9112 §2.2): a bare CR or bare LF is refused.
// Errors: invalid_header (no colon, empty name, bad value octet, bare CR/LF), and
// invalid_header_name (an octet no name may hold where the name continues).
//
// A continuation line (`continuation`, text[0] is SP / HTAB: RFC 9112 §5.2 obs-fold) holds
// only field-value octets; its trimmed text is returned in `value`.
LineStatus scan_field_line(std::string_view text, std::size_t room, bool continuation,
                           bool strip_spaces_before_colon, FieldLine& line,
                           ParseError& error) noexcept;

// The offset of the first octet that is not a field-value octet, or text.size().
std::size_t find_invalid_value_octet(std::string_view text) noexcept;

}  // namespace monoceros::http::grammar
