// SharedCell: a small shared mapping that survives fork(), so the arbiter and one worker can
// exchange a value (a heartbeat, a flag) without a syscall per update. Anonymous memory by
// default; a file when the value must live in a given directory (worker_tmp_dir).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>
#include <utility>

namespace monoceros::util {

template <typename T>
class SharedCell {
  static_assert(std::atomic<T>::is_always_lock_free, "a shared cell must be lock-free");

 public:
  SharedCell() = default;
  explicit SharedCell(T initial) {
    void* memory = ::mmap(nullptr, sizeof(std::atomic<T>), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    cell_ = new (memory) std::atomic<T>(initial);
  }
  // A cell in the first bytes of the open file `fd` (grown to fit), shared with every process
  // that inherits the mapping; the fd may be closed afterwards. On failure returns an empty
  // cell and sets `error` to the errno.
  static SharedCell in_file(int fd, T initial, int& error) noexcept {
    SharedCell cell;
    if (::ftruncate(fd, sizeof(std::atomic<T>)) != 0) {
      error = errno;
      return cell;
    }
    void* memory =
        ::mmap(nullptr, sizeof(std::atomic<T>), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED) {
      error = errno;
      return cell;
    }
    cell.cell_ = new (memory) std::atomic<T>(initial);
    return cell;
  }
  SharedCell(const SharedCell&) = delete;
  SharedCell& operator=(const SharedCell&) = delete;
  SharedCell(SharedCell&& other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}
  SharedCell& operator=(SharedCell&& other) noexcept {
    if (this != &other) {
      unmap();
      cell_ = std::exchange(other.cell_, nullptr);
    }
    return *this;
  }
  ~SharedCell() { unmap(); }

  explicit operator bool() const noexcept { return cell_ != nullptr; }
  std::atomic<T>& operator*() const noexcept { return *cell_; }
  std::atomic<T>* operator->() const noexcept { return cell_; }

 private:
  void unmap() noexcept {
    if (cell_) ::munmap(cell_, sizeof(std::atomic<T>));
    cell_ = nullptr;
  }
  std::atomic<T>* cell_ = nullptr;
};

// The worker's heartbeat: the last monotonic time (ns) its loop ran. The arbiter reads it to
// find stuck workers; gunicorn uses a temp file's mtime for the same contract.
using Heartbeat = SharedCell<std::int64_t>;

}  // namespace monoceros::util
