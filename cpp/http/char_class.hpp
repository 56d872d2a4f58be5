// Byte-class helpers for code outside the parser (response headers, environ keys, logs),
// built on the parser's single byte table so there is one definition of each RFC class.
#pragma once

#include <string_view>

#include "http/byte_classes.hpp"

namespace monoceros::http {

// RFC 9110 §5.6.2: token = 1*tchar.
constexpr bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (!grammar::has(c, grammar::k_tchar)) return false;
  }
  return true;
}

// RFC 9110 §5.5: every octet a field-vchar, SP or HTAB (obs-text allowed; no CTL, no DEL).
constexpr bool is_field_value(std::string_view text) noexcept {
  for (char c : text) {
    if (!grammar::has(c, grammar::k_field_value)) return false;
  }
  return true;
}

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// ASCII case-insensitive equality of two arbitrary byte strings.
constexpr bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace monoceros::http
