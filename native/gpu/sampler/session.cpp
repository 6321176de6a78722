#include "session.h"

#include <chrono>

#include "../probe.h"

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
  // Open every vendor's backend that can sample. Their driver calls happen on this thread only.
  std::vector<std::unique_ptr<gpu::Backend>> backends;
  std::string names;
  gpu::GpuReport unavailable;  // the vendors that cannot sample, and why
  for (const auto& vendor : gpu::vendors()) {
    std::unique_ptr<gpu::Backend> candidate = vendor->make_backend();
    gpu::VendorReport opened = candidate->open(options.gpu);
    if (opened.unavailable_reason.empty()) {
      names += (names.empty() ? "" : ",") + std::string(candidate->vendor());
      backends.push_back(std::move(candidate));
    } else {
      unavailable.vendors.push_back(std::move(opened));
    }
  }
  gpu::explain_unavailable(unavailable);
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->status.opened = true;
    shared->status.backend = names;
    shared->status.gpu_unavailable_reason = backends.empty() ? unavailable.unavailable_reason : "";
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
    sample.host = platform::host_memory();
    for (auto& backend : backends) {
      std::vector<gpu::DeviceSample> gpus = backend->sample(sample.tree.pids);
      sample.gpus.insert(sample.gpus.end(), std::make_move_iterator(gpus.begin()), std::make_move_iterator(gpus.end()));
    }
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
  backends.clear();  // closes the driver sessions on the thread that opened them
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
