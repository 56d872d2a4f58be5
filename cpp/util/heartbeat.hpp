// heartbeat: where a worker's heartbeat lives, anonymous memory or a file in worker_tmp_dir.
#pragma once

#include <cstdint>
#include <string>

#include "util/shared_memory.hpp"

namespace monoceros::util {

// A heartbeat holding `now`. With an empty `directory` it is anonymous shared memory; else
// it is backed by an unlinked temp file created there (gunicorn's worker_tmp_dir contract:
// the operator chooses the filesystem, e.g. a tmpfs). On failure returns an empty Heartbeat
// and sets `error` to one line naming the directory.
Heartbeat new_heartbeat(const std::string& directory, std::int64_t now, std::string& error);

}  // namespace monoceros::util
