// Clocks: monotonic time for timeouts and heartbeats, never wall time.
#pragma once

#include <time.h>

#include <cstdint>

namespace monoceros::util {

// Nanoseconds on CLOCK_MONOTONIC (a vDSO call, ~20 ns): immune to wall-clock jumps.
inline std::int64_t monotonic_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

inline double monotonic_seconds() noexcept {
  return static_cast<double>(monotonic_ns()) / 1e9;
}

constexpr std::int64_t seconds_to_ns(double seconds) noexcept {
  return static_cast<std::int64_t>(seconds * 1e9);
}

}  // namespace monoceros::util
