// RequestBody: a request's body, in memory up to a bound and spooled to an unlinked temp file
// beyond it, so a large upload never sits in RAM and the app reads it without the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

namespace monoceros::wsgi {

class RequestBody {
 public:
  // `spool_dir` empty means $TMPDIR or /tmp.
  RequestBody(std::size_t memory_limit, std::string spool_dir)
      : memory_limit_(memory_limit), spool_dir_(std::move(spool_dir)) {}
  RequestBody(const RequestBody&) = delete;
  RequestBody& operator=(const RequestBody&) = delete;

  // Appends body bytes; false (errno set) if the spool file could not be created or written.
  bool append(std::string_view data);

  std::uint64_t size() const noexcept { return size_; }
  bool spooled() const noexcept { return static_cast<bool>(file_); }

  // Copies up to `count` bytes starting at `offset`; returns how many (0 at the end), or -1
  // with errno set on a read error.
  long read_at(std::uint64_t offset, char* out, std::size_t count) const noexcept;

  // Position just past the first '\n' at or after `offset` and before `limit`, or `limit`.
  std::uint64_t line_end(std::uint64_t offset, std::uint64_t limit) const noexcept;

 private:
  bool spill();

  std::size_t memory_limit_;
  std::string spool_dir_;
  std::string memory_;
  util::unique_fd file_;
  std::uint64_t size_ = 0;
};

}  // namespace monoceros::wsgi
