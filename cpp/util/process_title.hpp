// process_title: what `ps` shows for this process ("monoceros: master [app]"), as gunicorn
// shows "gunicorn: master [app]" when setproctitle is installed.
#pragma once

#include <cstddef>
#include <string_view>

namespace monoceros::util {

// The original argv strings: one contiguous block on the initial stack, which the kernel
// serves as /proc/<pid>/cmdline. Empty (data == nullptr) when it cannot be found.
struct ArgvArea {
  char* data = nullptr;
  std::size_t size = 0;
};

// Reads arg_start and arg_end (fields 48 and 49) from the text of /proc/self/stat.
// Returns false for text that does not have them or describes an empty or absurd range.
bool parse_argv_bounds(std::string_view stat_text, unsigned long& start, unsigned long& end);

// Writes `title` over `area`, cut to fit, and fills the rest with NUL bytes, so that
// /proc/<pid>/cmdline reads as the title alone. Returns the number of title bytes written.
std::size_t write_title(ArgvArea area, std::string_view title) noexcept;

// Sets the process title: the argv area (cmdline, what `ps aux` shows) and the kernel's
// 15-byte task name (comm, what `ps -e` and `top` show). A title longer than the original
// command line is cut: the environment strings that follow argv are left alone, since the
// C library still points into them. Returns false when the argv area could not be found
// (only the task name was set). Call it from one thread; it is not meant to race itself.
bool set_process_title(std::string_view title);

}  // namespace monoceros::util
