// The error log: one sink for every message of the core (gunicorn's "gunicorn.error" logger).
#pragma once

#include <string_view>

namespace monoceros::log {

// Python logging's numeric levels, so the sink can hand them to the logging module unchanged.
enum class Level : int { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };

// Where messages go. The bindings install one that forwards to logging.getLogger(
// "gunicorn.error") so users' logconfig applies; the default writes gunicorn's line format to
// stderr. The sink must be callable from the thread that logs.
using Sink = void (*)(Level level, std::string_view message) noexcept;

void set_sink(Sink sink) noexcept;
// Messages below this level are dropped before any formatting or sink call.
void set_threshold(Level level) noexcept;
bool enabled(Level level) noexcept;

void write(Level level, std::string_view message) noexcept;

inline void debug(std::string_view message) noexcept {
  write(Level::debug, message);
}
inline void info(std::string_view message) noexcept {
  write(Level::info, message);
}
inline void warning(std::string_view message) noexcept {
  write(Level::warning, message);
}
inline void error(std::string_view message) noexcept {
  write(Level::error, message);
}
inline void critical(std::string_view message) noexcept {
  write(Level::critical, message);
}

// The default sink: "[2026-11-28 15:53:58 +0000] [pid] [INFO] message" on stderr.
void write_to_stderr(Level level, std::string_view message) noexcept;

}  // namespace monoceros::log
