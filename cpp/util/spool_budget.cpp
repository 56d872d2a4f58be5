// SpoolBudget's automatic limit, read from the file system holding the spool directory.
#include "util/spool_budget.hpp"

#include <sys/statvfs.h>

namespace monoceros::util {

std::uint64_t automatic_spool_limit(const std::string& directory, int workers) noexcept {
  struct statvfs info{};
  if (::statvfs(directory.c_str(), &info) != 0) return 0;
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
  const std::uint64_t share =
      free_bytes / 4 / static_cast<std::uint64_t>(workers > 0 ? workers : 1);
  return share > 0 ? share : 1;  // a full disk: nothing may be spooled, not "no limit"
}

}  // namespace monoceros::util
