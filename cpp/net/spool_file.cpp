// SpoolFile: a nameless temporary file holding response bytes a slow client has not read yet.
#include "net/spool_file.hpp"

#include "util/temp_file.hpp"

namespace monoceros::net {

SpoolFile* SpoolFile::create(const std::string& directory, int& error) {
  util::unique_fd fd = util::open_unlinked_temp_file(directory, error);
  if (!fd) return nullptr;
  return new SpoolFile(std::move(fd));
}

void SpoolFile::retain(void* spool) noexcept {
  static_cast<SpoolFile*>(spool)->references_.fetch_add(1, std::memory_order_relaxed);
}

void SpoolFile::release(void* spool) noexcept {
  auto* file = static_cast<SpoolFile*>(spool);
  if (file->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete file;
}

}  // namespace monoceros::net
