// SignalQueue: signal handlers only enqueue (a byte on a self-pipe); the arbiter loop dequeues.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace monoceros::arbiter {

class SignalQueue {
 public:
  // Installs handlers for `signals`; there is one queue per process.
  explicit SignalQueue(std::initializer_list<int> signals);
  SignalQueue(const SignalQueue&) = delete;
  SignalQueue& operator=(const SignalQueue&) = delete;
  ~SignalQueue();

  // The next queued signal, waiting up to timeout_ms; nullopt on timeout.
  std::optional<int> next(int timeout_ms);

  // Restores default dispositions and closes the pipe (in a forked worker).
  void release_in_child();

 private:
  util::unique_fd read_end_;
  util::unique_fd write_end_;
  std::vector<int> signals_;
};

// gunicorn's names: "term", "int", "hup", ... for "Handling signal: term".
const char* signal_name(int signal_number) noexcept;
// "SIGTERM", "SIGKILL", ... for worker exit messages.
std::string signal_full_name(int signal_number);

}  // namespace monoceros::arbiter
