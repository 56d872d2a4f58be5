// Field-line grammar (RFC 9112 §5, RFC 9110 §5.5), scanned in one pass.
#include "http/field_line.hpp"

#include <algorithm>
#include <cstring>

#include "http/byte_classes.hpp"

namespace monoceros::http::grammar {
namespace {

constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
constexpr std::uint64_t k_highs = 0x8080808080808080ULL;

// True if one of the 8 octets in `word` is < 0x20 or == 0x7f: the only octets a field value may
// not hold, plus HTAB and CR, which also trip it and are then looked at one by one. Lets the
// common case move eight octets per step instead of one table lookup per octet.
constexpr bool word_needs_inspection(std::uint64_t word) noexcept {
  const std::uint64_t below_space = (word - k_ones * 0x20) & ~word & k_highs;
  const std::uint64_t x = word ^ (k_ones * 0x7f);
  const std::uint64_t is_del = (x - k_ones) & ~x & k_highs;
  return (below_space | is_del) != 0;
}

std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);  // an unaligned load without UB
  return word;
}

// The first offset in [from, stop) whose octet is not a field-value octet, or stop.
std::size_t skip_value_octets(const char* data, std::size_t from, std::size_t stop) noexcept {
  std::size_t i = from;
  while (true) {
    while (i + 8 <= stop && !word_needs_inspection(load_word(data + i))) i += 8;
    const std::size_t word_end = std::min(i + 8, stop);
    while (i < word_end && has(data[i], k_field_value)) ++i;
    if (i < word_end || i == stop) return i;
  }
}

}  // namespace

std::size_t find_invalid_value_octet(std::string_view text) noexcept {
  return skip_value_octets(text.data(), 0, text.size());
}

LineStatus scan_field_line(std::string_view text, std::size_t room, bool continuation,
                           bool strip_spaces_before_colon, FieldLine& line,
                           ParseError& error) noexcept {
  const char* data = text.data();
  const std::size_t size = text.size();
  if (room < 2) return LineStatus::too_large;
  // The CR must sit at or before max_cr; any other octet there or beyond means too large.
  const std::size_t max_cr = room - 2;
  const std::size_t stop = std::min(size, max_cr);
  auto invalid = [&](ParseError e) {
    error = e;
    return LineStatus::invalid;
  };

  std::size_t i = 0;
  if (!continuation) {
    // RFC 9110 §5.1: field-name = token.
    while (i < stop && is_tchar(data[i])) ++i;
    const std::size_t name_end = i;
    if (i < stop && is_ows(data[i]) && strip_spaces_before_colon && name_end > 0) {
      // Leniency (strip_header_spaces): "Name : value" is read as "Name: value".
      while (i < stop && is_ows(data[i])) ++i;
    }
    if (i == size) return LineStatus::partial;
    if (i >= max_cr && data[i] != '\r') return LineStatus::too_large;
    if (data[i] != ':') {
      // RFC 9112 §5.1: whitespace before the colon MUST be rejected (checklist C2); a line
      // with no colon (C5) ends in CR or LF where the colon should be.
      const char c = data[i];
      return invalid(c == '\r' || c == '\n' ? ParseError::invalid_header
                                            : ParseError::invalid_header_name);
    }
    if (name_end == 0) return invalid(ParseError::invalid_header);  // ": value" (C4)
    line.name = std::string_view(data, name_end);
    ++i;
  } else {
    line.name = {};
  }

  const std::size_t value_begin = i;
  i = skip_value_octets(data, i, stop);
  if (i == size) return LineStatus::partial;
  if (i >= max_cr && data[i] != '\r') return LineStatus::too_large;
  // RFC 9110 §5.5 and RFC 9112 §2.2: the value ends at CRLF; a CTL, DEL, bare LF (C7-C9) or a
  // CR not followed by LF is an error, never repaired.
  if (data[i] != '\r') return invalid(ParseError::invalid_header);
  if (i + 1 == size) return LineStatus::partial;
  if (data[i + 1] != '\n') return invalid(ParseError::invalid_header);
  line.value = trim_ows(std::string_view(data + value_begin, i - value_begin));
  line.length = i + 2;
  return LineStatus::complete;
}

}  // namespace monoceros::http::grammar
