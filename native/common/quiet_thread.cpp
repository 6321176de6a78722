#include "quiet_thread.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace ct {
namespace {

#if defined(__linux__)
// Closes every descriptor from 3 up in this thread's table (a copy of the process's when it was
// made): a copy kept open here would keep what the rest of the process closes open, such as the
// write end of a child's stdout pipe, whose reader would then never see the end.
void close_copied_descriptors() {
#if defined(SYS_close_range)
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;  // Linux 5.9 and newer
#endif
  // /proc/thread-self: /proc/self would list the process's table, not this thread's.
  std::vector<int> open_fds;
  if (DIR* dir = opendir("/proc/thread-self/fd")) {
    int own = dirfd(dir);
    while (struct dirent* entry = readdir(dir)) {
      int fd = std::atoi(entry->d_name);
      if (fd > 2 && fd != own) open_fds.push_back(fd);
    }
    closedir(dir);
  }
  for (int fd : open_fds) close(fd);
}
#endif

// A table of descriptors for this thread alone, with 0, 1 and 2 on /dev/null and nothing else.
// Returns why not.
std::string silence_this_thread() {
#if defined(__linux__)
  if (unshare(CLONE_FILES) != 0) return std::string("unshare(CLONE_FILES): ") + std::strerror(errno);
  close_copied_descriptors();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return std::string("/dev/null: ") + std::strerror(errno);
  dup2(null_fd, STDIN_FILENO);  // nor a copy of the process's stdin
  dup2(null_fd, STDOUT_FILENO);
  dup2(null_fd, STDERR_FILENO);
  close(null_fd);
  return "";
#else
  return "a private descriptor table needs Linux";
#endif
}

}  // namespace

QuietThread::QuietThread() : state_(new State()) {
  std::thread(loop, state_).detach();
}

void QuietThread::loop(State* state) {
  // Never the thread a process-directed signal is delivered to: a handler running here would write
  // to descriptors of this table, not the process's (libuv's SIGCHLD handler writes to a pipe
  // made after this table was copied: the child would never be reaped).
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::string error = silence_this_thread();
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->silence_error = std::move(error);
    state->ready = true;
  }
  state->wake.notify_all();
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(state->mutex);
      state->wake.wait(lock, [&] { return !state->tasks.empty(); });
      task = std::move(state->tasks.front());
      state->tasks.pop_front();
    }
    task();
    // What a library left in stdio's stdout buffer would otherwise be written by whichever
    // thread flushes next (at exit: the main thread, to the real stdout).
    std::fflush(stdout);
  }
}

void QuietThread::run(std::function<void()> task) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->tasks.push_back([task = std::move(task), done] {
      try {
        task();
        done->set_value();
      } catch (...) {
        done->set_exception(std::current_exception());  // rethrown to the caller
      }
    });
  }
  state_->wake.notify_all();
  finished.get();
}

std::string QuietThread::silence_error() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->wake.wait(lock, [&] { return state_->ready; });
  return state_->silence_error;
}

}  // namespace ct
