// CUDA_VISIBLE_DEVICES, read the way CUDA reads it. The rules follow PyTorch's
// _parse_visible_devices / _transform_uuid_to_ordinals (torch/cuda/__init__.py), which mirror the
// driver: an invalid entry ends the list, a repeated entry empties it, UUID prefixes must match
// exactly one device.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ct {

struct VisibleDevicesSpec {
  enum class Kind {
    kAll,       // variable unset: every device
    kOrdinals,  // "0,2": NVML indices
    kGpuUuids,  // "GPU-9e8d35e3,...": prefixes of GPU UUIDs
    kMigUuids,  // "MIG-...": prefixes of MIG device UUIDs
  };
  Kind kind = Kind::kAll;
  std::vector<long long> ordinals;
  std::vector<std::string> uuid_prefixes;
};

// Parses the variable's value; std::nullopt means the variable is unset.
VisibleDevicesSpec parse_visible_devices(const std::optional<std::string>& value);

// Ordinals -> device positions: the list stops at the first ordinal >= device_count.
std::vector<std::size_t> resolve_ordinals(const std::vector<long long>& ordinals,
                                          std::size_t device_count);

// UUID prefixes -> positions in `uuids`: the list stops at the first prefix that matches no
// device or more than one; a device named twice empties the list.
std::vector<std::size_t> resolve_uuid_prefixes(const std::vector<std::string>& prefixes,
                                               const std::vector<std::string>& uuids);

}  // namespace ct
