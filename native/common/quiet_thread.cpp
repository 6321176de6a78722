#include "quiet_thread.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "../platform/platform.h"

namespace ct {

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
  std::string error = platform::silence_thread_descriptors();
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
