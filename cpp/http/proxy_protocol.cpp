// parse_proxy_header: the PROXY protocol header (HAProxy spec, v1 text and v2 binary).
#include "http/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace monoceros::http {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
// The spec's longest v1 line: "PROXY TCP6 " + 2 x 39 + 2 x 5 + 3 spaces + CRLF = 107 bytes.
constexpr std::size_t kV1MaxLine = 107;
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2FixedHeader = 16;

ProxyResult fail() {
  return {ProxyStatus::error, 0, ParseError::invalid_proxy_line, true};
}

// A prefix of `pattern` (or all of it): decides "could still be" vs "is not".
bool starts_like(std::string_view buffer, std::string_view pattern) {
  const std::size_t n = buffer.size() < pattern.size() ? buffer.size() : pattern.size();
  // An empty view may have a null data(), which memcmp must never see, even for 0 bytes.
  return n == 0 || std::memcmp(buffer.data(), pattern.data(), n) == 0;
}

std::string_view v2_signature() {
  return {reinterpret_cast<const char*>(kV2Signature.data()), kV2Signature.size()};
}

// 1-5 DIGIT, value <= 65535 (the spec's decimal port).
bool parse_port(std::string_view text, int& port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  port = value;
  return true;
}

bool valid_address(std::string_view text, int family) {
  if (text.empty() || text.size() > 45) return false;
  char copy[46];
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  unsigned char binary[16];
  return ::inet_pton(family, copy, binary) == 1;
}

// "PROXY TCP4 src dst sport dport\r\n" (or TCP6), or "PROXY UNKNOWN...\r\n".
ProxyResult parse_v1(std::string_view buffer, ProxyInfo& out) {
  const std::size_t search = buffer.size() < kV1MaxLine ? buffer.size() : kV1MaxLine;
  const std::size_t end = buffer.substr(0, search).find("\r\n");
  if (end == std::string_view::npos) {
    if (buffer.size() >= kV1MaxLine) return fail();
    if (buffer.substr(0, search).find('\n') != std::string_view::npos) return fail();
    return {ProxyStatus::partial, 0, ParseError::none, true};
  }
  std::string_view line = buffer.substr(kV1Prefix.size(), end - kV1Prefix.size());
  // The spec's line is printable US-ASCII and single spaces. A NUL, LF or other control octet
  // is refused here, wherever it is: inet_pton would stop at a NUL and accept
  // "1.2.3.4\0junk" as an address (and the junk would reach REMOTE_ADDR), and whether a bare LF
  // is an error must not depend on whether the CRLF arrived in the same read.
  for (const char c : line) {
    if (c < 0x20 || c > 0x7E) return fail();
  }
  std::string_view fields[5];
  std::size_t count = 0;
  while (count < 5) {
    const std::size_t space = line.find(' ');
    fields[count++] = line.substr(0, space);
    if (space == std::string_view::npos) {
      line = {};
      break;
    }
    line.remove_prefix(space + 1);
  }
  const std::size_t consumed = end + 2;
  // The spec: a receiver must ignore what follows UNKNOWN and use the real addresses.
  if (count >= 1 && fields[0] == "UNKNOWN") {
    out = ProxyInfo{};
    out.protocol = "UNKNOWN";
    return {ProxyStatus::complete, consumed, ParseError::none, true};
  }
  if (count != 5 || !line.empty()) return fail();
  const bool v4 = fields[0] == "TCP4";
  if (!v4 && fields[0] != "TCP6") return fail();
  const int family = v4 ? AF_INET : AF_INET6;
  int client_port = 0;
  int proxy_port = 0;
  if (!valid_address(fields[1], family) || !valid_address(fields[2], family) ||
      !parse_port(fields[3], client_port) || !parse_port(fields[4], proxy_port)) {
    return fail();
  }
  out.protocol = std::string(fields[0]);
  out.has_addresses = true;
  out.client_addr = std::string(fields[1]);
  out.proxy_addr = std::string(fields[2]);
  out.client_port = client_port;
  out.proxy_port = proxy_port;
  return {ProxyStatus::complete, consumed, ParseError::none, true};
}

std::string address_text(const unsigned char* bytes, int family) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes, text, sizeof text);
  return text;
}

int read_port(const unsigned char* bytes) {
  return (bytes[0] << 8) | bytes[1];
}

// 12-byte signature, version/command, family/protocol, 16-bit length, then the addresses.
ProxyResult parse_v2(std::string_view buffer, ProxyInfo& out) {
  if (buffer.size() < kV2FixedHeader) return {ProxyStatus::partial, 0, ParseError::none, true};
  const auto* bytes = reinterpret_cast<const unsigned char*>(buffer.data());
  const int version = bytes[12] >> 4;
  const int command = bytes[12] & 0x0F;
  const int family = bytes[13] >> 4;
  const int transport = bytes[13] & 0x0F;
  const std::size_t length = (static_cast<std::size_t>(bytes[14]) << 8) | bytes[15];
  if (version != 2 || command > 1) return fail();
  if (buffer.size() < kV2FixedHeader + length) {
    return {ProxyStatus::partial, 0, ParseError::none, true};
  }
  const std::size_t consumed = kV2FixedHeader + length;
  const unsigned char* data = bytes + kV2FixedHeader;
  out = ProxyInfo{};
  if (command == 0) {  // LOCAL: the proxy's own connection (health checks)
    out.protocol = "LOCAL";
    return {ProxyStatus::complete, consumed, ParseError::none, true};
  }
  if (family == 0) {  // UNSPEC: addresses not given
    out.protocol = "UNSPEC";
    return {ProxyStatus::complete, consumed, ParseError::none, true};
  }
  if (transport != 1) return fail();  // only STREAM (TCP)
  if (family == 1 && length >= 12) {
    out.protocol = "TCP4";
    out.client_addr = address_text(data, AF_INET);
    out.proxy_addr = address_text(data + 4, AF_INET);
    out.client_port = read_port(data + 8);
    out.proxy_port = read_port(data + 10);
  } else if (family == 2 && length >= 36) {
    out.protocol = "TCP6";
    out.client_addr = address_text(data, AF_INET6);
    out.proxy_addr = address_text(data + 16, AF_INET6);
    out.client_port = read_port(data + 32);
    out.proxy_port = read_port(data + 34);
  } else {
    return fail();  // AF_UNIX, unknown families, or too short for the family
  }
  out.has_addresses = true;
  return {ProxyStatus::complete, consumed, ParseError::none, true};
}

}  // namespace

ProxyResult parse_proxy_header(std::string_view buffer, ProxyProtocolMode mode, ProxyInfo& out) {
  if (mode == ProxyProtocolMode::off) return {ProxyStatus::absent, 0, ParseError::none, false};
  const bool want_v1 = mode == ProxyProtocolMode::v1 || mode == ProxyProtocolMode::any;
  const bool want_v2 = mode == ProxyProtocolMode::v2 || mode == ProxyProtocolMode::any;
  const bool maybe_v1 = want_v1 && starts_like(buffer, kV1Prefix);
  const bool maybe_v2 = want_v2 && starts_like(buffer, v2_signature());
  if (!maybe_v1 && !maybe_v2) return {ProxyStatus::absent, 0, ParseError::none, false};
  if (maybe_v1 && buffer.size() >= kV1Prefix.size()) return parse_v1(buffer, out);
  if (maybe_v2 && buffer.size() >= kV2Signature.size()) return parse_v2(buffer, out);
  return {ProxyStatus::partial, 0, ParseError::none, false};  // too short to tell yet
}

}  // namespace monoceros::http
