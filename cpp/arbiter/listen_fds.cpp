// Listen fds: the sockets a new master inherits across exec(), where it expects to find them.
#include "arbiter/listen_fds.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::arbiter {
namespace {

bool already_in_place(const std::vector<int>& fds) {
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] != kListenFdsStart + static_cast<int>(i)) return false;
  }
  return true;
}

// Copies above the target range first, so that no dup2() below overwrites a socket that is
// still to be moved (socket i may sit where socket j belongs).
bool move_to_listen_fds_start(std::vector<int>& fds, std::string& error) {
  const int first_free = kListenFdsStart + static_cast<int>(fds.size());
  std::vector<util::unique_fd> copies;
  for (int fd : fds) {
    copies.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, first_free));
    if (!copies.back()) {
      error = "cannot duplicate fd " + std::to_string(fd) + ": " + util::errno_text(errno);
      return false;
    }
  }
  for (std::size_t i = 0; i < copies.size(); ++i) {
    const int target = kListenFdsStart + static_cast<int>(i);
    if (::dup2(copies[i].get(), target) < 0) {
      error =
          "cannot move a socket to fd " + std::to_string(target) + ": " + util::errno_text(errno);
      return false;
    }
    fds[i] = target;
  }
  return true;
}

}  // namespace

bool make_inheritable(std::vector<int>& fds, bool at_listen_fds_start, std::string& error) {
  if (at_listen_fds_start && !already_in_place(fds) && !move_to_listen_fds_start(fds, error)) {
    return false;
  }
  for (int fd : fds) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
      error = "cannot pass fd " + std::to_string(fd) + " on: " + util::errno_text(errno);
      return false;
    }
  }
  return true;
}

}  // namespace monoceros::arbiter
