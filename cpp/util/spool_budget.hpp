// SpoolBudget: the disk one worker's spooled request bodies may use at once (body_spool_limit),
// shared by the connections that read bodies and the wsgi.input objects that free them, which
// may live on other threads (gthread).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace monoceros::util {

class SpoolBudget {
 public:
  // `limit` in bytes; 0 means no limit.
  explicit SpoolBudget(std::uint64_t limit = 0) noexcept : limit_(limit) {}
  SpoolBudget(const SpoolBudget&) = delete;
  SpoolBudget& operator=(const SpoolBudget&) = delete;

  // Takes `bytes` from the budget; false (and nothing taken) when they would pass the limit.
  bool reserve(std::uint64_t bytes) noexcept {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ != 0 && (bytes > limit_ || used > limit_ - bytes)) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void release(std::uint64_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  // Whether `bytes` could ever fit (the budget empty): a body larger than that gets 413.
  bool could_hold(std::uint64_t bytes) const noexcept { return limit_ == 0 || bytes <= limit_; }
  std::uint64_t limit() const noexcept { return limit_; }
  std::uint64_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

 private:
  std::uint64_t limit_;
  std::atomic<std::uint64_t> used_{0};
};

// body_spool_limit's automatic value: a quarter of the space free for unprivileged users in
// `directory` now, shared by `workers`. 0 (no limit) when the space cannot be read.
std::uint64_t automatic_spool_limit(const std::string& directory, int workers) noexcept;

}  // namespace monoceros::util
