// A minimal unit-test harness: TEST(name) registers a case, CHECK/CHECK_EQ record failures.
// Small on purpose so the C++ tests build with nothing but a compiler and CMake.
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace monoceros::testing {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int count = 0;
  return count;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> body) {
    registry().push_back({name, std::move(body)});
  }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

template <typename T>
std::string show(const T& value) {
  std::ostringstream out;
  if constexpr (requires { out << value; }) {
    out << value;
  } else {
    out << "<unprintable>";
  }
  return out.str();
}

// Runs every registered case (or those whose name contains argv[1]); exit status 1 on failure.
inline int run_all(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  int ran = 0;
  for (const auto& test_case : registry()) {
    if (!filter.empty() && std::string(test_case.name).find(filter) == std::string::npos) continue;
    const int before = failures();
    test_case.body();
    ++ran;
    if (failures() != before) std::fprintf(stderr, "  in test %s\n", test_case.name);
  }
  std::fprintf(stderr, "%d test cases, %d failed checks\n", ran, failures());
  return failures() == 0 && ran > 0 ? 0 : 1;
}

}  // namespace monoceros::testing

#define MONO_CONCAT_INNER(a, b) a##b
#define MONO_CONCAT(a, b) MONO_CONCAT_INNER(a, b)

#define TEST(name)                                                                 \
  static void MONO_CONCAT(test_body_, name)();                                     \
  static const ::monoceros::testing::Registrar MONO_CONCAT(test_registrar_, name){ \
      #name, MONO_CONCAT(test_body_, name)};                                       \
  static void MONO_CONCAT(test_body_, name)()

#define CHECK(condition)                                                          \
  do {                                                                            \
    if (!(condition)) ::monoceros::testing::fail(__FILE__, __LINE__, #condition); \
  } while (0)

#define CHECK_EQ(actual, expected)                                                      \
  do {                                                                                  \
    const auto& mono_actual = (actual);                                                 \
    const auto& mono_expected = (expected);                                             \
    if (!(mono_actual == mono_expected)) {                                              \
      ::monoceros::testing::fail(__FILE__, __LINE__,                                    \
                                 std::string(#actual " == " #expected "; got ") +       \
                                     ::monoceros::testing::show(mono_actual) + " vs " + \
                                     ::monoceros::testing::show(mono_expected));        \
    }                                                                                   \
  } while (0)
