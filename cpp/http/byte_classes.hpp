// One 256-entry flag table classifying every octet for the request parser and chunked decoder.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace monoceros::http::grammar {

// Bit flags; one table lookup answers every class question about a byte. Explicit ASCII rules
// only: never locale-aware, never <cctype> (its answers depend on the C locale).
enum ByteClass : std::uint16_t {
  k_tchar = 1u << 0,        // RFC 9110 §5.6.2: tchar
  k_digit = 1u << 1,        // RFC 5234 B.1: DIGIT
  k_hexdig = 1u << 2,       // RFC 5234 B.1: HEXDIG (either case, RFC 9112 §7.1 chunk-size)
  k_field_value = 1u << 3,  // RFC 9110 §5.5: field-vchar / SP / HTAB (obs-text included)
  k_target = 1u << 4,       // RFC 9112 §3.2: the visible ASCII a request-target may hold
  k_reg_name = 1u << 5,     // RFC 3986 §3.2.2: unreserved / sub-delims, minus "," (G2)
  k_userinfo = 1u << 6,     // RFC 3986 §3.2.1: unreserved / sub-delims / ":"
  k_qdtext = 1u << 7,       // RFC 9110 §5.6.4: qdtext
  k_quoted_pair = 1u << 8,  // RFC 9110 §5.6.4: the octet after "\" (HTAB / SP / VCHAR / obs-text)
  k_scheme = 1u << 9,       // RFC 3986 §3.1: ALPHA / DIGIT / "+" / "-" / "."
  k_ows = 1u << 10,         // RFC 9110 §5.6.3: SP / HTAB
  k_lower = 1u << 11,       // a-z, for gunicorn's conventional-method rule
  k_underscore = 1u << 12,  // "_": names holding it fall under gunicorn's header_map policy
};

namespace detail {

constexpr void mark(std::array<std::uint16_t, 256>& table, int first, int last, std::uint16_t bit) {
  for (int c = first; c <= last; ++c)
    table[static_cast<std::size_t>(c)] |= bit;
}

constexpr void mark(std::array<std::uint16_t, 256>& table, std::string_view chars,
                    std::uint16_t bit) {
  for (char c : chars)
    table[static_cast<unsigned char>(c)] |= bit;
}

constexpr std::array<std::uint16_t, 256> make_byte_classes() {
  std::array<std::uint16_t, 256> t{};
  constexpr std::string_view sub_delims_no_comma = "!$&'()*+;=";
  constexpr std::string_view unreserved_punct = "-._~";

  mark(t, '0', '9', k_tchar | k_digit | k_hexdig | k_reg_name | k_userinfo | k_scheme);
  mark(t, 'a', 'z', k_tchar | k_reg_name | k_userinfo | k_scheme | k_lower);
  mark(t, 'A', 'Z', k_tchar | k_reg_name | k_userinfo | k_scheme);
  mark(t, 'a', 'f', k_hexdig);
  mark(t, 'A', 'F', k_hexdig);
  mark(t, "!#$%&'*+-.^_`|~", k_tchar);

  mark(t, 0x20, 0x7e, k_field_value);
  mark(t, '\t', '\t', k_field_value | k_ows);
  mark(t, ' ', ' ', k_ows);
  mark(t, 0x80, 0xff, k_field_value);

  mark(t, 0x21, 0x7e, k_target);

  mark(t, unreserved_punct, k_reg_name | k_userinfo);
  mark(t, sub_delims_no_comma, k_reg_name | k_userinfo);
  mark(t, ",:", k_userinfo);

  mark(t, '\t', '\t', k_qdtext | k_quoted_pair);
  mark(t, ' ', ' ', k_qdtext | k_quoted_pair);
  mark(t, 0x21, 0x21, k_qdtext);
  mark(t, 0x23, 0x5b, k_qdtext);
  mark(t, 0x5d, 0x7e, k_qdtext);
  mark(t, 0x80, 0xff, k_qdtext | k_quoted_pair);
  mark(t, 0x21, 0x7e, k_quoted_pair);

  mark(t, "+-.", k_scheme);
  mark(t, "_", k_underscore);
  return t;
}

}  // namespace detail

inline constexpr std::array<std::uint16_t, 256> k_byte_classes = detail::make_byte_classes();

constexpr bool has(unsigned char c, std::uint16_t cls) noexcept {
  return (k_byte_classes[c] & cls) != 0;
}
constexpr bool has(char c, std::uint16_t cls) noexcept {
  return has(static_cast<unsigned char>(c), cls);
}

constexpr bool is_tchar(char c) noexcept {
  return has(c, k_tchar);
}
constexpr bool is_digit(char c) noexcept {
  return has(c, k_digit);
}
constexpr bool is_hexdig(char c) noexcept {
  return has(c, k_hexdig);
}
constexpr bool is_ows(char c) noexcept {
  return has(c, k_ows);
}

constexpr unsigned hex_value(char c) noexcept {
  return c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>((c | 0x20) - 'a' + 10);
}

constexpr char to_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c & ~0x20) : c;
}

// Case-insensitive equality of `text` with `lower`, a lower-case literal of letters, digits and
// "-" (field names, coding names, "100-continue"). Every such octet has bit 0x20 set, so OR-ing
// 0x20 into `text` folds A-Z onto a-z and compares words at a time. Exact as long as `text` has
// no octet 0x0D or 0x10-0x19 (they would fold onto "-" or a digit): true of every validated
// field name (tchar only) and field value (no CTL but HTAB, which folds onto ")").
inline bool iequals(std::string_view text, std::string_view lower) noexcept {
  const std::size_t n = lower.size();
  if (text.size() != n) return false;
  const char* a = text.data();
  const char* b = lower.data();
  if (n >= 8) {
    constexpr std::uint64_t fold = 0x2020202020202020ULL;
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      std::uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if ((x | fold) != y) return false;
    }
    std::uint64_t x, y;  // the last 8 octets, overlapping the loop's when n % 8 != 0
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return (x | fold) == y;
  }
  if (n >= 4) {
    constexpr std::uint32_t fold = 0x20202020U;
    std::uint32_t x1, y1, x2, y2;
    std::memcpy(&x1, a, 4);
    std::memcpy(&y1, b, 4);
    std::memcpy(&x2, a + n - 4, 4);
    std::memcpy(&y2, b + n - 4, 4);
    return (x1 | fold) == y1 && (x2 | fold) == y2;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if ((a[i] | 0x20) != b[i]) return false;
  }
  return true;
}

// Removes leading and trailing SP / HTAB only (RFC 9110 §5.5: OWS around a field value).
// Never anything else: 0x85 and 0xA0 are data, not whitespace (checklist C10).
constexpr std::string_view trim_ows(std::string_view text) noexcept {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_ows(text[begin]))
    ++begin;
  while (end > begin && is_ows(text[end - 1]))
    --end;
  return text.substr(begin, end - begin);
}

constexpr bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

}  // namespace monoceros::http::grammar
