// What the addon knows about GPUs, whatever their vendor: the facts a vendor's library gives about
// the host (VendorReport), what the sampler reads at one instant (DeviceSample), and the two
// interfaces a vendor implements (Vendor for the probe, Backend for the sampler). Each vendor is a
// folder beside this file (nvidia/, amd/) and one line in backends.cpp; nothing above native/gpu
// names a vendor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ct::gpu {

// What every vendor reads. Both maps come from the caller as they are; a vendor picks its keys.
struct GpuOptions {
  // This process's own settings: the CONFIG_TRACKER_* variables (library overrides) and ROCM_PATH.
  std::map<std::string, std::string> settings;
  // The watched process's environment: its visibility variables decide which GPUs it may use.
  std::map<std::string, std::string> environment;
  unsigned timeout_ms = 10000;  // bound on waiting for a vendor library's initialisation

  std::optional<std::string> setting(const std::string& name) const;
  std::optional<std::string> variable(const std::string& name) const;
};

// One GPU as the vendor's library describes it.
struct GpuInfo {
  unsigned physical_index = 0;          // as the vendor's tool numbers it (nvidia-smi, rocm-smi)
  std::optional<unsigned> mig_slot;     // NVIDIA MIG devices: slot within the parent
  std::optional<std::string> name;
  std::optional<std::string> uuid;
  std::optional<std::uint64_t> memory_total_bytes;
  std::optional<int> compute_capability_major;  // NVIDIA
  std::optional<int> compute_capability_minor;
  std::optional<std::string> pci_bus_id;
  std::optional<std::string> serial;
  std::optional<std::string> vbios_version;
  std::optional<bool> mig_mode;              // NVIDIA; null when the driver cannot say
  std::optional<std::string> parent_uuid;    // MIG devices: the physical GPU's UUID
  std::string error;                         // why the device could not be read
  std::vector<GpuInfo> mig_devices;          // physical GPUs in MIG mode: their MIG devices
};

// A GPU the watched process may use, with the ordinal its runtime (CUDA, HIP) gives it there.
struct VisibleGpu {
  int index = 0;
  GpuInfo info;
};

// The version of the vendor's compute runtime the driver offers ("cuda" "13.0" 13000, "hip"
// "6.2.41133" 60241133).
struct RuntimeVersion {
  std::string name;
  std::string version;
  std::optional<long long> number;
};

// One vendor's answer: what the host has and what the watched process may use.
struct VendorReport {
  std::string vendor;                   // "nvidia", "amd"
  std::string library_path;             // the library asked, as it was found or named
  bool library_loaded = false;
  std::optional<int> init_result;       // the library's initialisation result, when it was called
  // The vendor's driver is on this host (its library loaded, its kernel device exists, or it was
  // named explicitly): its reason is the one that matters when no GPU is usable.
  bool driver_present = false;
  std::string unavailable_code;         // empty when at least one GPU is visible
  std::string unavailable_reason;
  std::optional<std::string> driver_version;
  std::optional<RuntimeVersion> runtime;
  unsigned host_gpu_count = 0;
  std::vector<GpuInfo> gpus;            // what the host has, in the vendor tool's order
  // Positions into `gpus` in the order the vendor's runtime enumerates them before any
  // visibility variable applies; empty when it is the order of `gpus`.
  std::vector<std::size_t> runtime_order;
  std::vector<VisibleGpu> visible;      // what the watched process may use, in its runtime's order
};

// Every vendor's answer, and why no GPU is usable when none is.
struct GpuReport {
  std::vector<VendorReport> vendors;
  std::string unavailable_code;
  std::string unavailable_reason;
};

// A process using a GPU, as the driver lists it.
struct ProcessMemory {
  int pid = 0;
  std::optional<std::uint64_t> used_bytes;  // null: the driver would not say (no permission)
  bool in_tree = false;                     // one of the watched process tree's pids
};

struct DeviceSample {
  std::string vendor;
  int index = 0;  // the runtime's ordinal for the watched process (visibility applied)
  std::string uuid;
  std::string name;
  bool lost = false;  // stopped answering (fell off the bus): recorded, the others go on
  std::string error;  // why this sample is empty or partial, when it is

  std::optional<double> utilization_gpu_percent;     // share of time a kernel ran
  std::optional<double> utilization_memory_percent;  // share of time memory was read or written
  std::optional<std::uint64_t> memory_used_bytes;
  std::optional<std::uint64_t> memory_total_bytes;
  std::optional<double> power_watts;
  std::optional<double> power_limit_watts;
  std::optional<double> temperature_c;
  std::string temperature_sensor;                    // AMD: "edge", or "junction" where edge is absent
  std::optional<double> sm_clock_mhz;                // NVIDIA's SM clock, AMD's SCLK
  std::optional<double> memory_clock_mhz;            // AMD's MCLK
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

// A sample of one device with its names; the backend fills the readings.
inline DeviceSample named_sample(const char* vendor, int index, const std::string& uuid, const std::string& name) {
  DeviceSample sample;
  sample.vendor = vendor;
  sample.index = index;
  sample.uuid = uuid;
  sample.name = name;
  return sample;
}

// One vendor's sampler: opened once on the sampler's thread, then asked every interval.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* vendor() const = 0;
  // Loads the vendor's library and finds the devices the watched process may use. Returns what
  // the library said: an empty unavailable_reason when it can sample, else why not
  // ("libnvidia-ml.so.1 not found"), a normal answer, not an error.
  virtual VendorReport open(const GpuOptions& options) = 0;
  // One sample of every device; `tree` holds the watched processes' pids.
  virtual std::vector<DeviceSample> sample(const std::set<int>& tree) = 0;
};

// One vendor, as the probe and the sampler see it.
class Vendor {
 public:
  virtual ~Vendor() = default;
  virtual const char* name() const = 0;
  // What its library is called in messages ("NVML"), and the prefix of its codes ("NVML").
  virtual const char* library_title() const = 0;
  virtual const char* code_prefix() const = 0;
  // The inputs the host query depends on (library paths): the probe queries once per key and
  // process.
  virtual std::string host_key(const GpuOptions& options) const = 0;
  // Loads the library and reads what the host has. Blocking; the probe runs it on a thread of
  // its own and never waits longer than options.timeout_ms.
  virtual VendorReport query_host(const GpuOptions& options) const = 0;
  // Fills `report.visible` from the watched process's environment, and says why when it is empty.
  virtual void select_visible(VendorReport& report, const GpuOptions& options) const = 0;
  virtual std::unique_ptr<Backend> make_backend() const = 0;
};

// Every vendor this build knows, in the order they are reported (backends.cpp).
const std::vector<std::unique_ptr<Vendor>>& vendors();

}  // namespace ct::gpu
