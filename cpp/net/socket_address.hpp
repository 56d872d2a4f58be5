// SocketAddress: a sockaddr of any family, and its text forms for logs and the WSGI environ.
#pragma once

#include <sys/socket.h>

#include <string>

namespace monoceros::net {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const noexcept { return storage.ss_family; }
  bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  // Numeric host ("127.0.0.1", "::1"); for AF_UNIX the path (often "" for clients).
  std::string host() const;
  int port() const noexcept;  // 0 for AF_UNIX
};

SocketAddress local_address(int fd) noexcept;

// gunicorn's display form of a listener: "http://127.0.0.1:8000", "http://[::1]:8000",
// "unix:/run/app.sock".
std::string listener_url(const SocketAddress& address);

}  // namespace monoceros::net
