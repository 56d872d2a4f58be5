// Unit tests for the Transport over a socket pair: bytes in, bytes out (and through the spool
// file when the peer reads slowly), the half-close and linger, and letting go of a descriptor
// the app closed.
#include "net/transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "check.hpp"
#include "net/byte_buffer.hpp"
#include "socket_pair.hpp"

using namespace monoceros::net;
using monoceros::testing::SocketPair;
using monoceros::util::unique_fd;

namespace {

// The transport takes the pair's reader end; the test talks through the writer end.
struct Wired {
  SocketPair pair;
  Transport transport{std::move(pair.reader)};

  std::string peer_reads() const {
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::read(pair.writer.get(), buffer, sizeof buffer);
      if (got <= 0) break;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }
};

}  // namespace

TEST(transport_reads_what_the_peer_sent_and_sees_its_end_of_stream) {
  Wired wired;
  ByteBuffer in;
  CHECK(!wired.transport.input_waiting());
  CHECK(wired.transport.read(in, 1024) < 0 && errno == EAGAIN);
  CHECK(::write(wired.pair.writer.get(), "GET / HTTP/1.1\r\n", 16) == 16);
  CHECK(wired.transport.input_waiting());
  CHECK_EQ(wired.transport.read(in, 1024), 16L);
  CHECK_EQ(std::string(in.view()), std::string("GET / HTTP/1.1\r\n"));
  ::shutdown(wired.pair.writer.get(), SHUT_WR);
  CHECK_EQ(wired.transport.read(in, 1024), 0L);
}

TEST(transport_writes_its_queue_in_order) {
  Wired wired;
  wired.transport.out().push_owned("HTTP/1.1 200 OK\r\n");
  wired.transport.out().push_owned("\r\nbody");
  CHECK(wired.transport.flush() == OutQueue::Flush::done);
  CHECK(wired.transport.out().empty());
  CHECK_EQ(wired.peer_reads(), std::string("HTTP/1.1 200 OK\r\n\r\nbody"));
}

TEST(transport_spills_to_a_spool_file_and_sends_it_later) {
  Wired wired;
  const std::string big(256 * 1024, 'x');
  wired.transport.out().push_owned(big);
  CHECK(wired.transport.spill("/tmp", std::uint64_t{1} << 30));
  CHECK_EQ(wired.transport.out().memory_bytes(), 0u);  // all of it on disk now
  CHECK_EQ(wired.transport.out().queued_bytes(), static_cast<std::uint64_t>(big.size()));
  wired.transport.end_spool();  // the queued range keeps the file open
  std::string received;
  for (int round = 0; round < 1000 && received.size() < big.size(); ++round) {
    if (wired.transport.flush() == OutQueue::Flush::failed) break;
    received += wired.peer_reads();
  }
  CHECK_EQ(received.size(), big.size());
  CHECK(received == big);
}

TEST(transport_spill_refuses_past_its_ceiling) {
  Wired wired;
  wired.transport.out().push_owned(std::string(4096, 'x'));
  CHECK(!wired.transport.spill("/tmp", 1024));
  CHECK_EQ(wired.transport.out().memory_bytes(), 4096u);  // left as it was
}

TEST(transport_lingers_until_the_peer_ends_or_sends_too_much) {
  Wired wired;
  wired.transport.shutdown_write();
  char byte;
  CHECK_EQ(::read(wired.pair.writer.get(), &byte, 1), 0L);  // the peer sees our end
  CHECK(wired.transport.discard_input(100));                // nothing yet: more may come
  CHECK(::write(wired.pair.writer.get(), "0123456789", 10) == 10);
  CHECK(wired.transport.discard_input(100));
  CHECK(::write(wired.pair.writer.get(), std::string(200, 'y').data(), 200) == 200);
  CHECK(!wired.transport.discard_input(100));  // past the bound
  Wired ended;
  ::shutdown(ended.pair.writer.get(), SHUT_WR);
  CHECK(!ended.transport.discard_input(100));
}

TEST(transport_forgets_a_descriptor_closed_by_someone_else) {
  Wired wired;
  const int fd = wired.transport.fd();
  wired.transport.out().push_owned("unsent");
  ::close(fd);
  const int reused = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // takes the same number
  wired.transport.forget();
  CHECK(!wired.transport.is_open());
  CHECK(wired.transport.out().empty());
  CHECK(::fcntl(reused, F_GETFD) >= 0);  // not closed by the transport
  ::close(reused);
}
