// ROCm SMI for the whole process. One QuietThread (common/quiet_thread.h) makes every call into
// the library, so what the library prints goes nowhere and the descriptors it opens stay in that
// thread's table; the library for a path is loaded once, initialised at most once (rsmi_init), and
// stays so until the process ends (the probe and the sampler share it). After fork() the child has
// no such thread: it starts a new one, and refuses ROCm SMI if the parent had initialised it (the
// library's state would point at the parent's descriptors).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "../../common/quiet_thread.h"
#include "rsmi_library.h"

namespace ct::gpu {

struct RsmiState {
  RsmiLibrary library;
  std::optional<rsmi::Status> init_result;  // set once rsmi_init has been called
  std::optional<rsmi::Version> version;     // rsmi_version_get, read with the init
};

class RsmiOwner {
 public:
  static RsmiOwner& get();

  // Runs `task` on the owner's thread and waits for it.
  void run(const std::function<void()>& task) { thread_.run(task); }

  // On the owner's thread only. The library at `path`, loaded on first use.
  RsmiState& library(const std::string& path);
  // rsmi_init(0), once per library; returns its result.
  rsmi::Status initialise(RsmiState& state);
  // Why ROCm SMI cannot be used in this process, or empty.
  const std::string& refused() const { return refused_; }

 private:
  explicit RsmiOwner(std::string refused) : refused_(std::move(refused)) {}
  QuietThread thread_;
  std::map<std::string, std::unique_ptr<RsmiState>> libraries_;
  std::string refused_;
};

}  // namespace ct::gpu
