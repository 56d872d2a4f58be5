// SignalQueue: signal handlers only enqueue (a byte on a self-pipe); the arbiter loop dequeues.
#include "arbiter/signal_queue.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace monoceros::arbiter {
namespace {

std::atomic<int> pipe_write_fd{-1};

// Async-signal-safe: one write() of one byte, errno preserved. A full pipe drops the byte,
// which is harmless because the loop reaps and re-checks state every second anyway.
void enqueue_signal(int signal_number) {
  const int saved = errno;
  const int fd = pipe_write_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(signal_number);
    [[maybe_unused]] const auto ignored = ::write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

SignalQueue::SignalQueue(std::initializer_list<int> signals) : signals_(signals) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  read_end_.reset(fds[0]);
  write_end_.reset(fds[1]);
  pipe_write_fd.store(fds[1]);
  struct sigaction action{};
  action.sa_handler = enqueue_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART keeps blocking calls elsewhere (logging writes) from failing with EINTR.
  action.sa_flags = SA_RESTART;
  for (int signal_number : signals_)
    ::sigaction(signal_number, &action, nullptr);
}

SignalQueue::~SignalQueue() {
  if (write_end_) release_in_child();
}

std::optional<int> SignalQueue::next(int timeout_ms) {
  unsigned char byte = 0;
  if (::read(read_end_.get(), &byte, 1) == 1) return byte;
  pollfd waiting{read_end_.get(), POLLIN, 0};
  if (::poll(&waiting, 1, timeout_ms) <= 0) return std::nullopt;
  if (::read(read_end_.get(), &byte, 1) == 1) return byte;
  return std::nullopt;
}

void SignalQueue::release_in_child() {
  pipe_write_fd.store(-1);
  struct sigaction action{};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int signal_number : signals_)
    ::sigaction(signal_number, &action, nullptr);
  read_end_.reset();
  write_end_.reset();
}

const char* signal_name(int signal_number) noexcept {
  switch (signal_number) {
    case SIGHUP:
      return "hup";
    case SIGINT:
      return "int";
    case SIGQUIT:
      return "quit";
    case SIGTERM:
      return "term";
    case SIGTTIN:
      return "ttin";
    case SIGTTOU:
      return "ttou";
    case SIGUSR1:
      return "usr1";
    case SIGUSR2:
      return "usr2";
    case SIGWINCH:
      return "winch";
    case SIGCHLD:
      return "chld";
    default:
      return "unknown";
  }
}

std::string signal_full_name(int signal_number) {
  const char* abbreviation = ::sigabbrev_np(signal_number);
  return abbreviation ? std::string("SIG") + abbreviation
                      : "signal " + std::to_string(signal_number);
}

}  // namespace monoceros::arbiter
