// Test helper: fds 1 and 2 of the whole process pointed at files for a while, to see what reached
// them.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace ct_test {

// Points fd 1 and 2 of the whole process at files while alive.
class CapturedOutput {
 public:
  CapturedOutput() {
    mkdir(TEST_SCRATCH_DIR, 0755);
    for (int fd : {1, 2}) {
      std::fflush(fd == 1 ? stdout : stderr);
      saved_[fd - 1] = dup(fd);
      std::string path = std::string(TEST_SCRATCH_DIR) + "/captured" + std::to_string(fd) + ".txt";
      int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(file, fd);
      close(file);
      paths_[fd - 1] = path;
    }
  }
  ~CapturedOutput() { restore(); }
  void restore() {
    if (saved_[0] < 0) return;
    std::fflush(stdout);
    std::fflush(stderr);
    for (int fd : {1, 2}) {
      dup2(saved_[fd - 1], fd);
      close(saved_[fd - 1]);
    }
    saved_[0] = saved_[1] = -1;
  }
  std::string text(int fd) const {
    std::ifstream in(paths_[fd - 1]);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

 private:
  int saved_[2] = {-1, -1};
  std::string paths_[2];
};

}  // namespace ct_test
