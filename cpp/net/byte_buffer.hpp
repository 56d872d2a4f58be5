// Socket reads into a ByteBuffer (util/byte_buffer.hpp).
#pragma once

#include <cstddef>

#include "util/byte_buffer.hpp"

namespace monoceros::net {

using util::ByteBuffer;

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
