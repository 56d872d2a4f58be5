// EventLoop: epoll behind a small interface; callers own the objects behind the tags.
#include "net/event_loop.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "util/errno_text.hpp"

namespace monoceros::net {
namespace {

std::uint32_t epoll_events(Interest interest, Trigger trigger) noexcept {
  // EPOLLRDHUP: a peer that half-closes is reported at once, also while we only write. Not
  // with EPOLLEXCLUSIVE, which the kernel refuses beside it (it is for listeners anyway).
  if (trigger == Trigger::exclusive)
    return (interest == Interest::read ? EPOLLIN : EPOLLOUT) | EPOLLEXCLUSIVE;
  std::uint32_t events = interest == Interest::read ? EPOLLIN | EPOLLRDHUP : EPOLLOUT;
  if (trigger == Trigger::one_shot) events |= EPOLLONESHOT;
  return events;
}

}  // namespace

bool Ready::readable() const noexcept {
  return events_ & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
}

bool Ready::writable() const noexcept {
  return events_ & EPOLLOUT;
}

bool Ready::failed() const noexcept {
  return events_ & EPOLLERR;
}

EventLoop::EventLoop() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_fd_) throw std::runtime_error("epoll_create1: " + util::errno_text(errno));
}

bool EventLoop::add(int fd, Interest interest, void* tag, Trigger trigger) noexcept {
  epoll_event event{};
  event.events = epoll_events(interest, trigger);
  event.data.ptr = tag;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
}

bool EventLoop::modify(int fd, Interest interest, void* tag, Trigger trigger) noexcept {
  epoll_event event{};
  // EPOLLEXCLUSIVE may not be given to EPOLL_CTL_MOD; an exclusive registration is never
  // modified (listeners are removed and added again).
  event.events = epoll_events(interest, trigger == Trigger::exclusive ? Trigger::level : trigger);
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
    out[static_cast<std::size_t>(i)] = Ready(events[i].data.ptr, events[i].events);
  return count;
}

}  // namespace monoceros::net
