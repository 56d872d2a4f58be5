// A connected pair of non-blocking UNIX stream sockets, for tests of code that reads or writes
// a real socket.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "util/unique_fd.hpp"

namespace monoceros::testing {

struct SocketPair {
  util::unique_fd writer;
  util::unique_fd reader;

  SocketPair() {
    int fds[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
    writer.reset(fds[0]);
    reader.reset(fds[1]);
  }

  // Everything the reader can read now, without blocking.
  std::string read_all() const {
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::read(reader.get(), buffer, sizeof buffer);
      if (got <= 0) break;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }

  // Writes `bytes` whole; false if the socket took less.
  bool send(const std::string& bytes) const {
    return ::write(writer.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
};

}  // namespace monoceros::testing
