// Listener: a bound, listening, non-blocking socket from a bind address or an inherited fd.
#include "net/listener.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/errno_text.hpp"

namespace monoceros::net {
namespace {

bool set_nonblocking_cloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return false;
  const int fd_flags = ::fcntl(fd, F_GETFD);
  return fd_flags >= 0 && ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) == 0;
}

// SO_ACCEPTCONN: whether listen() was called on the socket (systemd's sockets already listen).
bool is_listening(int fd) {
  int accepting = 0;
  socklen_t length = sizeof accepting;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting != 0;
}

// SO_REUSEPORT where the kernel has it; false (the socket is then shared) where it does not.
bool set_reuse_port(int fd) {
  const int on = 1;
  return ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0;
}

std::optional<Listener> fail(std::string& error, const ListenSpec& spec, int code) {
  error = "connection to " + describe_spec(spec) + " failed: [Errno " + std::to_string(code) +
          "] " + util::errno_text(code);
  errno = code;
  return std::nullopt;
}

std::optional<Listener> open_tcp(const ListenSpec& spec, const ListenOptions& options,
                                 std::string& error) {
  addrinfo hints{};
  // Like gunicorn: an IPv6 literal binds IPv6, anything else resolves to IPv4.
  hints.ai_family = spec.host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(spec.port);
  const int status =
      ::getaddrinfo(spec.host.empty() ? nullptr : spec.host.c_str(), port.c_str(), &hints, &found);
  if (status != 0 || found == nullptr) {
    error = "cannot resolve " + describe_spec(spec) + ": " + ::gai_strerror(status);
    return std::nullopt;
  }
  util::unique_fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    const int code = errno;
    ::freeaddrinfo(found);
    return fail(error, spec, code);
  }
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Accepted sockets inherit TCP_NODELAY on Linux; set it here and again per connection.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const bool per_worker = options.reuse_port && set_reuse_port(fd.get());
  const int bound = ::bind(fd.get(), found->ai_addr, found->ai_addrlen);
  const int code = errno;
  ::freeaddrinfo(found);
  if (bound != 0) return fail(error, spec, code);
  // A reservation does not listen: only listening sockets are offered connections, so the
  // workers' sockets get them all.
  if ((!per_worker && ::listen(fd.get(), options.backlog) != 0) ||
      !set_nonblocking_cloexec(fd.get())) {
    return fail(error, spec, errno);
  }
  Listener listener = describe_listener(std::move(fd));
  listener.per_worker = per_worker;
  return listener;
}

std::optional<Listener> open_unix(const ListenSpec& spec, int backlog, int umask_bits,
                                  std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (spec.path.empty() || spec.path.size() >= sizeof address.sun_path) {
    error = "invalid unix socket path: '" + spec.path + "'";
    return std::nullopt;
  }
  std::memcpy(address.sun_path, spec.path.data(), spec.path.size());
  struct stat existing{};
  if (::lstat(spec.path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      error = "'" + spec.path + "' exists and is not a socket";
      return std::nullopt;
    }
    ::unlink(spec.path.c_str());  // a stale socket from a previous run
  }
  util::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(error, spec, errno);
  const mode_t previous = ::umask(static_cast<mode_t>(umask_bits));
  const int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  const int code = errno;
  ::umask(previous);
  if (bound != 0) return fail(error, spec, code);
  const bool change_owner =
      spec.owner_uid != static_cast<uid_t>(-1) || spec.owner_gid != static_cast<gid_t>(-1);
  if (change_owner && ::chown(spec.path.c_str(), spec.owner_uid, spec.owner_gid) != 0) {
    const int chown_error = errno;
    ::unlink(spec.path.c_str());
    return fail(error, spec, chown_error);
  }
  if (::listen(fd.get(), backlog) != 0 || !set_nonblocking_cloexec(fd.get())) {
    return fail(error, spec, errno);
  }
  Listener listener = describe_listener(std::move(fd));
  listener.unix_path = spec.path;
  listener.url = "unix:" + spec.path;
  return listener;
}

std::optional<Listener> adopt_fd(const ListenSpec& spec, const ListenOptions& options,
                                 std::string& error) {
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(spec.fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    error = "fd://" + std::to_string(spec.fd) + " is not a stream socket";
    return std::nullopt;
  }
  if (!set_nonblocking_cloexec(spec.fd)) return fail(error, spec, errno);
  // A socket that does not listen yet is either the reservation of a reuse_port master handed
  // over by SIGUSR2 (it stays one) or a bound socket that is ours to listen on, as gunicorn does.
  bool per_worker = false;
  if (!is_listening(spec.fd)) {
    per_worker = options.reuse_port && local_address(spec.fd).is_ip();
    if (!per_worker && ::listen(spec.fd, options.backlog) != 0) return fail(error, spec, errno);
  }
  Listener listener = describe_listener(util::unique_fd(spec.fd));
  listener.per_worker = per_worker;
  return listener;
}

std::optional<Listener> open_any(const ListenSpec& spec, const ListenOptions& options,
                                 std::string& error);

}  // namespace

std::string describe_spec(const ListenSpec& spec) {
  switch (spec.kind) {
    case ListenSpec::Kind::tcp:
      return "('" + spec.host + "', " + std::to_string(spec.port) + ")";
    case ListenSpec::Kind::unix_path:
      return spec.path;
    case ListenSpec::Kind::fd:
      return "fd://" + std::to_string(spec.fd);
  }
  return {};
}

std::optional<Listener> open_listener(const ListenSpec& spec, const ListenOptions& options,
                                      std::string& error, int& error_code) {
  error_code = 0;
  errno = 0;
  std::optional<Listener> listener = open_any(spec, options, error);
  if (!listener) error_code = errno ? errno : EINVAL;
  return listener;
}

namespace {
std::optional<Listener> open_any(const ListenSpec& spec, const ListenOptions& options,
                                 std::string& error) {
  switch (spec.kind) {
    case ListenSpec::Kind::tcp:
      return open_tcp(spec, options, error);
    case ListenSpec::Kind::unix_path:
      // SO_REUSEPORT does not spread unix socket connections: one socket serves all workers.
      return open_unix(spec, options.backlog, options.umask_bits, error);
    case ListenSpec::Kind::fd:
      return adopt_fd(spec, options, error);
  }
  return std::nullopt;
}
}  // namespace

std::optional<Listener> open_own_listener(const Listener& reserved, int backlog,
                                          std::string& error) {
  const auto describe = [&](int code) {
    error = "connection to " + reserved.url + " failed: [Errno " + std::to_string(code) + "] " +
            util::errno_text(code);
    return std::nullopt;
  };
  util::unique_fd fd(::socket(reserved.address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return describe(errno);
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (!set_reuse_port(fd.get())) return describe(errno);
  const auto* address = reinterpret_cast<const sockaddr*>(&reserved.address.storage);
  if (::bind(fd.get(), address, reserved.address.length) != 0) return describe(errno);
  if (::listen(fd.get(), backlog) != 0 || !set_nonblocking_cloexec(fd.get())) {
    return describe(errno);
  }
  Listener own = describe_listener(std::move(fd));
  own.sole_holder = true;
  return own;
}

bool refuse_new_connections(const Listener& listener) noexcept {
  if (!listener.fd || !listener.address.is_ip()) return false;
  // A classic BPF socket filter of one instruction, "accept 0 bytes": every packet the
  // listener would take (a SYN, or the ACK that completes a handshake) is dropped.
  sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
  sock_fprog program{1, &drop_all};
  return ::setsockopt(listener.fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) ==
         0;
}

Listener describe_listener(util::unique_fd fd) {
  Listener listener;
  listener.address = local_address(fd.get());
  listener.fd = std::move(fd);
  listener.url = listener_url(listener.address);
  if (listener.address.is_ip()) {
    listener.server_name = listener.address.host();
    listener.server_port = std::to_string(listener.address.port());
  }
  return listener;
}

int accept_queue_length(const Listener& listener) noexcept {
  if (!listener.address.is_ip()) return -1;
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(listener.fd.get(), IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
  // For a listening socket the kernel reports its accept queue in tcpi_unacked.
  return static_cast<int>(info.tcpi_unacked);
}

}  // namespace monoceros::net
