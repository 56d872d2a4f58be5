// Entry point shared by every C++ unit-test binary.
#include "check.hpp"

int main(int argc, char** argv) {
  return monoceros::testing::run_all(argc, argv);
}
