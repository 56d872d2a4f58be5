// RequestBody: a request's body, in memory up to a bound and spooled to an unlinked temp file
// beyond it, so a large upload never sits in RAM and the app reads it without the network.
#include "wsgi/request_body.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/temp_file.hpp"

namespace monoceros::wsgi {

bool RequestBody::take_from_budget(std::uint64_t bytes) noexcept {
  if (!budget_) return true;
  if (!budget_->reserve(bytes)) {
    over_budget_ = true;
    larger_than_budget_ = !budget_->could_hold(reserved_ + bytes);
    return false;
  }
  reserved_ += bytes;
  return true;
}

bool RequestBody::spill() {
  if (!take_from_budget(memory_.size())) return false;
  int error = 0;
  file_ = util::open_unlinked_temp_file(util::temp_directory(spool_dir_), error);
  if (!file_) return false;
  if (!util::write_all_at(file_.get(), memory_, 0)) return false;
  std::string().swap(memory_);
  return true;
}

bool RequestBody::append(std::string_view data) {
  if (data.empty()) return true;
  if (!file_ && memory_.size() + data.size() > memory_limit_ && !spill()) return false;
  if (file_) {
    if (!take_from_budget(data.size())) return false;
    if (!util::write_all_at(file_.get(), data, size_)) return false;
  } else {
    memory_.append(data);
  }
  size_ += data.size();
  return true;
}

long RequestBody::read_at(std::uint64_t offset, char* out, std::size_t count) const noexcept {
  if (offset >= size_) return 0;
  const std::uint64_t available = size_ - offset;
  if (count > available) count = static_cast<std::size_t>(available);
  if (!file_) {
    std::memcpy(out, memory_.data() + offset, count);
    return static_cast<long>(count);
  }
  std::size_t done = 0;
  while (done < count) {
    const ssize_t got =
        ::pread(file_.get(), out + done, count - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return static_cast<long>(done);
}

std::uint64_t RequestBody::line_end(std::uint64_t offset, std::uint64_t limit) const noexcept {
  if (limit > size_) limit = size_;
  if (offset >= limit) return limit;
  if (!file_) {
    const void* found = std::memchr(memory_.data() + offset, '\n', limit - offset);
    return found ? static_cast<std::uint64_t>(static_cast<const char*>(found) - memory_.data()) + 1
                 : limit;
  }
  char block[8192];
  while (offset < limit) {
    const std::size_t want =
        limit - offset < sizeof block ? static_cast<std::size_t>(limit - offset) : sizeof block;
    const long got = read_at(offset, block, want);
    if (got <= 0) return limit;
    if (const void* found = std::memchr(block, '\n', static_cast<std::size_t>(got))) {
      return offset + static_cast<std::uint64_t>(static_cast<const char*>(found) - block) + 1;
    }
    offset += static_cast<std::uint64_t>(got);
  }
  return limit;
}

}  // namespace monoceros::wsgi
