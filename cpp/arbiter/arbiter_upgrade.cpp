// Binary upgrade (USR2): fork and exec a new master on the same sockets; its promotion later.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "arbiter/arbiter.hpp"
#include "arbiter/listen_fds.hpp"
#include "log/error_log.hpp"
#include "util/errno_text.hpp"
#include "util/process_title.hpp"

namespace monoceros::arbiter {

void Arbiter::reexec() {
  if (reexec_pid_ != 0) {
    log::warning("USR2 signal ignored. Child exists.");
    return;
  }
  if (master_pid_ != 0) {
    log::warning("USR2 signal ignored. Parent exists.");
    return;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = host_.fork_process();
  if (pid < 0) {
    log::error("Unable to fork a new master: " + util::errno_text(errno));
    return;
  }
  if (pid > 0) {
    reexec_pid_ = pid;
    return;
  }
  // The child becomes the new master: the listening sockets cross exec(), nothing else of
  // this process's state does (signal dispositions back to default, the self-pipe closed).
  signals_->release_in_child();
  std::vector<int> fds;
  for (const net::Listener& listener : listeners_)
    fds.push_back(listener.fd.get());
  // Under systemd the sockets go on the systemd way: a count, the sockets from fd 3 on.
  std::string error;
  if (!make_inheritable(fds, systemd_, error)) {
    log::error("Could not start a new master: " + error);
    ::_exit(1);
  }
  host_.exec_new_master(parent, fds);
  log::error("Could not start a new master: exec failed");
  ::_exit(1);
}

void Arbiter::maybe_promote_master() {
  if (master_pid_ == 0 || ::getppid() == master_pid_) return;
  // The old master is gone: this one carries on alone, under the usual names.
  log::info("Master has been promoted.");
  master_pid_ = 0;
  ::unsetenv("GUNICORN_PID");
  host_.promoted();
  util::set_process_title(master_title());
}

std::string Arbiter::master_title() const {
  // The new master of an upgrade is "<name>.2" until it is promoted, as in gunicorn.
  return "monoceros: master [" + config_.proc_name + (master_pid_ != 0 ? ".2" : "") + "]";
}

}  // namespace monoceros::arbiter
