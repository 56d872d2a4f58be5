// ByteBuffer: a growable byte region with a read cursor, for bytes read from a client.
#include "util/byte_buffer.hpp"

#include <cstring>

namespace monoceros::util {
namespace {
// Small: a typical request head fits, and an idle connection keeps little.
constexpr std::size_t kInitialCapacity = 1024;
}  // namespace

std::span<char> ByteBuffer::prepare(std::size_t min_space) {
  if (capacity_ - end_ >= min_space) return {storage_.get() + end_, capacity_ - end_};
  const std::size_t used = end_ - begin_;
  if (begin_ > 0 && capacity_ - used >= min_space) {
    std::memmove(storage_.get(), storage_.get() + begin_, used);
  } else {
    std::size_t grown = capacity_ ? capacity_ : kInitialCapacity;
    while (grown - used < min_space)
      grown *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    if (used) std::memcpy(bigger.get(), storage_.get() + begin_, used);
    storage_ = std::move(bigger);
    capacity_ = grown;
  }
  begin_ = 0;
  end_ = used;
  return {storage_.get() + end_, capacity_ - end_};
}

void ByteBuffer::consume(std::size_t count) noexcept {
  begin_ += count < size() ? count : size();
  if (begin_ == end_) begin_ = end_ = 0;
}

void ByteBuffer::trim(std::size_t keep) noexcept {
  if (empty() && capacity_ > keep) {
    storage_.reset();
    capacity_ = begin_ = end_ = 0;
  }
}

}  // namespace monoceros::util
