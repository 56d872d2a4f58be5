// OutQueue: bytes and file ranges waiting to be written to one socket, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace monoceros::net {

// Called once when the queue no longer needs a borrowed range or file (e.g. to drop a
// reference on the object that owns the bytes). The caller guarantees whatever lock the
// owner needs is held whenever the queue is flushed or cleared.
using ReleaseFn = void (*)(void* owner) noexcept;
using RetainFn = void (*)(void* owner) noexcept;

class OutQueue {
 public:
  OutQueue() = default;
  OutQueue(const OutQueue&) = delete;
  OutQueue& operator=(const OutQueue&) = delete;
  ~OutQueue() { clear(); }

  void push_owned(std::string bytes);
  // `data` stays valid until release(owner) is called.
  void push_borrowed(std::string_view data, void* owner, ReleaseFn release);
  // Sends `length` bytes of file `fd` from `offset` with sendfile(2); the file offset itself
  // is never moved. `fd` stays open until release(owner).
  void push_file(int fd, std::uint64_t offset, std::uint64_t length, void* owner,
                 ReleaseFn release);

  enum class Flush : std::uint8_t { done, blocked, failed };
  // Writes until the queue is empty (done), the socket is full (blocked) or an error occurs
  // (failed; error() says which). Never blocks.
  Flush flush(int socket_fd);

  // Moves every byte queued in memory to the end of file `fd` (from `file_end`, which is
  // advanced), each run of in-memory segments becoming one range of that file, in order, owned
  // through retain(owner)/release(owner). A queue for a client that reads slowly then holds
  // no memory however much is put in it. False (errno set, the queue unchanged) if the file
  // cannot take the bytes.
  bool spill(int fd, std::uint64_t& file_end, void* owner, RetainFn retain, ReleaseFn release);

  std::uint64_t queued_bytes() const noexcept { return queued_bytes_; }
  // The part of queued_bytes() held in memory (not file ranges).
  std::uint64_t memory_bytes() const noexcept { return memory_bytes_; }
  std::uint64_t written_bytes() const noexcept { return written_bytes_; }
  bool empty() const noexcept { return segments_.empty(); }
  int error() const noexcept { return error_; }

  // Drops everything still queued (releasing borrowed owners).
  void clear() noexcept;
  void reset_counters() noexcept { written_bytes_ = 0; }

 private:
  struct Segment {
    std::string owned;  // used when `borrowed` is null and it is not a file
    const char* borrowed = nullptr;
    std::uint64_t size = 0;  // total bytes of this segment
    std::uint64_t sent = 0;  // bytes already written
    int file_fd = -1;        // >= 0: a file range starting at file_offset
    std::uint64_t file_offset = 0;
    void* owner = nullptr;
    ReleaseFn release = nullptr;

    const char* bytes() const noexcept { return borrowed ? borrowed : owned.data(); }
  };

  void pop_front() noexcept;
  void advance(Segment& segment, std::uint64_t count) noexcept;
  Flush flush_file(int socket_fd, Segment& segment);

  std::deque<Segment> segments_;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t memory_bytes_ = 0;
  std::uint64_t written_bytes_ = 0;
  int error_ = 0;
};

}  // namespace monoceros::net
