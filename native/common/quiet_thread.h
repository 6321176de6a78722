// A long-lived worker thread whose standard output and error go nowhere, for a library that
// prints on them from inside its calls (ROCm SMI writes "Exception caught: rsmi_init." on a host
// without the amdgpu driver). Redirecting fds 1 and 2 for the whole process would also swallow
// what every other thread writes meanwhile, so on Linux the thread takes a file-descriptor table
// of its own (unshare(CLONE_FILES)) and points 0, 1 and 2 at /dev/null there only. The table starts
// as a copy of the process's: every other descriptor in it is closed at once, or the copies would
// keep open what the process closes (a child's stdout pipe would never reach its end). Descriptors
// the library opens live in that table: every call into such a library must run on this thread. The thread blocks every signal: a handler run on it would see its table, not the
// process's (libuv's SIGCHLD handler would write to a pipe that is not there). Where the table cannot be had (another OS, a seccomp filter refusing unshare), tasks
// still run here, with the process's own stdout and stderr.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace ct {

class QuietThread {
 public:
  QuietThread();  // starts the thread (detached: a task stuck in a driver never blocks exit)
  QuietThread(const QuietThread&) = delete;
  QuietThread& operator=(const QuietThread&) = delete;

  // Runs `task` on the thread and waits until it has run.
  void run(std::function<void()> task);

  // Empty when the thread's output goes nowhere, else why it does not.
  std::string silence_error();

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> tasks;
    bool ready = false;
    std::string silence_error;
  };
  static void loop(State* state);
  State* state_;  // shared with the detached thread: never freed
};

}  // namespace ct
