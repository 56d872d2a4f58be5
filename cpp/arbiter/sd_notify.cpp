// sd_notify: tells systemd about the master's state through the NOTIFY_SOCKET datagram socket.
#include "arbiter/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "log/error_log.hpp"
#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::arbiter {
namespace {

void notify(const std::string& state) {
  const std::string socket = notify_socket_from_environment();
  if (socket.empty()) return;
  std::string error;
  if (!send_notification(socket, state, error)) log::debug("sd_notify failed: " + error);
}

std::string with_status(std::string state, std::string_view status) {
  if (!status.empty()) state += "\nSTATUS=" + std::string(status);
  return state;
}

long long monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

}  // namespace

std::string notify_socket_from_environment() {
  const char* value = std::getenv("NOTIFY_SOCKET");
  return value != nullptr ? std::string(value) : std::string();
}

bool send_notification(const std::string& socket, std::string_view state, std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // "@name" is the abstract namespace: the name starts with a NUL byte and is not terminated.
  if (socket.empty() || (socket[0] != '/' && socket[0] != '@') ||
      socket.size() > sizeof address.sun_path) {
    error = "NOTIFY_SOCKET='" + socket + "' is not a socket path or @name";
    return false;
  }
  if (socket[0] == '/' && socket.size() == sizeof address.sun_path) {
    error = "NOTIFY_SOCKET='" + socket + "' is too long";  // no room for the terminating NUL
    return false;
  }
  std::memcpy(address.sun_path, socket.data(), socket.size());
  if (socket[0] == '@') address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size() +
                                             (socket[0] == '/' ? 1 : 0));
  util::unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    error = util::errno_text(errno);
    return false;
  }
  const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
    error = sent < 0 ? util::errno_text(errno) : "short send";
    return false;
  }
  return true;
}

std::string reloading_message(long long monotonic_usec, std::string_view status) {
  return with_status("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec), status);
}

void notify_ready(std::string_view status) {
  notify(with_status("READY=1", status));
}

void notify_ready_as_main(long pid, std::string_view status) {
  notify(with_status("READY=1\nMAINPID=" + std::to_string(pid), status));
}

void notify_reloading(std::string_view status) {
  notify(reloading_message(monotonic_usec(), status));
}

void notify_stopping(std::string_view status) {
  notify(with_status("STOPPING=1", status));
}

}  // namespace monoceros::arbiter
