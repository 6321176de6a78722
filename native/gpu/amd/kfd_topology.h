// What the amdgpu kernel driver shows of its GPUs through KFD (the kernel side of ROCm), read from
// sysfs as the ROCm runtime reads it: whether there is an AMD GPU at all, and the order in which
// the runtime numbers GPUs (KFD topology nodes with SIMDs, by node number).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ct::gpu {

// /dev/kfd or /sys/class/kfd exists under `root` ("" for the real file system).
bool kfd_present(const std::string& root = "");

// The unique ids of the GPU nodes in `root`/sys/class/kfd/kfd/topology/nodes, by node number;
// nullopt when the topology cannot be read.
std::optional<std::vector<std::uint64_t>> kfd_gpu_unique_ids(const std::string& root = "");

// One node's properties file: the value of `key` ("simd_count 304" -> 304), nullopt when absent.
std::optional<std::uint64_t> kfd_property(const std::string& properties, const std::string& key);

}  // namespace ct::gpu
