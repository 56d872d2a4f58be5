// temp_file: O_TMPFILE, with mkstemp + unlink for filesystems that lack it.
#include "util/temp_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace monoceros::util
