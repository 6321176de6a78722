#include "session.h"

#include <chrono>

namespace ct::sampler {

// What the thread and the Session share; the thread holds its own reference, so a Session
// destroyed while the thread is stuck in a driver call leaves nothing dangling.
struct Session::Shared {
  SessionOptions options;
  mutable std::mutex mutex;
  std::condition_variable wake;   // stop requests
  std::condition_variable ended;  // the thread has returned
  bool stopping = false;
  bool finished = false;
  std::deque<SystemSample> queue;
  std::vector<int> pids;
  bool pids_changed = false;
  Status status;
};

Session::Session(SessionOptions options) : shared_(std::make_shared<Shared>()) {
  shared_->options = std::move(options);
  if (shared_->options.interval_ms < 10) shared_->options.interval_ms = 10;
  shared_->pids = shared_->options.pids;
  std::thread(run, shared_).detach();
}

Session::~Session() { stop(0); }  // asks the thread to end; never waits (a finalizer may run this)

void Session::run(std::shared_ptr<Shared> shared) {
  const SessionOptions& options = shared->options;
  // Open the first backend that can sample. Its driver calls happen on this thread only.
  std::unique_ptr<gpu::Backend> backend;
  std::string reasons;
  for (std::unique_ptr<gpu::Backend>& candidate : gpu::make_backends()) {
    std::string reason = candidate->open(options.gpu);
    if (reason.empty()) {
      backend = std::move(candidate);
      break;
    }
    reasons += (reasons.empty() ? "" : "; ") + reason;
  }
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->status.opened = true;
    shared->status.backend = backend ? backend->vendor() : "";
    shared->status.gpu_unavailable_reason = backend ? "" : reasons;
  }

  ProcessTree tree(options.pids);
  tree.sample();  // the baseline for the first interval's CPU figure
  const auto interval = std::chrono::milliseconds(options.interval_ms);
  auto next = std::chrono::steady_clock::now() + interval;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(shared->mutex);
      if (shared->wake.wait_until(lock, next, [&] { return shared->stopping; })) break;
      if (shared->pids_changed) {
        tree.set_roots(shared->pids);
        shared->pids_changed = false;
      }
    }
    SystemSample sample;
    sample.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    sample.tree = tree.sample();
    sample.host = read_host_memory();
    if (backend) sample.gpus = backend->sample(sample.tree.pids);
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      shared->queue.push_back(std::move(sample));
      shared->status.samples += 1;
      while (shared->queue.size() > options.max_queued) {
        shared->queue.pop_front();
        shared->status.dropped += 1;
      }
    }
    // Keep to the grid (no drift); after a stall, skip the missed ticks instead of bursting.
    next += interval;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + interval;
  }
  backend.reset();  // closes the driver session on the thread that opened it
  std::lock_guard<std::mutex> lock(shared->mutex);
  shared->finished = true;
  shared->ended.notify_all();
}

std::vector<SystemSample> Session::drain() {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  std::vector<SystemSample> out(std::make_move_iterator(shared_->queue.begin()),
                                std::make_move_iterator(shared_->queue.end()));
  shared_->queue.clear();
  return out;
}

void Session::set_pids(std::vector<int> pids) {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->pids = std::move(pids);
  shared_->pids_changed = true;
}

void Session::stop(unsigned wait_ms) {
  std::unique_lock<std::mutex> lock(shared_->mutex);
  shared_->stopping = true;
  shared_->wake.notify_all();
  shared_->ended.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return shared_->finished; });
}

Session::Status Session::status() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->status;
}

}  // namespace ct::sampler
