// SocketAddress: a sockaddr of any family, and its text forms for logs and the WSGI environ.
#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

namespace monoceros::net {

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: {
      const auto* in4 = reinterpret_cast<const sockaddr_in*>(&storage);
      ::inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
      return text;
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      return text;
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
      const std::size_t header = offsetof(sockaddr_un, sun_path);
      if (length <= header || un->sun_path[0] == '\0') return {};
      return std::string(un->sun_path, ::strnlen(un->sun_path, length - header));
    }
    default:
      return {};
  }
}

int SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

SocketAddress local_address(int fd) noexcept {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length) != 0) {
    address.length = 0;
  }
  return address;
}

std::string listener_url(const SocketAddress& address) {
  switch (address.family()) {
    case AF_INET:
      return "http://" + address.host() + ":" + std::to_string(address.port());
    case AF_INET6:
      return "http://[" + address.host() + "]:" + std::to_string(address.port());
    case AF_UNIX:
      return "unix:" + address.host();
    default:
      return "unknown";
  }
}

}  // namespace monoceros::net
