// process_title: overwrite the argv area found through /proc/self/stat, plus PR_SET_NAME.
#include "util/process_title.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>

#include "util/unique_fd.hpp"

namespace monoceros::util {
namespace {

// /proc/self/stat is one line of 52 fields; the command name (field 2) is at most 64 bytes.
// Anything beyond this bound is not a stat line we understand.
constexpr std::size_t kStatLimit = 4096;
// No sane command line is larger than this; a bigger range means we misread the fields.
constexpr unsigned long kArgvLimit = 1UL << 20;
constexpr int kArgStartField = 48;

std::string read_self_stat() {
  unique_fd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::array<char, kStatLimit> buffer{};
  std::size_t used = 0;
  while (used < buffer.size()) {
    const ssize_t got = ::read(fd.get(), buffer.data() + used, buffer.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    used += static_cast<std::size_t>(got);
  }
  return std::string(buffer.data(), used);
}

bool parse_field(std::string_view text, unsigned long& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool parse_argv_bounds(std::string_view stat_text, unsigned long& start, unsigned long& end) {
  // Field 2 is "(comm)" and comm may contain spaces and parentheses: count from the last ')'.
  const std::size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = stat_text.substr(close + 1);
  int field = 2;
  unsigned long values[2] = {0, 0};
  while (field < kArgStartField + 1) {
    const std::size_t begin = rest.find_first_not_of(" \n");
    if (begin == std::string_view::npos) return false;
    rest.remove_prefix(begin);
    const std::size_t length = std::min(rest.find_first_of(" \n"), rest.size());
    ++field;
    if (field >= kArgStartField) {
      if (!parse_field(rest.substr(0, length), values[field - kArgStartField])) return false;
    }
    rest.remove_prefix(length);
  }
  if (values[0] == 0 || values[1] <= values[0] || values[1] - values[0] > kArgvLimit) {
    return false;
  }
  start = values[0];
  end = values[1];
  return true;
}

std::size_t write_title(ArgvArea area, std::string_view title) noexcept {
  if (area.data == nullptr || area.size == 0) return 0;
  // Keep the last byte NUL: a non-NUL last byte tells the kernel that the title spills into
  // the environment area, which we do not own.
  const std::size_t length = std::min(title.size(), area.size - 1);
  std::memcpy(area.data, title.data(), length);
  std::memset(area.data + length, 0, area.size - length);
  return length;
}

bool set_process_title(std::string_view title) {
  // The task name is limited to 15 bytes plus NUL; the kernel cuts longer names itself, but
  // the argument must be NUL-terminated.
  std::array<char, 16> name{};
  std::memcpy(name.data(), title.data(), std::min(title.size(), name.size() - 1));
  ::prctl(PR_SET_NAME, name.data(), 0, 0, 0);

  unsigned long start = 0;
  unsigned long end = 0;
  if (!parse_argv_bounds(read_self_stat(), start, end)) return false;
  // The range is the process's own argv block, mapped read-write on its initial stack since
  // exec; the bounds come from the kernel and were sanity-checked above.
  write_title(ArgvArea{reinterpret_cast<char*>(start), end - start}, title);
  return true;
}

}  // namespace monoceros::util
