// Unit tests for sd_notify: the datagrams systemd would receive on NOTIFY_SOCKET.
#include "arbiter/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "check.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros::arbiter;
using monoceros::util::unique_fd;

namespace {

// A unix datagram socket standing in for systemd: a file path, or "@name" (abstract).
struct FakeSystemd {
  unique_fd fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  std::string name;

  explicit FakeSystemd(std::string wanted) : name(std::move(wanted)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    socklen_t length = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      address.sun_path[0] = '\0';
    } else {
      ::unlink(name.c_str());
      ++length;
    }
    CHECK(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) == 0);
    timeval timeout{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~FakeSystemd() {
    if (name[0] == '/') ::unlink(name.c_str());
  }
  std::string receive() {
    char buffer[512];
    const ssize_t got = ::recv(fd.get(), buffer, sizeof buffer, 0);
    return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
  }
};

std::string unique_name(const char* prefix) {
  return std::string(prefix) + "monoceros-notify-" + std::to_string(::getpid());
}

}  // namespace

TEST(sd_notify_reaches_a_socket_file) {
  FakeSystemd systemd(unique_name("/tmp/"));
  std::string error;
  CHECK(send_notification(systemd.name, "READY=1\nSTATUS=booted", error));
  CHECK_EQ(error, "");
  CHECK_EQ(systemd.receive(), "READY=1\nSTATUS=booted");
}

TEST(sd_notify_reaches_the_abstract_namespace) {
  FakeSystemd systemd(unique_name("@"));
  std::string error;
  CHECK(send_notification(systemd.name, "STOPPING=1", error));
  CHECK_EQ(systemd.receive(), "STOPPING=1");
}

TEST(sd_notify_the_helpers_read_notify_socket) {
  FakeSystemd systemd(unique_name("/tmp/"));
  ::setenv("NOTIFY_SOCKET", systemd.name.c_str(), 1);
  notify_ready("monoceros arbiter booted");
  CHECK_EQ(systemd.receive(), "READY=1\nSTATUS=monoceros arbiter booted");
  notify_reloading("");
  const std::string reloading = systemd.receive();
  CHECK_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), std::size_t{0});
  CHECK(std::atoll(reloading.c_str() + std::strlen("RELOADING=1\nMONOTONIC_USEC=")) > 0);
  notify_stopping("Shutting down");
  CHECK_EQ(systemd.receive(), "STOPPING=1\nSTATUS=Shutting down");
  ::unsetenv("NOTIFY_SOCKET");
  notify_ready("");  // unset: nothing is sent, nothing fails
}

TEST(sd_notify_reloading_carries_the_monotonic_clock) {
  CHECK_EQ(reloading_message(123456789, "Reloading"),
           "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=Reloading");
  CHECK_EQ(reloading_message(5, ""), "RELOADING=1\nMONOTONIC_USEC=5");
}

TEST(sd_notify_failures_are_reported_not_fatal) {
  std::string error;
  CHECK(!send_notification("relative/path", "READY=1", error));
  CHECK(error.find("not a socket path") != std::string::npos);
  error.clear();
  CHECK(!send_notification("/" + std::string(200, 'x'), "READY=1", error));
  CHECK(!error.empty());
  error.clear();
  CHECK(!send_notification(unique_name("/tmp/nobody-listens-"), "READY=1", error));
  CHECK(!error.empty());
}

TEST(sd_notify_never_blocks_on_a_full_socket) {
  FakeSystemd systemd(unique_name("/tmp/full-"));
  std::string error;
  // Nobody reads: the receive queue fills up and sends fail at once instead of waiting.
  bool failed = false;
  for (int i = 0; i < 10000 && !failed; ++i)
    failed = !send_notification(systemd.name, std::string(400, 'x'), error);
  CHECK(failed);
  CHECK(!error.empty());
}
