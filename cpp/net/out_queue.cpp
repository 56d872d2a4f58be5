// OutQueue: bytes and file ranges waiting to be written to one socket, in order.
#include "net/out_queue.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "util/temp_file.hpp"

namespace monoceros::net {
namespace {
constexpr int kMaxIov = 64;
constexpr std::uint64_t kMaxSendfileChunk = 1u << 30;
}  // namespace

void OutQueue::push_owned(std::string bytes) {
  if (bytes.empty()) return;
  Segment segment;
  segment.size = bytes.size();
  segment.owned = std::move(bytes);
  queued_bytes_ += segment.size;
  memory_bytes_ += segment.size;
  segments_.push_back(std::move(segment));
}

void OutQueue::push_borrowed(std::string_view data, void* owner, ReleaseFn release) {
  if (data.empty()) {
    if (release) release(owner);
    return;
  }
  Segment segment;
  segment.borrowed = data.data();
  segment.size = data.size();
  segment.owner = owner;
  segment.release = release;
  queued_bytes_ += segment.size;
  memory_bytes_ += segment.size;
  segments_.push_back(std::move(segment));
}

void OutQueue::push_file(int fd, std::uint64_t offset, std::uint64_t length, void* owner,
                         ReleaseFn release) {
  Segment segment;
  segment.file_fd = fd;
  segment.file_offset = offset;
  segment.size = length;
  segment.owner = owner;
  segment.release = release;
  queued_bytes_ += length;
  segments_.push_back(std::move(segment));
}

bool OutQueue::spill(int fd, std::uint64_t& file_end, void* owner, RetainFn retain,
                     ReleaseFn release) {
  if (memory_bytes_ == 0) return true;
  // Everything is written before the queue changes, so a failure leaves it as it was.
  std::uint64_t end = file_end;
  for (const Segment& segment : segments_) {
    if (segment.file_fd >= 0) continue;
    const std::string_view rest(segment.bytes() + segment.sent, segment.size - segment.sent);
    if (!util::write_all_at(fd, rest, end)) return false;
    end += rest.size();
  }
  std::deque<Segment> spilled;
  std::uint64_t range_start = file_end;
  std::uint64_t range_length = 0;
  const auto end_range = [&] {
    if (range_length == 0) return;
    Segment range;
    range.file_fd = fd;
    range.file_offset = range_start;
    range.size = range_length;
    retain(owner);
    range.owner = owner;
    range.release = release;
    spilled.push_back(std::move(range));
    range_start += range_length;
    range_length = 0;
  };
  for (Segment& segment : segments_) {
    if (segment.file_fd >= 0) {
      end_range();
      spilled.push_back(std::move(segment));
      continue;
    }
    range_length += segment.size - segment.sent;
    if (segment.release) segment.release(segment.owner);
  }
  end_range();
  segments_.swap(spilled);
  memory_bytes_ = 0;
  file_end = end;
  return true;
}

void OutQueue::pop_front() noexcept {
  Segment& front = segments_.front();
  queued_bytes_ -= front.size - front.sent;
  if (front.file_fd < 0) memory_bytes_ -= front.size - front.sent;
  if (front.release) front.release(front.owner);
  segments_.pop_front();
}

void OutQueue::clear() noexcept {
  while (!segments_.empty())
    pop_front();
}

OutQueue::Flush OutQueue::flush_file(int socket_fd, Segment& segment) {
  while (segment.sent < segment.size) {
    auto offset = static_cast<off_t>(segment.file_offset + segment.sent);
    std::uint64_t want = segment.size - segment.sent;
    if (want > kMaxSendfileChunk) want = kMaxSendfileChunk;
    const ssize_t sent = ::sendfile(socket_fd, segment.file_fd, &offset, want);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Flush::blocked;
      error_ = errno;
      return Flush::failed;
    }
    if (sent == 0) {  // the file is shorter than promised: the response cannot be completed
      error_ = EIO;
      return Flush::failed;
    }
    advance(segment, static_cast<std::uint64_t>(sent));
  }
  return Flush::done;
}

void OutQueue::advance(Segment& segment, std::uint64_t count) noexcept {
  segment.sent += count;
  queued_bytes_ -= count;
  if (segment.file_fd < 0) memory_bytes_ -= count;
  written_bytes_ += count;
}

OutQueue::Flush OutQueue::flush(int socket_fd) {
  while (!segments_.empty()) {
    if (segments_.front().file_fd >= 0) {
      const Flush result = flush_file(socket_fd, segments_.front());
      if (result != Flush::done) return result;
      pop_front();
      continue;
    }
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = segments_.begin(); it != segments_.end() && count < kMaxIov; ++it) {
      if (it->file_fd >= 0) break;
      iov[count].iov_base = const_cast<char*>(it->bytes() + it->sent);
      iov[count].iov_len = it->size - it->sent;
      ++count;
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<std::size_t>(count);
    // sendmsg rather than writev: MSG_NOSIGNAL turns a vanished peer into EPIPE, not SIGPIPE.
    const ssize_t written = ::sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Flush::blocked;
      error_ = errno;
      return Flush::failed;
    }
    auto remaining = static_cast<std::uint64_t>(written);
    while (remaining > 0) {
      Segment& front = segments_.front();
      const std::uint64_t step = std::min(remaining, front.size - front.sent);
      advance(front, step);
      remaining -= step;
      if (front.sent == front.size) pop_front();
    }
  }
  return Flush::done;
}

}  // namespace monoceros::net
