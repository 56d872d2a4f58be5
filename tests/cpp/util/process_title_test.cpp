// Tests for the process title: reading the argv bounds out of /proc/self/stat text, writing
// a title over a buffer that stands in for the argv area, and the real thing on this process.
#include "util/process_title.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "check.hpp"

using namespace monoceros;

namespace {

// A stat line shaped like the kernel's, with arg_start/arg_end at fields 48 and 49.
std::string stat_line(const std::string& comm, const std::string& arg_start,
                      const std::string& arg_end) {
  std::string line = "1234 (" + comm + ") S";
  for (int field = 4; field <= 52; ++field) {
    line += ' ';
    if (field == 48) {
      line += arg_start;
    } else if (field == 49) {
      line += arg_end;
    } else {
      line += std::to_string(field);
    }
  }
  return line + "\n";
}

std::string read_file(const char* path) {
  std::string out;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buffer[4096];
  ssize_t got;
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<std::size_t>(got));
  ::close(fd);
  return out;
}

}  // namespace

TEST(process_title_parses_argv_bounds) {
  unsigned long start = 0, end = 0;
  CHECK(util::parse_argv_bounds(stat_line("python3", "1000", "1064"), start, end));
  CHECK_EQ(start, 1000UL);
  CHECK_EQ(end, 1064UL);
}

TEST(process_title_comm_with_spaces_and_parentheses) {
  unsigned long start = 0, end = 0;
  CHECK(util::parse_argv_bounds(stat_line("a) (b c", "4096", "4100"), start, end));
  CHECK_EQ(start, 4096UL);
  CHECK_EQ(end, 4100UL);
}

TEST(process_title_rejects_bad_stat_text) {
  unsigned long start = 7, end = 7;
  CHECK(!util::parse_argv_bounds("", start, end));
  CHECK(!util::parse_argv_bounds("1234 (x) S 1 2 3", start, end));                  // too short
  CHECK(!util::parse_argv_bounds(stat_line("x", "100", "100"), start, end));        // empty
  CHECK(!util::parse_argv_bounds(stat_line("x", "200", "100"), start, end));        // reversed
  CHECK(!util::parse_argv_bounds(stat_line("x", "0", "100"), start, end));          // null
  CHECK(!util::parse_argv_bounds(stat_line("x", "1", "99999999999"), start, end));  // huge
  CHECK(!util::parse_argv_bounds(stat_line("x", "12ab", "100"), start, end));       // not a number
  CHECK_EQ(start, 7UL);
  CHECK_EQ(end, 7UL);
}

TEST(process_title_write_pads_with_nul) {
  char area[16];
  std::fill(std::begin(area), std::end(area), 'x');
  CHECK_EQ(util::write_title({area, sizeof area}, "abc"), std::size_t{3});
  CHECK_EQ(std::string(area, 3), std::string("abc"));
  for (std::size_t i = 3; i < sizeof area; ++i)
    CHECK_EQ(area[i], '\0');
}

TEST(process_title_write_cuts_and_keeps_last_byte_nul) {
  char area[8];
  CHECK_EQ(util::write_title({area, sizeof area}, "monoceros: master"), std::size_t{7});
  CHECK_EQ(std::string(area, 7), std::string("monocer"));
  CHECK_EQ(area[7], '\0');
  CHECK_EQ(util::write_title({nullptr, 0}, "x"), std::size_t{0});
}

TEST(process_title_sets_cmdline_and_comm) {
  CHECK(util::set_process_title("mono-test: unit"));
  const std::string cmdline = read_file("/proc/self/cmdline");
  CHECK_EQ(cmdline.substr(0, cmdline.find('\0')), std::string("mono-test: unit"));
  CHECK_EQ(read_file("/proc/self/comm"), std::string("mono-test: unit\n"));
}
