// temp_file: a nameless temporary file in a chosen directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

namespace monoceros::util {

// Opens a new read-write file (mode 0600) in `directory` that has no name, so nothing is left
// behind whatever happens to the process: O_TMPFILE where the filesystem supports it, else a
// mkstemp file unlinked at once. On failure returns an empty fd and sets `error` to the errno.
unique_fd open_unlinked_temp_file(const std::string& directory, int& error);

// Where temporary files go: `configured` (--tmp-upload-dir) if set, else $TMPDIR, else /tmp.
std::string temp_directory(const std::string& configured);

// Writes all of `data` at `offset` (pwrite), retrying short writes and EINTR. False (errno
// set) on failure, ENOSPC included.
bool write_all_at(int fd, std::string_view data, std::uint64_t offset);

}  // namespace monoceros::util
