// A long-lived sampling session on its own thread: every vendor's backend is opened once (each
// driver initialised once), then every interval one SystemSample (every GPU the watched process
// may use, of every vendor, its process tree, the host's memory) is queued for the caller to
// drain. Nothing here touches N-API: the binding drains from the JS thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../device.h"
#include "../../platform/platform.h"
#include "process_tree.h"

namespace ct::sampler {

struct SystemSample {
  double time = 0;  // unix seconds, when the sample was taken
  std::vector<gpu::DeviceSample> gpus;
  TreeStats tree;
  platform::HostMemory host;
};

struct SessionOptions {
  unsigned interval_ms = 1000;
  std::vector<int> pids;  // roots of the watched tree (empty: GPUs and host only)
  gpu::GpuOptions gpu;
  std::size_t max_queued = 3600;  // an hour at 1 s; older samples are dropped (and counted)
};

class Session {
 public:
  explicit Session(SessionOptions options);  // starts the thread
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Every sample queued since the last call, oldest first.
  std::vector<SystemSample> drain();
  void set_pids(std::vector<int> pids);
  // Stops the thread (waits for it at most `wait_ms`: a hung driver call must not hang the
  // caller; the thread then finishes on its own).
  void stop(unsigned wait_ms = 2000);

  struct Status {
    bool opened = false;        // the backend has been opened (or has failed to)
    std::string backend;        // "nvidia", "amd", "nvidia,amd", or empty when none could sample
    std::string gpu_unavailable_reason;
    std::uint64_t samples = 0;  // taken so far
    std::uint64_t dropped = 0;  // taken but pushed out of a full queue
  };
  Status status() const;

 private:
  struct Shared;
  static void run(std::shared_ptr<Shared> shared);
  std::shared_ptr<Shared> shared_;
};

}  // namespace ct::sampler
