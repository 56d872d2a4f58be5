// Authority syntax checks (RFC 3986 §3.2) for Host, CONNECT and absolute-form targets.
#include "http/host.hpp"

#include "http/byte_classes.hpp"

namespace monoceros::http::grammar {
namespace {

// RFC 3986 §3.2.3: port = *DIGIT; we require 1 to 5 digits and a value <= 65535.
bool is_valid_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

// RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ), which also covers
// IPv4address. Stricter than the RFC where the checklist asks (no ",", no empty label) and more
// permissive where it asks (obs-text, C10).
bool is_valid_reg_name(std::string_view text) noexcept {
  if (text.empty()) return false;
  bool label_empty = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (label_empty) return false;  // ".x", "a..b" (checklist G2 "..x")
      label_empty = true;
      continue;
    }
    if (c == '%') {
      // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
      if (i + 2 >= text.size() || !is_hexdig(text[i + 1]) || !is_hexdig(text[i + 2])) {
        return false;
      }
      i += 2;
    } else if (!has(c, k_reg_name) && static_cast<unsigned char>(c) < 0x80) {
      return false;
    }
    label_empty = false;
  }
  return true;  // a single trailing "." (fully qualified name) is accepted
}

// RFC 3986 §3.2.2: dec-octet "." dec-octet "." dec-octet "." dec-octet
bool is_valid_ipv4(std::string_view text) noexcept {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    unsigned value = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 4) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (digits > 1 && text[i - digits] == '0') return false;  // dec-octet has no leading zero
    ++parts;
    if (parts == 4) return i == text.size();
    if (i >= text.size() || text[i] != '.') return false;
    ++i;
  }
}

}  // namespace

bool is_valid_ipv6(std::string_view text) noexcept {
  // RFC 3986 §3.2.2: up to eight h16 groups separated by ":", at most one "::", optionally
  // ending in an IPv4address that stands for the last two groups.
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  const std::size_t size = text.size();
  if (size >= 2 && text[0] == ':' && text[1] == ':') {
    compressed = true;
    i = 2;
    if (i == size) return true;  // "::"
  } else if (size == 0 || text[0] == ':') {
    return false;
  }
  while (i < size) {
    // One group: h16, or the trailing IPv4address.
    std::size_t start = i;
    while (i < size && is_hexdig(text[i]) && i - start < 5)
      ++i;
    if (i < size && text[i] == '.') {
      if (!is_valid_ipv4(text.substr(start))) return false;
      groups += 2;
      i = size;
      break;
    }
    const std::size_t digits = i - start;
    if (digits == 0 || digits > 4) return false;
    ++groups;
    if (i == size) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < size && text[i] == ':') {
      if (compressed) return false;  // a second "::"
      compressed = true;
      ++i;
      if (i == size) break;  // "1::"
    } else if (i == size) {
      return false;  // a trailing single ":"
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool is_valid_host(std::string_view text, PortRule port_rule) noexcept {
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    // IPvFuture ("[v1.x]") and zone ids are not accepted: no client needs them in Host.
    if (!is_valid_ipv6(text.substr(1, close - 1))) return false;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      has_port = true;
      port = text.substr(colon + 1);
      host = text.substr(0, colon);
    }
    if (!is_valid_reg_name(host)) return false;  // also refuses "h:1:2" via the ":" in port
  }
  if (has_port) return is_valid_port(port);
  return port_rule == PortRule::optional;
}

bool is_valid_authority(std::string_view text) noexcept {
  const std::size_t at = text.find('@');
  if (at != std::string_view::npos) {
    for (std::size_t i = 0; i < at; ++i) {
      const char c = text[i];
      if (c == '%') {
        if (i + 2 >= at || !is_hexdig(text[i + 1]) || !is_hexdig(text[i + 2])) return false;
        i += 2;
      } else if (!has(c, k_userinfo)) {
        return false;
      }
    }
    text = text.substr(at + 1);
  }
  return is_valid_host(text, PortRule::optional);
}

}  // namespace monoceros::http::grammar
