// Which AMD GPUs a process sees, as the ROCm runtimes decide it: first the ROCm runtime (ROCr)
// applies ROCR_VISIBLE_DEVICES to the GPUs in KFD topology order, then HIP applies
// HIP_VISIBLE_DEVICES (or, when that is unset or empty, CUDA_VISIBLE_DEVICES) to what is left,
// and numbers the result from 0 (torch.cuda's device index on ROCm). The rules are the runtimes'
// own code, which differs from CUDA's in places:
//   ROCr (rocr-runtime, core/runtime/amd_filter_device.cpp, RvdFilter): set but empty hides every
//   GPU; entries are trimmed and upper-cased; only the first min(GPUs, entries) entries count; an
//   entry starting with 'G' is a UUID ("GPU-" + 16 hex digits of the unique id), 5 to 20
//   characters, matching the start of exactly one GPU's; any other entry is a whole strtol(, 0)
//   number (so "0x1" is 1); an invalid, unknown, ambiguous or repeated entry ends the list; an
//   empty entry makes the runtime fail to start (no GPU at all).
//   HIP (clr, rocclr/device/rocm/rocdevice.cpp): an entry containing "GPU-" is looked up as a
//   substring of each GPU's UUID, first match wins; otherwise (or if no GPU matches) it must be
//   a plain decimal index ("01", "+1" and " 1" are invalid); an invalid or out-of-range entry ends
//   the list; a repeated index is skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ct::gpu {

// The UUID string ROCm gives a GPU (HSA_AMD_AGENT_INFO_UUID): "GPU-" and the unique id as 16
// lower-case hex digits; "GPU-XX" for a GPU without one.
std::string rocm_uuid(std::uint64_t unique_id);

struct RocrSelection {
  std::vector<std::size_t> positions;  // into the GPUs given, in the order the runtime surfaces them
  bool runtime_fails = false;          // an empty entry: ROCr throws while parsing and does not start
};

// ROCR_VISIBLE_DEVICES (nullopt: unset) on GPUs given by unique id, in KFD topology order.
RocrSelection apply_rocr_visible_devices(const std::optional<std::string>& value,
                                         const std::vector<std::uint64_t>& unique_ids);

// HIP's list (HIP_VISIBLE_DEVICES, else CUDA_VISIBLE_DEVICES; nullopt or empty: every GPU) on the
// GPUs ROCr left, by unique id in ROCr's order. Returns positions into them, in HIP's order.
std::vector<std::size_t> apply_hip_visible_devices(const std::optional<std::string>& value,
                                                   const std::vector<std::uint64_t>& unique_ids);

}  // namespace ct::gpu
