// Tests for ByteBuffer and the socket reads that fill it, over a real socket pair.
#include "net/byte_buffer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "check.hpp"
#include "net/socket_pair.hpp"

using namespace monoceros;
using testing::SocketPair;

TEST(compact_read_keeps_only_what_arrived) {
  SocketPair pair;
  net::ByteBuffer buffer;
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(pair.send(request));
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 16 * 1024) ==
        static_cast<long>(request.size()));
  CHECK(buffer.view() == request);
  // A small request costs a small buffer, not one as large as the read.
  CHECK(buffer.capacity() <= 1024);
}

TEST(compact_reads_append_and_grow) {
  SocketPair pair;
  net::ByteBuffer buffer;
  const std::string first(700, 'a');
  const std::string second(3000, 'b');
  CHECK(pair.send(first));
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 16 * 1024) == 700);
  CHECK(pair.send(second));
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 16 * 1024) == 3000);
  CHECK(buffer.view() == first + second);
}

TEST(compact_read_is_bounded_by_max_read) {
  SocketPair pair;
  net::ByteBuffer buffer;
  CHECK(pair.send(std::string(100, 'x')));
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 40) == 40);
  CHECK(buffer.size() == 40);
  // More than the scratch area holds is capped, never overflowing it.
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 1 << 20) == 60);
}

TEST(compact_read_reports_would_block_and_end_of_stream) {
  SocketPair pair;
  net::ByteBuffer buffer;
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 1024) == -1);
  CHECK(errno == EAGAIN);
  pair.writer.reset();
  CHECK(net::read_some_compact(pair.reader.get(), buffer, 1024) == 0);
  CHECK(buffer.empty());
}
