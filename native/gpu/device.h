// What the sampler knows about a GPU at one instant, whatever its vendor, and the interface a
// vendor backend implements. The NVIDIA backend (nvidia/nvml_backend.h) is the only one today;
// an AMD one (ROCm SMI / amdsmi, loaded with dlopen the same way) is a new folder next to
// nvidia/ and one line in backends.cpp, nothing else.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ct::gpu {

// A process using a GPU, as the driver lists it.
struct ProcessMemory {
  int pid = 0;
  std::optional<std::uint64_t> used_bytes;  // null: the driver would not say (no permission)
  bool in_tree = false;                     // one of the watched process tree's pids
};

struct DeviceSample {
  int index = 0;  // as CUDA numbers it for the watched process (CUDA_VISIBLE_DEVICES applied)
  std::string uuid;
  std::string name;
  bool lost = false;  // fell off the bus (NVML_ERROR_GPU_IS_LOST): not sampled any more
  std::string error;  // why this sample is empty or partial, when it is

  std::optional<double> utilization_gpu_percent;     // share of time a kernel ran
  std::optional<double> utilization_memory_percent;  // share of time memory was read or written
  std::optional<std::uint64_t> memory_used_bytes;
  std::optional<std::uint64_t> memory_total_bytes;
  std::optional<double> power_watts;
  std::optional<double> power_limit_watts;
  std::optional<double> temperature_c;
  std::optional<double> sm_clock_mhz;
  std::optional<std::uint64_t> clock_event_reasons;  // the vendor's bit mask
  std::vector<std::string> clock_event_reason_names;

  // GPU memory held by the watched process tree; null (with a note) when it cannot be told.
  std::optional<std::uint64_t> tree_memory_bytes;
  std::string tree_memory_note;
  std::vector<ProcessMemory> processes;

  // What the SMs did over the last interval (NVIDIA GPM, Hopper and newer); null with a reason
  // where the device or driver cannot say.
  std::optional<double> sm_active_percent;
  std::optional<double> sm_occupancy_percent;
  std::optional<double> tensor_active_percent;
  std::optional<double> dram_bandwidth_percent;
  std::string activity_unavailable_reason;
};

struct BackendOptions {
  std::string nvml_library = "libnvidia-ml.so.1";
  std::optional<std::string> cuda_visible_devices;  // the watched process's; nullopt: unset
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* vendor() const = 0;
  // Loads the vendor's library and finds the devices the watched process may use. Returns an
  // empty string when it can sample, else why not ("libnvidia-ml.so.1 not found"): a normal
  // answer, not an error. Called once, on the sampler's thread.
  virtual std::string open(const BackendOptions& options) = 0;
  // One sample of every device; `tree` holds the watched processes' pids.
  virtual std::vector<DeviceSample> sample(const std::set<int>& tree) = 0;
};

// Every backend this build knows, in the order they are tried.
std::vector<std::unique_ptr<Backend>> make_backends();

}  // namespace ct::gpu
