// Resident memory of a process, for max_worker_memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace monoceros::arbiter {

// The resident set size of `pid` in bytes (from /proc/<pid>/statm), or nullopt when the
// process is gone or /proc cannot be read.
std::optional<std::uint64_t> resident_bytes(pid_t pid);

}  // namespace monoceros::arbiter
