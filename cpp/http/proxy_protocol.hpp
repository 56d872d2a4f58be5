// parse_proxy_header: the PROXY protocol header (HAProxy spec, v1 text and v2 binary) that a
// load balancer puts before the first request of a connection to pass on the client's address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/errors.hpp"

namespace monoceros::http {

enum class ProxyProtocolMode : std::uint8_t { off, v1, v2, any };

struct ProxyInfo {
  // "TCP4", "TCP6" (addresses given), "UNKNOWN" (v1), "LOCAL" or "UNSPEC" (v2): without
  // addresses the connection's own ones stay in force.
  std::string protocol;
  bool has_addresses = false;
  std::string client_addr;  // numeric source address
  int client_port = 0;
  std::string proxy_addr;  // numeric destination address (the proxy's listener)
  int proxy_port = 0;
};

enum class ProxyStatus : std::uint8_t {
  absent,    // the bytes are not a PROXY header (in the enabled versions): parse HTTP
  partial,   // a PROXY header has started (or may still start): read more
  complete,  // `consumed` bytes were the header; HTTP starts after them
  error,     // a PROXY header that is malformed
};

struct ProxyResult {
  ProxyStatus status = ProxyStatus::partial;
  std::size_t consumed = 0;
  ParseError error = ParseError::none;
  // True once the bytes are known to be a PROXY header (partial, complete or error), so the
  // caller can check the sender is allowed before anything else.
  bool detected = false;
};

ProxyResult parse_proxy_header(std::string_view buffer, ProxyProtocolMode mode, ProxyInfo& out);

}  // namespace monoceros::http
