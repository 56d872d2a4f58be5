// Listener: a bound, listening, non-blocking socket from a bind address or an inherited fd.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "net/socket_address.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::net {

struct ListenSpec {
  enum class Kind { tcp, unix_path, fd };
  Kind kind = Kind::tcp;
  std::string host;  // tcp: IP literal or name; "" means all IPv4 interfaces
  int port{};        // tcp (the bind setting's default port is the settings table's)
  std::string path;  // unix_path
  // unix_path: the socket file is chowned to these, so that workers running as `user` and
  // `group` may use it, as gunicorn does. (uid_t)-1 and (gid_t)-1 keep the id, as for chown().
  uid_t owner_uid = static_cast<uid_t>(-1);
  gid_t owner_gid = static_cast<gid_t>(-1);
  int fd = -1;  // fd: an already-bound socket handed to us (fd://N)

  bool operator==(const ListenSpec&) const = default;
};

// How a socket is opened, beyond its address.
struct ListenOptions {
  int backlog = 2048;
  int umask_bits = 0;  // for unix socket files
  // SO_REUSEPORT: a TCP address is bound but not listened on (a reservation; see
  // Listener::per_worker), so that each worker can listen on its own socket bound to it.
  bool reuse_port = false;
};

struct Listener {
  util::unique_fd fd;
  SocketAddress address;    // getsockname(): the real port when port 0 was asked for
  std::string url;          // "http://127.0.0.1:8000", "unix:/run/app.sock"
  std::string unix_path;    // set when we created a unix socket file (unlinked at shutdown)
  std::string server_name;  // environ SERVER_NAME ("" for unix sockets: taken from Host)
  std::string server_port;  // environ SERVER_PORT ("" for unix sockets)
  // reuse_port: this socket only holds the address (bound with SO_REUSEPORT, not listening,
  // so the kernel sends it no connections); each worker opens its own with open_own_listener.
  bool per_worker = false;
  // No other process holds this socket (a reuse_port worker's own): whatever this process
  // decides about new connections decides it for every client of the socket.
  bool sole_holder = false;
};

// Makes a TCP listener drop new connection attempts (their SYNs) from now on, while the
// connections already in its accept queue stay there to be accepted. A server that is going
// away does this before its last drain of the queue: nothing can race in between that drain
// and close(), where the kernel would reset it. The clients' SYN retransmissions meet the
// closed socket (connection refused: a load balancer retries elsewhere) or, with SO_REUSEPORT,
// another socket of the group. Every holder of the socket is affected. False for sockets that
// do not take filters (unix sockets: their file is unlinked instead).
bool refuse_new_connections(const Listener& listener) noexcept;

// Connections waiting in a TCP listener's accept queue (TCP_INFO), or -1 for other sockets.
int accept_queue_length(const Listener& listener) noexcept;

// How the spec is shown in errors, e.g. "('127.0.0.1', 8000)" or "/run/app.sock".
std::string describe_spec(const ListenSpec& spec);

// Binds and listens (SO_REUSEADDR; a stale unix socket file is removed first; the unix socket
// is created under `umask`). On failure returns nullopt, sets `error` to one line and
// `error_code` to the errno (EADDRINUSE is worth retrying; most others are not).
std::optional<Listener> open_listener(const ListenSpec& spec, const ListenOptions& options,
                                      std::string& error, int& error_code);

// In a worker, for a per_worker listener: a socket of its own, bound to the same address with
// SO_REUSEPORT and listening. The kernel spreads new connections across these sockets.
std::optional<Listener> open_own_listener(const Listener& reserved, int backlog,
                                          std::string& error);

// Fills the derived fields (address, url, server_name/port) for a listening fd.
Listener describe_listener(util::unique_fd fd);

}  // namespace monoceros::net
