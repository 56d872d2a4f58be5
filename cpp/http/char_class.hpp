// Byte classes of RFC 9110 as constexpr tables: explicit ASCII rules, never locale-aware.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace monoceros::http {

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}

// field-vchar / SP / HTAB: VCHAR, obs-text, SP, HTAB; no other CTL and no DEL.
constexpr std::array<bool, 256> make_field_value_table() {
  std::array<bool, 256> table{};
  table['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = 0x80; c <= 0xff; ++c)
    table[static_cast<std::size_t>(c)] = true;
  return table;
}
}  // namespace detail

// RFC 9110 §5.6.2: tchar.
inline constexpr std::array<bool, 256> kTchar = detail::make_tchar_table();
// RFC 9110 §5.5: field-value octets (VCHAR, obs-text, SP, HTAB).
inline constexpr std::array<bool, 256> kFieldValueOctet = detail::make_field_value_table();

constexpr bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (!kTchar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

constexpr bool is_field_value(std::string_view text) noexcept {
  for (char c : text) {
    if (!kFieldValueOctet[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

constexpr bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace monoceros::http
