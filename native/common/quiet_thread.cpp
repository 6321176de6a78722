#include "quiet_thread.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <memory>
#include <thread>

namespace ct {
namespace {

// A table of descriptors for this thread alone, with 1 and 2 on /dev/null. Returns why not.
std::string silence_this_thread() {
#if defined(__linux__)
  if (unshare(CLONE_FILES) != 0) return std::string("unshare(CLONE_FILES): ") + std::strerror(errno);
  int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return std::string("/dev/null: ") + std::strerror(errno);
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
