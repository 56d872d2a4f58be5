// SpoolFile: a nameless temporary file holding response bytes a slow client has not read yet.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "util/unique_fd.hpp"

namespace monoceros::net {

// The write() callable must return without waiting for the client (the worker's loop, or the
// thread, has other work), yet what it was given cannot all stay in memory: the bytes go to
// this file and the output queue sends ranges of it with sendfile(2). It is shared by its
// creator and every queued range (each holds a reference); the last release closes it.
class SpoolFile {
 public:
  // Nullptr (and `error` set to the errno) when no file can be created in `directory`.
  static SpoolFile* create(const std::string& directory, int& error);
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  int fd() const noexcept { return fd_.get(); }
  // Bytes written so far: the next range starts here.
  std::uint64_t& end() noexcept { return end_; }

  // OutQueue's owner protocol: the file lives while references remain.
  static void retain(void* spool) noexcept;
  static void release(void* spool) noexcept;

 private:
  explicit SpoolFile(util::unique_fd fd) noexcept : fd_(std::move(fd)) {}
  ~SpoolFile() = default;

  util::unique_fd fd_;
  std::uint64_t end_ = 0;
  // Atomic: a gthread connection's queue passes between the loop and an app thread.
  std::atomic<int> references_{1};
};

}  // namespace monoceros::net
