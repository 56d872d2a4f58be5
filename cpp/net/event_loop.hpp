// EventLoop: epoll behind a small interface; callers own the objects behind the tags.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <span>

#include "util/unique_fd.hpp"

namespace monoceros::net {

inline constexpr std::uint32_t kReadable = EPOLLIN | EPOLLRDHUP;
inline constexpr std::uint32_t kWritable = EPOLLOUT;

struct Ready {
  void* tag;             // what was registered with the descriptor
  std::uint32_t events;  // EPOLL* bits
  bool readable() const noexcept { return events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR); }
  bool writable() const noexcept { return events & (EPOLLOUT | EPOLLHUP | EPOLLERR); }
};

class EventLoop {
 public:
  EventLoop();

  // Level-triggered registration. `exclusive` (EPOLLEXCLUSIVE) is for a listener shared by
  // several worker processes, so one connection wakes one worker instead of all of them.
  bool add(int fd, std::uint32_t events, void* tag, bool exclusive = false) noexcept;
  bool modify(int fd, std::uint32_t events, void* tag) noexcept;
  void remove(int fd) noexcept;

  // Waits at most timeout_ms (-1: forever); returns how many entries of `out` were filled.
  // EINTR is reported as 0 ready descriptors.
  int wait(std::span<Ready> out, int timeout_ms) noexcept;

 private:
  util::unique_fd epoll_fd_;
};

}  // namespace monoceros::net
