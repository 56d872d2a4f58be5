// Tests for the write queue over a real socket pair: order, partial writes, file ranges,
// releasing borrowed owners exactly once.
#include "net/out_queue.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "check.hpp"
#include "net/byte_buffer.hpp"
#include "net/socket_pair.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros;
using testing::SocketPair;

namespace {

int released = 0;
void count_release(void*) noexcept {
  ++released;
}

int retained = 0;
void count_retain(void*) noexcept {
  ++retained;
}

}  // namespace

TEST(segments_arrive_in_order) {
  SocketPair pair;
  net::OutQueue queue;
  static const std::string borrowed = "borrowed|";
  released = 0;
  queue.push_owned("owned|");
  queue.push_borrowed(borrowed, nullptr, &count_release);
  queue.push_owned("tail");
  CHECK_EQ(queue.queued_bytes(), std::uint64_t{19});
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::done);
  CHECK(queue.empty());
  CHECK_EQ(queue.queued_bytes(), std::uint64_t{0});
  CHECK_EQ(released, 1);
  CHECK_EQ(pair.read_all(), std::string("owned|borrowed|tail"));
}

TEST(a_full_socket_blocks_and_resumes) {
  SocketPair pair;
  net::OutQueue queue;
  const std::string big(4 << 20, 'x');
  queue.push_owned(big);
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::blocked);
  CHECK(queue.queued_bytes() > 0);
  std::string received;
  for (int rounds = 0; rounds < 10000 && received.size() < big.size(); ++rounds) {
    received += pair.read_all();
    queue.flush(pair.writer.get());
  }
  CHECK_EQ(received.size(), big.size());
  CHECK(queue.empty());
}

TEST(file_ranges_use_the_given_offset) {
  SocketPair pair;
  std::FILE* file = std::tmpfile();
  std::fputs("0123456789", file);
  std::fflush(file);
  net::OutQueue queue;
  released = 0;
  queue.push_owned("[");
  queue.push_file(::fileno(file), 3, 4, nullptr, &count_release);
  queue.push_owned("]");
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::done);
  CHECK_EQ(pair.read_all(), std::string("[3456]"));
  CHECK_EQ(released, 1);
  std::fclose(file);
}

TEST(a_short_file_fails_the_queue) {
  SocketPair pair;
  std::FILE* file = std::tmpfile();
  std::fputs("abc", file);
  std::fflush(file);
  net::OutQueue queue;
  queue.push_file(::fileno(file), 0, 10, nullptr, nullptr);
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::failed);
  std::fclose(file);
}

TEST(clear_releases_every_owner) {
  net::OutQueue queue;
  released = 0;
  queue.push_borrowed("a", nullptr, &count_release);
  queue.push_borrowed("b", nullptr, &count_release);
  queue.push_borrowed("", nullptr, &count_release);  // empty: released at once
  CHECK_EQ(released, 1);
  queue.clear();
  CHECK_EQ(released, 3);
}

TEST(a_closed_peer_fails_without_sigpipe) {
  SocketPair pair;
  pair.reader.reset();
  net::OutQueue queue;
  queue.push_owned("hello");
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::failed);
}

TEST(spill_moves_memory_to_the_file_and_keeps_the_order) {
  SocketPair pair;
  std::FILE* spool = std::tmpfile();
  std::FILE* user_file = std::tmpfile();
  std::fputs("0123456789", user_file);
  std::fflush(user_file);
  net::OutQueue queue;
  released = retained = 0;
  queue.push_owned("a|");
  queue.push_borrowed("b|", nullptr, &count_release);
  queue.push_file(::fileno(user_file), 2, 3, nullptr, nullptr);  // a file range stays as it is
  queue.push_owned("|c");
  CHECK_EQ(queue.memory_bytes(), std::uint64_t{6});
  std::uint64_t end = 5;  // the spool already holds 5 bytes of an earlier spill
  CHECK(queue.spill(::fileno(spool), end, nullptr, &count_retain, &count_release));
  CHECK_EQ(end, std::uint64_t{11});
  CHECK_EQ(queue.memory_bytes(), std::uint64_t{0});
  CHECK_EQ(queue.queued_bytes(), std::uint64_t{9});
  CHECK_EQ(released, 1);   // the borrowed bytes are copied out: their owner is let go
  CHECK_EQ(retained, 2);   // two runs of memory became two ranges of the spool
  queue.push_owned("|d");  // the queue goes on in memory after a spill
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::done);
  CHECK_EQ(pair.read_all(), std::string("a|b|234|c|d"));
  CHECK_EQ(released, 3);  // and each range is released once sent
  std::fclose(user_file);
  std::fclose(spool);
}

TEST(spill_takes_the_unsent_rest_of_a_partly_written_segment) {
  SocketPair pair;
  std::FILE* spool = std::tmpfile();
  net::OutQueue queue;
  std::string big(4 << 20, 'x');
  big.back() = 'y';
  queue.push_owned(big);
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::blocked);
  const std::uint64_t unsent = queue.queued_bytes();
  std::uint64_t end = 0;
  CHECK(queue.spill(::fileno(spool), end, nullptr, &count_retain, nullptr));
  CHECK_EQ(end, unsent);
  CHECK_EQ(queue.memory_bytes(), std::uint64_t{0});
  std::string received;
  for (int rounds = 0; rounds < 10000 && received.size() < big.size(); ++rounds) {
    received += pair.read_all();
    queue.flush(pair.writer.get());
  }
  CHECK(received == big);
  std::fclose(spool);
}

TEST(a_failed_spill_leaves_the_queue_as_it_was) {
  SocketPair pair;
  net::OutQueue queue;
  released = retained = 0;
  queue.push_borrowed("kept", nullptr, &count_release);
  std::uint64_t end = 0;
  CHECK(!queue.spill(-1, end, nullptr, &count_retain, &count_release));  // EBADF
  CHECK_EQ(end, std::uint64_t{0});
  CHECK_EQ(queue.memory_bytes(), std::uint64_t{4});
  CHECK_EQ(released + retained, 0);
  CHECK(queue.flush(pair.writer.get()) == net::OutQueue::Flush::done);
  CHECK_EQ(pair.read_all(), std::string("kept"));
}

TEST(byte_buffer_keeps_unread_bytes_across_growth) {
  net::ByteBuffer buffer;
  auto space = buffer.prepare(4);
  std::memcpy(space.data(), "abcd", 4);
  buffer.commit(4);
  buffer.consume(1);
  space = buffer.prepare(100000);
  CHECK(space.size() >= 100000);
  CHECK(buffer.view() == "bcd");
  buffer.consume(3);
  CHECK(buffer.empty());
  buffer.trim(0);
  CHECK_EQ(buffer.capacity(), std::size_t{0});
}
