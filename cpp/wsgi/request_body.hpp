// RequestBody: a request's body, in memory up to a bound and spooled to an unlinked temp file
// beyond it, so a large upload never sits in RAM and the app reads it without the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/spool_budget.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::wsgi {

class RequestBody {
 public:
  // `spool_dir` empty means $TMPDIR or /tmp. The bytes that go to the spool file are taken
  // from `budget` (the worker's, when not null) and given back when the body is destroyed,
  // which may be after the worker's loop is gone (an app may keep wsgi.input): shared.
  RequestBody(std::size_t memory_limit, std::string spool_dir,
              std::shared_ptr<util::SpoolBudget> budget = nullptr)
      : memory_limit_(memory_limit), spool_dir_(std::move(spool_dir)), budget_(std::move(budget)) {}
  RequestBody(const RequestBody&) = delete;
  RequestBody& operator=(const RequestBody&) = delete;
  ~RequestBody() {
    if (budget_ && reserved_ != 0) budget_->release(reserved_);
  }

  // Appends body bytes; false if the spool file could not be created or written (errno set),
  // or the budget has no room for them (over_budget()).
  bool append(std::string_view data);
  bool over_budget() const noexcept { return over_budget_; }
  // Over budget because this body alone is larger than all of it (413, not 503).
  bool larger_than_budget() const noexcept { return larger_than_budget_; }

  std::uint64_t size() const noexcept { return size_; }
  bool spooled() const noexcept { return static_cast<bool>(file_); }

  // Copies up to `count` bytes starting at `offset`; returns how many (0 at the end), or -1
  // with errno set on a read error.
  long read_at(std::uint64_t offset, char* out, std::size_t count) const noexcept;

  // Position just past the first '\n' at or after `offset` and before `limit`, or `limit`.
  std::uint64_t line_end(std::uint64_t offset, std::uint64_t limit) const noexcept;

 private:
  bool spill();
  bool take_from_budget(std::uint64_t bytes) noexcept;

  std::size_t memory_limit_;
  std::string spool_dir_;
  std::string memory_;
  util::unique_fd file_;
  std::uint64_t size_ = 0;
  std::shared_ptr<util::SpoolBudget> budget_;
  std::uint64_t reserved_ = 0;
  bool over_budget_ = false;
  bool larger_than_budget_ = false;
};

}  // namespace monoceros::wsgi
