// Unit tests for make_inheritable: sockets handed to a new master land where it looks for them.
#include "arbiter/listen_fds.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "check.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros::arbiter;
using monoceros::util::unique_fd;

namespace {

bool close_on_exec(int fd) {
  return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

// A socket at `lowest` or above, so that fds 3 and 4 are free to move sockets to.
unique_fd socket_from(int type, int lowest) {
  unique_fd original(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  return unique_fd(::fcntl(original.get(), F_DUPFD_CLOEXEC, lowest));
}

int socket_type(int fd) {
  int type = 0;
  socklen_t length = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 ? type : -1;
}

}  // namespace

TEST(listen_fds_keep_their_numbers_for_gunicorn_fd) {
  unique_fd a(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  std::vector<int> fds{a.get()};
  std::string error;
  CHECK(make_inheritable(fds, false, error));
  CHECK_EQ(fds[0], a.get());
  CHECK(!close_on_exec(a.get()));
}

TEST(listen_fds_move_to_three_and_up_for_systemd) {
  // Free low numbers, then two sockets above them in reverse order (datagram, then stream),
  // so that the stream socket must end up at 3 and the datagram socket at 4.
  unique_fd high_dgram = socket_from(SOCK_DGRAM, 40);
  unique_fd high_stream = socket_from(SOCK_STREAM, 30);
  std::vector<int> fds{high_stream.get(), high_dgram.get()};
  std::string error;
  CHECK(make_inheritable(fds, true, error));
  CHECK_EQ(error, "");
  CHECK_EQ(fds, (std::vector<int>{kListenFdsStart, kListenFdsStart + 1}));
  CHECK_EQ(socket_type(kListenFdsStart), SOCK_STREAM);
  CHECK_EQ(socket_type(kListenFdsStart + 1), SOCK_DGRAM);
  CHECK(!close_on_exec(kListenFdsStart));
  CHECK(!close_on_exec(kListenFdsStart + 1));
  ::close(kListenFdsStart);
  ::close(kListenFdsStart + 1);
}

TEST(listen_fds_swap_when_each_sits_where_the_other_belongs) {
  std::string error;
  unique_fd stream = socket_from(SOCK_STREAM, 50);
  unique_fd dgram = socket_from(SOCK_DGRAM, 50);
  std::vector<int> placed{stream.get(), dgram.get()};
  CHECK(make_inheritable(placed, true, error));  // stream at 3, datagram at 4
  std::vector<int> swapped{kListenFdsStart + 1, kListenFdsStart};
  CHECK(make_inheritable(swapped, true, error));
  CHECK_EQ(socket_type(kListenFdsStart), SOCK_DGRAM);
  CHECK_EQ(socket_type(kListenFdsStart + 1), SOCK_STREAM);
  ::close(kListenFdsStart);
  ::close(kListenFdsStart + 1);
}
