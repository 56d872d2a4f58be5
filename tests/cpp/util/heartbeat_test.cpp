// Tests for heartbeat storage: anonymous by default, a nameless file in worker_tmp_dir when
// asked, shared across fork() either way, and one readable line when the directory is bad.
#include "util/heartbeat.hpp"

#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "check.hpp"
#include "util/temp_file.hpp"

using namespace monoceros;

namespace {

int entries_in(const std::string& directory) {
  int count = 0;
  DIR* dir = ::opendir(directory.c_str());
  if (!dir) return -1;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") ++count;
  }
  ::closedir(dir);
  return count;
}

std::string make_temp_dir() {
  char pattern[] = "/tmp/monoceros-heartbeat-XXXXXX";
  const char* made = ::mkdtemp(pattern);
  return made ? std::string(made) : std::string();
}

// A child process stores `value`; the parent sees it through the shared mapping.
bool child_update_is_seen(util::Heartbeat& heartbeat, std::int64_t value) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    heartbeat->store(value);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return heartbeat->load() == value;
}

}  // namespace

TEST(heartbeat_anonymous_by_default) {
  std::string error;
  util::Heartbeat heartbeat = util::new_heartbeat("", 42, error);
  CHECK(static_cast<bool>(heartbeat));
  CHECK_EQ(heartbeat->load(), std::int64_t{42});
  CHECK(child_update_is_seen(heartbeat, 43));
  CHECK(error.empty());
}

TEST(heartbeat_in_directory_leaves_no_file) {
  const std::string directory = make_temp_dir();
  CHECK(!directory.empty());
  std::string error;
  util::Heartbeat heartbeat = util::new_heartbeat(directory, 7, error);
  CHECK(static_cast<bool>(heartbeat));
  CHECK(error.empty());
  CHECK_EQ(heartbeat->load(), std::int64_t{7});
  CHECK(child_update_is_seen(heartbeat, 8));
  CHECK_EQ(entries_in(directory), 0);
  ::rmdir(directory.c_str());
}

TEST(heartbeat_missing_directory_is_one_line) {
  std::string error;
  util::Heartbeat heartbeat = util::new_heartbeat("/nonexistent/monoceros-test", 1, error);
  CHECK(!heartbeat);
  CHECK_EQ(error, std::string("Can't create a heartbeat file in worker_tmp_dir "
                              "'/nonexistent/monoceros-test': No such file or directory"));
}

TEST(temp_file_is_nameless_and_writable) {
  const std::string directory = make_temp_dir();
  int error = 0;
  util::unique_fd fd = util::open_unlinked_temp_file(directory, error);
  CHECK(static_cast<bool>(fd));
  CHECK_EQ(::write(fd.get(), "abc", 3), ssize_t{3});
  CHECK_EQ(entries_in(directory), 0);
  ::rmdir(directory.c_str());
}
