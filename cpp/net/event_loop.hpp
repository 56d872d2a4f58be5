// EventLoop: epoll behind a small interface; callers own the objects behind the tags. No
// EPOLL* constant leaves net/: readiness and registrations are this file's own enums, so a
// kqueue loop (or a TLS transport's wants) can stand in without the layers above changing.
#pragma once

#include <cstdint>
#include <span>

#include "util/unique_fd.hpp"

namespace monoceros::net {

// The first member of every object registered with an EventLoop, so that an event's tag says
// what it points to. `kind` is the owner's own numbering (see worker::TagKind).
struct LoopTag {
  std::uint8_t kind;
};

// What a registration waits for.
enum class Interest : std::uint8_t {
  read,   // bytes (or the peer's end of stream) to read
  write,  // room to write
};

// How a registration reports.
enum class Trigger : std::uint8_t {
  level,      // every wait while the condition holds
  exclusive,  // level, and of the processes waiting on one shared descriptor (a listener
              // shared by the workers) only one is woken per event
  one_shot,   // once, then disarmed until modify() re-arms it: a descriptor another thread
              // owns meanwhile (gthread) is never reported to the loop
};

class Ready {
 public:
  Ready() = default;
  Ready(void* tag, std::uint32_t events) noexcept : tag_(tag), events_(events) {}

  void* tag() const noexcept { return tag_; }
  // Bytes to read, or an end of stream, hang-up or error that a read will report.
  bool readable() const noexcept;
  // Room to write.
  bool writable() const noexcept;
  // An error on the descriptor (a reset connection): nothing more will come of it.
  bool failed() const noexcept;

 private:
  void* tag_ = nullptr;
  std::uint32_t events_ = 0;
};

class EventLoop {
 public:
  EventLoop();

  bool add(int fd, Interest interest, void* tag, Trigger trigger = Trigger::level) noexcept;
  // Changes what a registered descriptor waits for (and re-arms a one-shot registration).
  bool modify(int fd, Interest interest, void* tag, Trigger trigger = Trigger::level) noexcept;
  void remove(int fd) noexcept;

  // Waits at most timeout_ms (-1: forever); returns how many entries of `out` were filled.
  // EINTR is reported as 0 ready descriptors.
  int wait(std::span<Ready> out, int timeout_ms) noexcept;

 private:
  util::unique_fd epoll_fd_;
};

}  // namespace monoceros::net
