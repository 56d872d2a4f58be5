// StatsdClient: see statsd.hpp.
#include "log/statsd.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/errno_text.hpp"

namespace monoceros::log {
namespace {

util::unique_fd connect_unix(const std::string& path, std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    error = "statsd socket path too long: " + path;
    return {};
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  util::unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    error = "statsd socket: " + util::errno_text(errno);
    return {};
  }
  // A server that is not listening yet is no reason to refuse: datagrams are dropped until it
  // is (gunicorn ignores this failure too).
  (void)::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  return fd;
}

util::unique_fd connect_udp(const std::string& host, int port, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (status != 0) {
    error = "statsd host " + host + ": " + ::gai_strerror(status);
    return {};
  }
  util::unique_fd fd;
  for (addrinfo* candidate = found; candidate && !fd; candidate = candidate->ai_next) {
    util::unique_fd attempt(::socket(candidate->ai_family,
                                     candidate->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                     candidate->ai_protocol));
    if (attempt && ::connect(attempt.get(), candidate->ai_addr, candidate->ai_addrlen) == 0) {
      fd = std::move(attempt);
    }
  }
  ::freeaddrinfo(found);
  if (!fd) error = "statsd host " + host + ": " + util::errno_text(errno);
  return fd;
}

}  // namespace

std::optional<StatsdClient> StatsdClient::open(const StatsdTarget& target, std::string prefix,
                                               std::string tags, std::string& error) {
  util::unique_fd fd = target.unix_path.empty() ? connect_udp(target.host, target.port, error)
                                                : connect_unix(target.unix_path, error);
  if (!fd) return std::nullopt;
  return StatsdClient(std::move(fd), std::move(prefix), std::move(tags));
}

StatsdClient::StatsdClient(util::unique_fd fd, std::string prefix, std::string tags)
    : fd_(std::move(fd)), prefix_(std::move(prefix)), tags_(std::move(tags)) {}

std::string StatsdClient::format(std::string_view name, std::string_view value,
                                 std::string_view type) const {
  std::string line;
  line.reserve(prefix_.size() + name.size() + value.size() + tags_.size() + 16);
  line += prefix_;
  line += name;
  line += ':';
  line += value;
  line += '|';
  line += type;
  if (type == "c") line += "|@1.0";
  if (!tags_.empty()) {
    line += "|#";
    line += tags_;
  }
  return line;
}

void StatsdClient::send(std::string_view name, std::string_view value, std::string_view type) {
  const std::string line = format(name, value, type);
  // Best effort: EAGAIN, ECONNREFUSED (no server yet) and the like drop this one metric.
  (void)::send(fd_.get(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void StatsdClient::increment(std::string_view name, std::int64_t value) {
  send(name, std::to_string(value), "c");
}

void StatsdClient::gauge(std::string_view name, std::int64_t value) {
  send(name, std::to_string(value), "g");
}

void StatsdClient::timer(std::string_view name, double milliseconds) {
  send(name, format_milliseconds(milliseconds), "ms");
}

void StatsdClient::histogram(std::string_view name, std::int64_t value) {
  send(name, std::to_string(value), "h");
}

std::string format_milliseconds(double milliseconds) {
  char text[64];
  const int length = std::snprintf(text, sizeof text, "%.3f", milliseconds);
  std::string out(text, length > 0 ? static_cast<std::size_t>(length) : 0);
  while (out.size() > 2 && out.back() == '0' && out[out.size() - 2] != '.')
    out.pop_back();
  return out;
}

}  // namespace monoceros::log
