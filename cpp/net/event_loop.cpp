// EventLoop: epoll behind a small interface; callers own the objects behind the tags.
#include "net/event_loop.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>

#include "util/errno_text.hpp"

namespace monoceros::net {

EventLoop::EventLoop() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_fd_) throw std::runtime_error("epoll_create1: " + util::errno_text(errno));
}

bool EventLoop::add(int fd, std::uint32_t events, void* tag, bool exclusive) noexcept {
  epoll_event event{};
  event.events = events | (exclusive ? EPOLLEXCLUSIVE : 0u);
  event.data.ptr = tag;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
}

bool EventLoop::modify(int fd, std::uint32_t events, void* tag) noexcept {
  epoll_event event{};
  event.events = events;
  event.data.ptr = tag;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) == 0;
}

void EventLoop::remove(int fd) noexcept {
  epoll_event unused{};
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, &unused);
}

int EventLoop::wait(std::span<Ready> out, int timeout_ms) noexcept {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  const int capacity = static_cast<int>(out.size() < kMaxEvents ? out.size() : kMaxEvents);
  const int count = ::epoll_wait(epoll_fd_.get(), events, capacity, timeout_ms);
  if (count <= 0) return 0;
  for (int i = 0; i < count; ++i)
    out[static_cast<std::size_t>(i)] = {events[i].data.ptr, events[i].events};
  return count;
}

}  // namespace monoceros::net
