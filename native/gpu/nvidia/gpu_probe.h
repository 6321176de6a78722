// What the NVIDIA driver says about this host's GPUs (NVML), and which of them
// CUDA_VISIBLE_DEVICES leaves to a process. The probe's caching and time bound are vendor-neutral
// (../probe.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "../device.h"
#include "nvml_library.h"

namespace ct::gpu {

// The libraries to open: CONFIG_TRACKER_NVML_LIBRARY / CONFIG_TRACKER_CUDA_LIBRARY, else the sonames.
std::string nvml_library_path(const GpuOptions& options);
std::string cuda_library_path(const GpuOptions& options);

// Initialises NVML and reads every physical GPU; the CUDA version comes from NVML, else from
// cuDriverGetVersion in `cuda_library` (empty: not asked).
VendorReport query_host_gpus(const NvmlLibrary& nvml, const std::string& cuda_library);

// Applies CUDA_VISIBLE_DEVICES (nullopt: unset) to the host's GPUs. A GPU in MIG mode is used
// through its MIG devices, so it stands for them in CUDA's enumeration.
std::vector<VisibleGpu> select_visible_gpus(const std::vector<GpuInfo>& gpus,
                                            const std::optional<std::string>& cuda_visible_devices);

}  // namespace ct::gpu
