// The error log: one sink for every message of the core (gunicorn's "gunicorn.error" logger).
#include "log/error_log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <string>

namespace monoceros::log {
namespace {

std::atomic<Sink> current_sink{&write_to_stderr};
std::atomic<int> current_threshold{static_cast<int>(Level::info)};

std::string_view level_name(Level level) noexcept {
  switch (level) {
    case Level::debug:
      return "DEBUG";
    case Level::info:
      return "INFO";
    case Level::warning:
      return "WARNING";
    case Level::error:
      return "ERROR";
    case Level::critical:
      return "CRITICAL";
  }
  return "INFO";
}

}  // namespace

void set_sink(Sink sink) noexcept {
  current_sink.store(sink ? sink : &write_to_stderr);
}

void set_threshold(Level level) noexcept {
  current_threshold.store(static_cast<int>(level));
}

bool enabled(Level level) noexcept {
  return static_cast<int>(level) >= current_threshold.load();
}

void write(Level level, std::string_view message) noexcept {
  if (!enabled(level)) return;
  current_sink.load()(level, message);
}

void write_to_stderr(Level level, std::string_view message) noexcept {
  try {
    char stamp[64];
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    const std::size_t stamp_length =
        std::strftime(stamp, sizeof stamp, "[%Y-%m-%d %H:%M:%S %z]", &local);
    std::string line(stamp, stamp_length);
    line += " [" + std::to_string(::getpid()) + "] [";
    line += level_name(level);
    line += "] ";
    line += message;
    line += '\n';
    // One write() per line keeps lines from different processes whole.
    [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, line.data(), line.size());
  } catch (...) {
    // Out of memory while logging: nothing sensible left to do.
  }
}

}  // namespace monoceros::log
