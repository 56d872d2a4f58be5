// listen_queues: accept queues of the listening sockets on an address, through sock_diag.
#include "net/listen_queues.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "util/unique_fd.hpp"

namespace monoceros::net {
namespace {

// The IP of `address` as inet_diag lays it out: 4 bytes for IPv4, 16 for IPv6.
bool same_ip(const SocketAddress& address, const inet_diag_sockid& id) {
  if (address.family() == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address.storage);
    return std::memcmp(&v4.sin_addr, id.idiag_src, 4) == 0;
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address.storage);
  return std::memcmp(&v6.sin6_addr, id.idiag_src, 16) == 0;
}

}  // namespace

int listen_queue_length(const SocketAddress& address) noexcept {
  if (!address.is_ip()) return -1;
  util::unique_fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd) return -1;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = static_cast<std::uint8_t>(address.family());
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1U << TCP_LISTEN;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return -1;
  }
  const auto port = static_cast<std::uint16_t>(htons(static_cast<std::uint16_t>(address.port())));
  int waiting = 0;
  alignas(nlmsghdr) char buffer[32 * 1024];
  for (;;) {
    const ssize_t got = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (got <= 0) return -1;
    auto length = static_cast<unsigned>(got);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_type == NLMSG_DONE) return waiting;
      if (header->nlmsg_type == NLMSG_ERROR) return -1;
      if (header->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
      const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
      // For a listening socket the kernel reports its accept queue as the receive queue.
      if (socket->id.idiag_sport == port && same_ip(address, socket->id)) {
        waiting += static_cast<int>(socket->idiag_rqueue);
      }
    }
  }
}

}  // namespace monoceros::net
