// What the NVIDIA driver says about this host's GPUs, and which of them CUDA_VISIBLE_DEVICES
// leaves to this process. Pure C++: the binding converts GpuReport to JS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nvml_library.h"

namespace ct {

struct GpuInfo {
  unsigned nvml_index = 0;                   // physical index (for MIG devices: the parent's)
  std::optional<unsigned> mig_slot;          // MIG devices: slot within the parent
  std::optional<std::string> name;
  std::optional<std::string> uuid;
  std::optional<std::uint64_t> memory_total_bytes;
  std::optional<int> compute_capability_major;
  std::optional<int> compute_capability_minor;
  std::optional<std::string> pci_bus_id;
  std::optional<bool> mig_mode;              // null when the driver cannot say
  std::optional<std::string> parent_uuid;    // MIG devices: the physical GPU's UUID
  std::string error;                         // why the device's handle could not be had
  std::vector<GpuInfo> mig_devices;          // physical GPUs in MIG mode: their MIG devices
};

// The static part: what the host has. Cached once per process (and again after a fork).
struct HostGpus {
  std::string library_path;
  bool library_loaded = false;
  std::optional<int> init_result;       // nvmlInit's return, when it was called
  std::string unavailable_code;         // empty when NVML answered
  std::string unavailable_reason;
  std::optional<std::string> driver_version;
  std::optional<int> cuda_driver_version;  // 12040
  unsigned host_gpu_count = 0;
  std::vector<GpuInfo> gpus;            // physical GPUs, NVML order
};

struct VisibleGpu {
  int cuda_index = 0;
  GpuInfo info;
};

struct GpuReport {
  HostGpus host;
  std::vector<VisibleGpu> visible;
  std::string unavailable_code;    // empty when at least one GPU is visible
  std::string unavailable_reason;
};

struct ProbeOptions {
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string cuda_library = "libcuda.so.1";
  std::optional<std::string> cuda_visible_devices;  // nullopt: variable unset
  unsigned timeout_ms = 10000;                       // bound on NVML initialisation
};

// Loads NVML, initialises it and reads every physical GPU (no caching; used by probe_gpus and
// by tests against a stand-in library).
HostGpus query_host_gpus(const NvmlLibrary& nvml, const std::string& cuda_library);

// Applies CUDA_VISIBLE_DEVICES to what the host has. A GPU in MIG mode is used through its MIG
// devices, so it stands for them in CUDA's enumeration.
std::vector<VisibleGpu> select_visible_gpus(const HostGpus& host,
                                            const std::optional<std::string>& cuda_visible_devices);

// The whole probe: cached host query (initialised off the calling thread, waited for at most
// timeout_ms), then visibility. Never throws for driver trouble: reasons come back as data.
GpuReport probe_gpus(const ProbeOptions& options);

}  // namespace ct
