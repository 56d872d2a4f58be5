// AddressMatcher: "is this peer in the trusted list?" for IPs, CIDR networks and "*".
#include "net/address_matcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace monoceros::net {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

Bytes mapped_v4(const in_addr& v4) {
  Bytes bytes{};
  bytes[10] = bytes[11] = 0xff;
  std::memcpy(bytes.data() + 12, &v4, 4);
  return bytes;
}

bool parse_ip(const std::string& text, Bytes& out, bool& is_v4) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out = mapped_v4(v4);
    is_v4 = true;
    return true;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    is_v4 = false;
    return true;
  }
  return false;
}

bool parse_prefix(std::string_view text, int max_bits, int& bits) {
  if (text.empty() || text.size() > 3) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max_bits) return false;
  bits = value;
  return true;
}

bool prefix_equal(const Bytes& a, const Bytes& b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(whole)] & mask) == (b[static_cast<std::size_t>(whole)] & mask);
}

}  // namespace

std::optional<std::string> AddressMatcher::assign(const std::vector<std::string>& entries) {
  any_ = false;
  networks_.clear();
  for (const std::string& raw : entries) {
    std::string entry;
    for (char c : raw) {
      if (c != ' ' && c != '\t') entry.push_back(c);
    }
    if (entry.empty()) continue;
    if (entry == "*") {
      any_ = true;
      continue;
    }
    const std::size_t slash = entry.find('/');
    Network network;
    bool is_v4 = false;
    if (!parse_ip(entry.substr(0, slash), network.bytes, is_v4)) return raw;
    network.prefix_bits = 128;
    if (slash != std::string::npos) {
      int bits = 0;
      if (!parse_prefix(std::string_view(entry).substr(slash + 1), is_v4 ? 32 : 128, bits)) {
        return raw;
      }
      network.prefix_bits = is_v4 ? 96 + bits : bits;
      // A strict network: host bits must be zero, as Python's ip_network(strict=True) requires.
      Bytes masked = network.bytes;
      for (int bit = network.prefix_bits; bit < 128; ++bit) {
        masked[static_cast<std::size_t>(bit / 8)] &=
            static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
      }
      if (masked != network.bytes) return raw;
    }
    networks_.push_back(network);
  }
  return std::nullopt;
}

bool AddressMatcher::matches(const SocketAddress& peer) const noexcept {
  if (!peer.is_ip()) return true;
  if (any_) return true;
  Bytes bytes{};
  if (peer.family() == AF_INET) {
    bytes = mapped_v4(reinterpret_cast<const sockaddr_in*>(&peer.storage)->sin_addr);
  } else {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&peer.storage)->sin6_addr, 16);
  }
  for (const Network& network : networks_) {
    if (prefix_equal(bytes, network.bytes, network.prefix_bits)) return true;
  }
  return false;
}

}  // namespace monoceros::net
