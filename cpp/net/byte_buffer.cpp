// Socket reads into a ByteBuffer.
#include "net/byte_buffer.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <span>

namespace monoceros::net {

long read_some(int fd, ByteBuffer& buffer, std::size_t max_read) noexcept {
  std::span<char> space;
  try {
    space = buffer.prepare(max_read);
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
  const std::size_t want = space.size() < max_read ? space.size() : max_read;
  ssize_t got;
  do {
    got = ::recv(fd, space.data(), want, 0);
  } while (got < 0 && errno == EINTR);
  if (got > 0) buffer.commit(static_cast<std::size_t>(got));
  return static_cast<long>(got);
}

long read_some_compact(int fd, ByteBuffer& buffer, std::size_t max_read) noexcept {
  if (max_read > kMaxCompactRead) max_read = kMaxCompactRead;
  thread_local char scratch[kMaxCompactRead];
  ssize_t got;
  do {
    got = ::recv(fd, scratch, max_read, 0);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return static_cast<long>(got);
  try {
    const std::span<char> space = buffer.prepare(static_cast<std::size_t>(got));
    std::memcpy(space.data(), scratch, static_cast<std::size_t>(got));
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
  buffer.commit(static_cast<std::size_t>(got));
  return static_cast<long>(got);
}

}  // namespace monoceros::net
