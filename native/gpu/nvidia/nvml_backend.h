// The NVIDIA side of the sampler: NVML opened once (on the sampler's thread), the devices the
// watched process may use found with the probe's own CUDA_VISIBLE_DEVICES rules, then every
// interval each device's utilisation, memory, power, temperature, SM clock, clock-event
// reasons, the processes on it, and GPM's SM / tensor / DRAM activity where the GPU has GPM.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../device.h"
#include "nvml_library.h"

namespace ct::gpu {

class NvmlBackend : public Backend {
 public:
  NvmlBackend() = default;
  ~NvmlBackend() override;
  NvmlBackend(const NvmlBackend&) = delete;
  NvmlBackend& operator=(const NvmlBackend&) = delete;

  const char* vendor() const override { return "nvidia"; }
  VendorReport open(const GpuOptions& options) override;
  std::vector<DeviceSample> sample(const std::set<int>& tree) override;

 private:
  struct Device {
    int index = 0;
    std::string uuid;
    std::string name;
    nvml::Device handle = nullptr;
    bool is_mig = false;
    bool lost = false;
    nvml::GpmSample gpm_previous = nullptr;
    nvml::GpmSample gpm_current = nullptr;
    std::string gpm_unavailable_reason;  // empty when GPM is sampled
  };

  void open_gpm(Device& device);
  void read_gpm(Device& device, DeviceSample& out);
  void read_processes(Device& device, const std::set<int>& tree, DeviceSample& out);

  NvmlLibrary nvml_;
  bool initialised_ = false;
  std::vector<Device> devices_;
  std::unique_ptr<nvml::GpmMetricsGet> gpm_request_;  // ~20 KB: one, reused
};

// Names of the bits of nvmlDeviceGetCurrentClocksEventReasons' mask.
std::vector<std::string> clock_event_reason_names(unsigned long long reasons);

}  // namespace ct::gpu
