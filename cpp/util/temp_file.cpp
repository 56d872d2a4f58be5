// temp_file: O_TMPFILE, with mkstemp + unlink for filesystems that lack it.
#include "util/temp_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace monoceros::util {
namespace {

bool tmpfile_unsupported(int error) {
  // What open(O_TMPFILE) reports on kernels or filesystems without it.
  return error == EOPNOTSUPP || error == EISDIR || error == EINVAL;
}

}  // namespace

unique_fd open_unlinked_temp_file(const std::string& directory, int& error) {
#ifdef O_TMPFILE
  unique_fd fd(::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd) return fd;
  if (!tmpfile_unsupported(errno)) {
    error = errno;
    return fd;
  }
#endif
  // gunicorn's heartbeat files are named wgunicorn-*; ours are only visible for an instant.
  const std::string pattern = directory + "/wmonoceros-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  unique_fd named(::mkostemp(name.data(), O_CLOEXEC));
  if (!named) {
    error = errno;
    return named;
  }
  ::unlink(name.data());
  return named;
}

std::string temp_directory(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

bool write_all_at(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t written = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
    offset += static_cast<std::uint64_t>(written);
  }
  return true;
}

}  // namespace monoceros::util
