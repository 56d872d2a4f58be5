// listen_queues: the accept queues of every TCP socket listening on an address, whichever
// process holds it, read from the kernel's socket diagnostics (NETLINK_SOCK_DIAG, as ss does).
#pragma once

#include "net/socket_address.hpp"

namespace monoceros::net {

// Connections waiting to be accepted, summed over the TCP sockets in LISTEN state bound to
// `address` (same family, port and IP; a wildcard address matches only a wildcard socket).
// With SO_REUSEPORT each worker listens on its own socket, so this is the only way for the
// master to see the backlog. -1 when it cannot be read (not TCP, or no sock_diag).
int listen_queue_length(const SocketAddress& address) noexcept;

}  // namespace monoceros::net
