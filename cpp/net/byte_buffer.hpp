// ByteBuffer: a growable byte region with a read cursor, for bytes read from a socket.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace monoceros::net {

class ByteBuffer {
 public:
  ByteBuffer() = default;

  // The unread bytes.
  std::span<char> readable() noexcept { return {storage_.get() + begin_, end_ - begin_}; }
  std::string_view view() const noexcept { return {storage_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return end_ == begin_; }

  // At least `min_space` writable bytes after the unread ones (moves or grows the storage,
  // which invalidates earlier views); fill some, then commit() how many were written.
  std::span<char> prepare(std::size_t min_space);
  void commit(std::size_t count) noexcept { end_ += count; }

  // Drops `count` bytes from the front.
  void consume(std::size_t count) noexcept;
  void clear() noexcept { begin_ = end_ = 0; }

  // Frees storage above `keep` bytes once the buffer is empty, so one large request does not
  // pin memory on a connection for its whole life.
  void trim(std::size_t keep) noexcept;

  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// Reads once from a non-blocking socket into `buffer` (at most `max_read` bytes).
// Returns bytes read, 0 at end of stream, -1 with errno set (EAGAIN when nothing is ready).
long read_some(int fd, ByteBuffer& buffer, std::size_t max_read) noexcept;

// The same, but the bytes land in a scratch area of the calling thread first and only what
// arrived is appended: a kept-alive connection then holds a buffer the size of its requests
// (a few hundred bytes) instead of one as large as the largest read (`max_read`, at most
// kMaxCompactRead).
inline constexpr std::size_t kMaxCompactRead = 16 * 1024;
long read_some_compact(int fd, ByteBuffer& buffer, std::size_t max_read) noexcept;

}  // namespace monoceros::net
