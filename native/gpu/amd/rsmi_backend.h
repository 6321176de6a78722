// The AMD side of the sampler: ROCm SMI opened once, the GPUs the watched process may use found
// with the probe's own ROCm visibility rules, then every interval each GPU's busy and memory-busy
// percentages, VRAM used and total, power and power cap, temperature, SCLK and MCLK, and the
// processes on it with their VRAM. Every call runs on the RsmiOwner's quiet thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "../device.h"
#include "rsmi_owner.h"

namespace ct::gpu {

class RsmiBackend : public Backend {
 public:
  const char* vendor() const override { return "amd"; }
  VendorReport open(const GpuOptions& options) override;
  std::vector<DeviceSample> sample(const std::set<int>& tree) override;

 private:
  struct Device {
    int index = 0;                  // HIP's ordinal in the watched process
    std::uint32_t smi_index = 0;    // ROCm SMI's
    std::string uuid;
    std::string name;
    bool answered = false;          // has answered at least once
  };
  struct ProcessUse;

  void read_device(Device& device, DeviceSample& out) const;
  std::optional<double> clock_mhz(std::uint32_t smi_index, std::uint32_t clock) const;
  std::vector<ProcessUse> list_processes(std::string& note) const;

  RsmiState* state_ = nullptr;  // owned by the RsmiOwner, for the life of the process
  bool frequencies_v2_ = false;
  std::vector<Device> devices_;
};

}  // namespace ct::gpu
