// ByteBuffer: a growable byte region with a read cursor, for bytes read from a client.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace monoceros::util {

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

  // Keeps only the first `count` unread bytes (drops the rest from the end).
  void truncate(std::size_t count) noexcept {
    if (count < size()) end_ = begin_ + count;
  }

  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace monoceros::util
