// What ROCm SMI says about this host's AMD GPUs, and which of them ROCR_VISIBLE_DEVICES and
// HIP_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES leave to a process. Every library call runs on the
// RsmiOwner's quiet thread (rsmi_owner.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../device.h"
#include "rsmi_library.h"

namespace ct::gpu {

// CONFIG_TRACKER_ROCM_SMI_LIBRARY alone when set, else the places ROCm and distributions install it.
std::vector<std::string> rocm_smi_candidates(const GpuOptions& options);
// CONFIG_TRACKER_HIP_LIBRARY alone when set, else libamdhip64 where ROCm installs it.
std::vector<std::string> hip_candidates(const GpuOptions& options);

// Loads ROCm SMI and reads every GPU (and, with `with_runtime`, the HIP runtime's version). The
// library is started (rsmi_init) only where the kernel shows an AMD GPU (/dev/kfd,
// /sys/class/kfd) or when CONFIG_TRACKER_ROCM_SMI_LIBRARY names it: on a host without the amdgpu
// driver rsmi_init only fails, after printing its complaints.
VendorReport query_amd_host(const GpuOptions& options, bool with_runtime = true);

// Fills report.visible: ROCR_VISIBLE_DEVICES on the GPUs in the runtime's order, then HIP's list.
void select_amd_visible(VendorReport& report, const GpuOptions& options);

// The runtime numbers GPUs in KFD topology order (kfd_gpu_unique_ids); ROCm SMI lists them in its
// own (by PCI address in recent releases). Positions into `gpus` in KFD's order, matched by unique
// id; empty (ROCm SMI's order stands) when they do not match one to one.
std::vector<std::size_t> kfd_order(const std::vector<GpuInfo>& gpus, const std::vector<std::uint64_t>& kfd_ids);

// The unique id a GPU's uuid ("GPU-" and 16 hex digits) carries.
std::optional<std::uint64_t> unique_id_of(const GpuInfo& gpu);

}  // namespace ct::gpu
