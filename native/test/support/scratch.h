// A scratch folder of this test process's own under the build folder: ctest -j runs a binary's
// tests side by side, each in its own process, and each writes scenarios and logs there.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <string>

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    mkdir(TEST_SCRATCH_DIR, 0755);
    std::string own = std::string(TEST_SCRATCH_DIR) + "/" + std::to_string(getpid());
    mkdir(own.c_str(), 0755);
    return own;
  }();
  return dir;
}
