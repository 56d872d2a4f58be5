// errno_text: strerror without the thread-safety trap of a shared static buffer.
#pragma once

#include <cstring>
#include <string>

namespace monoceros::util {

inline std::string errno_text(int error) {
  char buffer[128];
  // GNU strerror_r returns a pointer that may or may not be `buffer`.
  const char* text = ::strerror_r(error, buffer, sizeof buffer);
  return text ? std::string(text) : std::string("errno ") + std::to_string(error);
}

}  // namespace monoceros::util
