// Transport: one client connection's byte stream over a socket.
#include "net/transport.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>

namespace monoceros::net {
namespace {

constexpr int kDiscardReads = 8;  // reads per wake-up while lingering

}  // namespace

long Transport::read(ByteBuffer& into, std::size_t max_read, bool compact) noexcept {
  return compact ? read_some_compact(fd_.get(), into, max_read)
                 : read_some(fd_.get(), into, max_read);
}

bool Transport::input_waiting() const noexcept {
  int pending = 0;
  return fd_ && ::ioctl(fd_.get(), FIONREAD, &pending) == 0 && pending > 0;
}

bool Transport::wait_writable(int timeout_ms) noexcept {
  pollfd waiting{fd_.get(), POLLOUT, 0};
  return ::poll(&waiting, 1, timeout_ms) >= 0 || errno == EINTR;
}

bool Transport::spill(const std::string& directory, std::uint64_t max_spool_bytes) noexcept {
  if (!spool_) {
    int error = 0;
    spool_ = SpoolFile::create(directory, error);
    if (!spool_) return false;
  }
  // Like a proxy's temporary files, a spool has a ceiling; past it, the writer waits.
  if (spool_->end() + out_.memory_bytes() > max_spool_bytes) return false;
  return out_.spill(spool_->fd(), spool_->end(), spool_, &SpoolFile::retain, &SpoolFile::release);
}

void Transport::end_spool() noexcept {
  if (spool_) SpoolFile::release(spool_);
  spool_ = nullptr;
}

void Transport::shutdown_write() noexcept {
  ::shutdown(fd_.get(), SHUT_WR);
}

bool Transport::discard_input(std::uint64_t max_total) noexcept {
  char discard[16 * 1024];
  for (int reads = 0; reads < kDiscardReads; ++reads) {
    const ssize_t got = ::recv(fd_.get(), discard, sizeof discard, 0);
    if (got > 0) {
      discarded_ += static_cast<std::uint64_t>(got);
      if (discarded_ > max_total) return false;
      continue;
    }
    return got < 0 && (errno == EAGAIN || errno == EINTR);
  }
  return true;
}

void Transport::close() noexcept {
  out_.clear();
  end_spool();
  fd_.reset();
}

void Transport::forget() noexcept {
  out_.clear();
  end_spool();
  (void)fd_.release();
}

}  // namespace monoceros::net
