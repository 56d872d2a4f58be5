// Listen fds: the sockets a new master inherits across exec(), where it expects to find them.
#pragma once

#include <string>
#include <vector>

namespace monoceros::arbiter {

// systemd socket activation passes LISTEN_FDS sockets as fds 3, 4, ... (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

// Makes `fds` inheritable across exec(): FD_CLOEXEC cleared. With `at_listen_fds_start` (the
// systemd way of handing sockets on, where only a count is passed) they are first duplicated to
// 3, 4, ... in order, whatever else held those numbers; `fds` then lists the new numbers.
// For the forked child about to exec a new master. Returns false with `error` on failure.
bool make_inheritable(std::vector<int>& fds, bool at_listen_fds_start, std::string& error);

}  // namespace monoceros::arbiter
