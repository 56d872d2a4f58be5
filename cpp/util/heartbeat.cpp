// heartbeat: anonymous by default, file-backed in worker_tmp_dir when the operator asks.
#include "util/heartbeat.hpp"

#include "util/errno_text.hpp"
#include "util/temp_file.hpp"

namespace monoceros::util {

Heartbeat new_heartbeat(const std::string& directory, std::int64_t now, std::string& error) {
  if (directory.empty()) return Heartbeat(now);
  int code = 0;
  unique_fd file = open_unlinked_temp_file(directory, code);
  Heartbeat heartbeat;
  if (file) heartbeat = Heartbeat::in_file(file.get(), now, code);
  // The mapping keeps the file alive; the descriptor is not needed any more.
  if (!heartbeat) {
    error =
        "Can't create a heartbeat file in worker_tmp_dir '" + directory + "': " + errno_text(code);
  }
  return heartbeat;
}

}  // namespace monoceros::util
