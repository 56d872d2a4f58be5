// Unit tests for listeners: reuse_port (the master's reservation and the workers' sockets),
// the accept queues on an address, and refusing new connections at shutdown.
#include "net/listener.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "check.hpp"
#include "net/listen_queues.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros::net;
using monoceros::util::unique_fd;

namespace {

bool listening(int fd) {
  int accepting = 0;
  socklen_t length = sizeof accepting;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting;
}

unique_fd connect_to(const Listener& listener) {
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto* address = reinterpret_cast<const sockaddr*>(&listener.address.storage);
  if (::connect(fd.get(), address, listener.address.length) != 0) fd.reset();
  return fd;
}

bool has_pending_connection(const Listener& listener) {
  pollfd ready{listener.fd.get(), POLLIN, 0};
  return ::poll(&ready, 1, 1000) == 1;
}

ListenSpec loopback_any_port() {
  ListenSpec spec;
  spec.host = "127.0.0.1";
  spec.port = 0;
  return spec;
}

// The master's reuse_port reservation of a loopback port.
std::optional<Listener> reserve_loopback_port() {
  ListenOptions options;
  options.reuse_port = true;
  std::string error;
  int code = 0;
  return open_listener(loopback_any_port(), options, error, code);
}

}  // namespace

TEST(listener_without_reuse_port_listens_in_the_master) {
  std::string error;
  int code = 0;
  auto listener = open_listener(loopback_any_port(), ListenOptions{}, error, code);
  CHECK(listener.has_value());
  CHECK(!listener->per_worker);
  CHECK(listening(listener->fd.get()));
}

TEST(listener_with_reuse_port_reserves_the_address_for_the_workers) {
  std::string error;
  auto reserved = reserve_loopback_port();
  CHECK(reserved.has_value());
  CHECK(reserved->per_worker);
  CHECK(!listening(reserved->fd.get()));
  CHECK(reserved->address.port() != 0);  // port 0 is resolved once, for every worker
  CHECK_EQ(reserved->url, "http://127.0.0.1:" + std::to_string(reserved->address.port()));

  // Two workers' sockets on the same address: both listen, connections reach them.
  auto first = open_own_listener(*reserved, 16, error);
  auto second = open_own_listener(*reserved, 16, error);
  CHECK(first.has_value() && second.has_value());
  CHECK_EQ(first->address.port(), reserved->address.port());
  CHECK_EQ(second->address.port(), reserved->address.port());
  CHECK(listening(first->fd.get()) && listening(second->fd.get()));
  CHECK(!first->per_worker);
  unique_fd client = connect_to(*first);
  CHECK(static_cast<bool>(client));
  CHECK(has_pending_connection(*first) || has_pending_connection(*second));
}

TEST(listener_reuse_port_reservation_survives_an_upgrade_handover) {
  ListenOptions options;
  options.reuse_port = true;
  std::string error;
  int code = 0;
  auto reserved = open_listener(loopback_any_port(), options, error, code);
  CHECK(reserved.has_value());
  // The new master adopts the handed-over fd: still a reservation, not a listener.
  ListenSpec handed;
  handed.kind = ListenSpec::Kind::fd;
  handed.fd = reserved->fd.release();
  auto adopted = open_listener(handed, options, error, code);
  CHECK(adopted.has_value());
  CHECK(adopted->per_worker);
  CHECK(!listening(adopted->fd.get()));
}

TEST(listener_adopted_bound_socket_is_made_to_listen_without_reuse_port) {
  unique_fd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(::bind(bound.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  ListenSpec handed;
  handed.kind = ListenSpec::Kind::fd;
  handed.fd = bound.release();
  std::string error;
  int code = 0;
  auto adopted = open_listener(handed, ListenOptions{}, error, code);
  CHECK(adopted.has_value());
  CHECK(!adopted->per_worker);
  CHECK(listening(adopted->fd.get()));
}

TEST(listen_queue_length_sums_the_queues_of_every_socket_on_the_address) {
  std::string error;
  int code = 0;
  auto reserved = reserve_loopback_port();
  CHECK(reserved.has_value());
  auto first = open_own_listener(*reserved, 16, error);
  auto second = open_own_listener(*reserved, 16, error);
  CHECK(first.has_value() && second.has_value());
  CHECK_EQ(listen_queue_length(reserved->address), 0);
  // Five connections nobody accepts: the kernel spreads them over the two sockets.
  unique_fd clients[5];
  for (unique_fd& client : clients) {
    client = connect_to(*first);
    CHECK(static_cast<bool>(client));
  }
  CHECK_EQ(listen_queue_length(reserved->address), 5);
  // The reservation has no queue of its own, and TCP_INFO on it sees nothing.
  CHECK(accept_queue_length(*reserved) <= 0);
  // Another port's sockets are not counted.
  auto elsewhere = open_listener(loopback_any_port(), ListenOptions{}, error, code);
  CHECK(elsewhere.has_value());
  CHECK_EQ(listen_queue_length(elsewhere->address), 0);
}

TEST(refuse_new_connections_keeps_the_queue_and_drops_new_attempts) {
  std::string error;
  int code = 0;
  auto listener = open_listener(loopback_any_port(), ListenOptions{}, error, code);
  CHECK(listener.has_value());
  unique_fd queued = connect_to(*listener);
  CHECK(static_cast<bool>(queued));
  CHECK(refuse_new_connections(*listener));
  // A new attempt's SYN is dropped: the handshake does not complete (the client would retry).
  unique_fd late(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const auto* address = reinterpret_cast<const sockaddr*>(&listener->address.storage);
  CHECK(::connect(late.get(), address, listener->address.length) != 0);
  pollfd done{late.get(), POLLOUT, 0};
  CHECK_EQ(::poll(&done, 1, 300), 0);
  // What was queued before is still there to be accepted.
  unique_fd accepted(::accept(listener->fd.get(), nullptr, nullptr));
  CHECK(static_cast<bool>(accepted));
}
