// Unit tests for the Acceptor: how many connections a wake-up takes, the connection cap, the
// back-off when descriptors run out, pausing, holding back, and the last drain at shutdown.
// Real loopback sockets; no worker, no HTTP.
#include "net/acceptor.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "check.hpp"
#include "net/event_loop.hpp"
#include "net/listener.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros::net;
using monoceros::util::unique_fd;

namespace {

constexpr std::uint8_t kListenerTag = 7;

Listener loopback_listener() {
  ListenSpec spec;
  spec.host = "127.0.0.1";
  spec.port = 0;
  std::string error;
  int code = 0;
  return std::move(*open_listener(spec, ListenOptions{}, error, code));
}

unique_fd connect_to(const Listener& listener) {
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto* address = reinterpret_cast<const sockaddr*>(&listener.address.storage);
  if (::connect(fd.get(), address, listener.address.length) != 0) fd.reset();
  return fd;
}

// What the worker would be: a connection count, a cap and a record of what happened.
struct FakeOwner final : Acceptor::Owner {
  std::size_t cap = 100;
  bool can_make_room = false;
  std::vector<unique_fd> taken;
  int taken_while_draining = 0;
  int room_requests = 0;
  std::vector<std::pair<int, bool>> failures;

  bool has_room() override { return taken.size() < cap; }
  bool make_room(const Acceptor::Slot&) override {
    ++room_requests;
    if (!can_make_room) return false;
    taken.erase(taken.begin());  // the oldest gives way
    return true;
  }
  bool take(Acceptor::Accepted accepted, Acceptor::Slot&, bool draining) override {
    taken.push_back(std::move(accepted.fd));
    if (draining) ++taken_while_draining;
    return true;
  }
  void accept_failed(int error, bool backing_off) override {
    failures.emplace_back(error, backing_off);
  }
};

std::vector<unique_fd> connect_clients(const Listener& listener, int count) {
  std::vector<unique_fd> clients;
  for (int i = 0; i < count; ++i)
    clients.push_back(connect_to(listener));
  return clients;
}

std::vector<Listener> one_loopback_listener() {
  std::vector<Listener> listeners;
  listeners.push_back(loopback_listener());
  return listeners;
}

// A loop and an acceptor over one loopback listener.
struct Wired {
  EventLoop loop;
  Acceptor acceptor;
  explicit Wired(bool exclusive)
      : acceptor(loop, kListenerTag, one_loopback_listener(), exclusive) {}
  Acceptor::Slot& slot() { return *acceptor.slots()[0]; }
};

// The loop reports the listener readable, with the slot as its tag.
bool reported_ready(EventLoop& loop, Acceptor& acceptor) {
  Ready ready[4];
  const int count = loop.wait(ready, 1000);
  return count == 1 && ready[0].tag() == acceptor.slots()[0].get() && ready[0].readable() &&
         static_cast<LoopTag*>(ready[0].tag())->kind == kListenerTag;
}

}  // namespace

TEST(acceptor_registers_its_listeners_under_the_owners_tag) {
  Wired wired(true);
  EventLoop& loop = wired.loop;
  Acceptor& acceptor = wired.acceptor;
  CHECK(acceptor.slots()[0]->registered);
  auto clients = connect_clients(acceptor.slots()[0]->listener, 1);
  CHECK(reported_ready(loop, acceptor));
}

TEST(acceptor_exclusive_takes_everything_queued_and_sets_nodelay) {
  Wired wired(true);
  Acceptor& acceptor = wired.acceptor;
  auto clients = connect_clients(acceptor.slots()[0]->listener, 5);
  FakeOwner owner;
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.taken.size(), 5u);
  int nodelay = 0;
  socklen_t length = sizeof nodelay;
  ::getsockopt(owner.taken[0].get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &length);
  CHECK(nodelay != 0);
  CHECK(owner.failures.empty());
}

TEST(acceptor_shared_takes_one_connection_per_wakeup) {
  Wired wired(false);
  EventLoop& loop = wired.loop;
  Acceptor& acceptor = wired.acceptor;
  auto clients = connect_clients(acceptor.slots()[0]->listener, 3);
  FakeOwner owner;
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.taken.size(), 1u);
  CHECK(reported_ready(loop, acceptor));  // the rest is still queued, for any worker
}

TEST(acceptor_at_the_cap_asks_for_room_only_for_a_waiting_connection) {
  Wired wired(true);
  Acceptor& acceptor = wired.acceptor;
  FakeOwner owner;
  owner.cap = 2;
  auto first = connect_clients(acceptor.slots()[0]->listener, 2);
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.taken.size(), 2u);
  CHECK_EQ(owner.room_requests, 0);  // nobody else was waiting
  // A third client: the owner cannot make room, so it stays queued.
  auto third = connect_clients(acceptor.slots()[0]->listener, 1);
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.room_requests, 1);
  CHECK_EQ(owner.taken.size(), 2u);
  CHECK(Acceptor::connection_waiting(*acceptor.slots()[0]));
  // Now it can: the oldest gives way and the third is taken.
  owner.can_make_room = true;
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.taken.size(), 2u);
  CHECK(!Acceptor::connection_waiting(*acceptor.slots()[0]));
}

TEST(acceptor_backs_off_when_descriptors_run_out) {
  Wired wired(true);
  Acceptor& acceptor = wired.acceptor;
  auto clients = connect_clients(acceptor.slots()[0]->listener, 2);
  FakeOwner owner;
  // The lowest free descriptor becomes the limit: accept() must fail with EMFILE.
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  const int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  CHECK(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  ::setrlimit(RLIMIT_NOFILE, &saved);

  CHECK(owner.taken.empty());
  CHECK_EQ(owner.failures.size(), 1u);
  CHECK(!owner.failures.empty() && owner.failures[0] == std::make_pair(EMFILE, true));
  CHECK(!acceptor.accepting());
  CHECK(acceptor.backoff_until_ns() != 0);
  CHECK(!acceptor.slots()[0]->registered);  // the loop stops reporting the listener
  // A second failure within the second is not reported again (no log flood).
  acceptor.resume();
  CHECK(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK_EQ(owner.failures.size(), 1u);
  // Once resumed with descriptors to spare, the queued connections are taken.
  acceptor.end_backoff();
  acceptor.resume();
  CHECK(acceptor.accepting());
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));
  CHECK_EQ(owner.taken.size(), 2u);
}

TEST(acceptor_paused_or_held_back_is_not_reported_by_the_loop) {
  Wired wired(false);
  EventLoop& loop = wired.loop;
  Acceptor& acceptor = wired.acceptor;
  auto clients = connect_clients(acceptor.slots()[0]->listener, 1);
  Ready ready[4];
  acceptor.pause();
  CHECK_EQ(loop.wait(ready, 50), 0);
  FakeOwner owner;
  CHECK(acceptor.accept_from(*acceptor.slots()[0], owner));  // paused: takes nothing
  CHECK(owner.taken.empty());
  acceptor.resume();
  acceptor.hold_back(true);
  CHECK(acceptor.accepting());
  CHECK_EQ(loop.wait(ready, 50), 0);
  acceptor.hold_back(false);
  CHECK(reported_ready(loop, acceptor));
}

TEST(acceptor_stop_drains_the_queue_then_closes_the_listeners) {
  Wired wired(true);
  Acceptor& acceptor = wired.acceptor;
  const Listener& listener = acceptor.slots()[0]->listener;
  const SocketAddress address = listener.address;
  auto clients = connect_clients(listener, 3);
  FakeOwner owner;
  owner.cap = 2;  // the drain stops at the cap
  acceptor.stop(owner);
  CHECK_EQ(owner.taken.size(), 2u);
  CHECK_EQ(owner.taken_while_draining, 2);
  CHECK(acceptor.stopped());
  CHECK(!acceptor.accepting());
  CHECK(!acceptor.slots()[0]->listener.fd);
  acceptor.resume();  // a stopped acceptor stays stopped
  CHECK(!acceptor.accepting());
  // Nobody listens on the address any more: a new client is refused.
  unique_fd late(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  CHECK(::connect(late.get(), reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0);
}
