// Unit tests for the EventLoop's own readiness vocabulary: interests, triggers and what a
// Ready says, over a socket pair.
#include "net/event_loop.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include "check.hpp"
#include "socket_pair.hpp"

using namespace monoceros::net;
using monoceros::testing::SocketPair;

TEST(event_loop_reports_read_and_write_interest) {
  EventLoop loop;
  SocketPair pair;
  LoopTag tag{3};
  Ready ready[4];
  CHECK(loop.add(pair.reader.get(), Interest::read, &tag));
  CHECK_EQ(loop.wait(ready, 0), 0);  // nothing to read yet
  CHECK(pair.send("x"));
  CHECK_EQ(loop.wait(ready, 1000), 1);
  CHECK(ready[0].tag() == &tag);
  CHECK(ready[0].readable());
  CHECK(!ready[0].writable());
  CHECK(!ready[0].failed());
  CHECK(loop.modify(pair.reader.get(), Interest::write, &tag));
  CHECK_EQ(loop.wait(ready, 1000), 1);
  CHECK(ready[0].writable());
  CHECK(!ready[0].readable());  // read interest was given up
}

TEST(event_loop_one_shot_reports_once_until_rearmed) {
  EventLoop loop;
  SocketPair pair;
  LoopTag tag{1};
  Ready ready[4];
  CHECK(pair.send("x"));
  CHECK(loop.add(pair.reader.get(), Interest::read, &tag, Trigger::one_shot));
  CHECK_EQ(loop.wait(ready, 1000), 1);
  CHECK_EQ(loop.wait(ready, 20), 0);  // disarmed, though still readable
  CHECK(loop.modify(pair.reader.get(), Interest::read, &tag, Trigger::one_shot));
  CHECK_EQ(loop.wait(ready, 1000), 1);
}

TEST(event_loop_reports_the_peers_end_of_stream_as_readable) {
  EventLoop loop;
  SocketPair pair;
  LoopTag tag{1};
  Ready ready[4];
  CHECK(loop.add(pair.reader.get(), Interest::read, &tag));
  ::shutdown(pair.writer.get(), SHUT_WR);
  CHECK_EQ(loop.wait(ready, 1000), 1);
  CHECK(ready[0].readable());
  loop.remove(pair.reader.get());
  CHECK_EQ(loop.wait(ready, 20), 0);
}
