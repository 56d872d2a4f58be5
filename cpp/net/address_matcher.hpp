// AddressMatcher: "is this peer in the trusted list?" for IPs, CIDR networks and "*".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"

namespace monoceros::net {

class AddressMatcher {
 public:
  // Entries like "127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8", "*". Returns the first entry
  // that does not parse, or nullopt when all are valid.
  std::optional<std::string> assign(const std::vector<std::string>& entries);

  // Unix-socket peers are always trusted (they are on this host, behind file permissions),
  // as in gunicorn. IPv4-mapped IPv6 peers also match IPv4 entries.
  bool matches(const SocketAddress& peer) const noexcept;

 private:
  struct Network {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6
    int prefix_bits = 128;
  };
  bool any_ = false;
  std::vector<Network> networks_;
};

}  // namespace monoceros::net
