#include "rsmi_owner.h"

#include <pthread.h>

#include <atomic>
#include <mutex>

namespace ct::gpu {
namespace {

// Leaked on purpose (the owner's thread is detached and may outlive static destruction).
std::mutex* g_mutex = nullptr;
RsmiOwner* g_owner = nullptr;
std::atomic<bool> g_initialised{false};  // some rsmi_init in this process has succeeded
bool g_forked_after_init = false;

}  // namespace

RsmiOwner& RsmiOwner::get() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mutex = new std::mutex();
    // The child of fork() has no owner thread: it makes a new one when it first needs it.
    pthread_atfork(nullptr, nullptr, [] {
      g_mutex = new std::mutex();
      g_owner = nullptr;
      g_forked_after_init = g_initialised;
    });
  });
  std::lock_guard<std::mutex> lock(*g_mutex);
  if (g_owner == nullptr) {
    g_owner = new RsmiOwner(g_forked_after_init ? "ROCm SMI was started before this process was forked and cannot be "
                                                  "used in the child"
                                                : "");
  }
  return *g_owner;
}

RsmiState& RsmiOwner::library(const std::string& path) {
  auto found = libraries_.find(path);
  if (found != libraries_.end()) return *found->second;
  auto state = std::make_unique<RsmiState>();
  state->library = RsmiLibrary::load(path);
  RsmiState& loaded = *state;
  libraries_.emplace(path, std::move(state));
  return loaded;
}

rsmi::Status RsmiOwner::initialise(RsmiState& state) {
  if (state.init_result) return *state.init_result;
  const RsmiFunctions& fn = state.library.fn;
  state.init_result = fn.init != nullptr ? fn.init(0) : rsmi::kNotSupported;
  if (*state.init_result == rsmi::kSuccess) {
    g_initialised = true;
    rsmi::Version version{};
    if (fn.version_get != nullptr && fn.version_get(&version) == rsmi::kSuccess) state.version = version;
  }
  return *state.init_result;
}

}  // namespace ct::gpu
