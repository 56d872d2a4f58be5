// What the files of class Arbiter share: the status systemd is told, and a pid for log lines.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace monoceros::arbiter::detail {

inline constexpr std::string_view kBootedStatus = "monoceros arbiter booted";

inline std::string pid_text(pid_t pid) {
  return std::to_string(pid);
}

}  // namespace monoceros::arbiter::detail
