// NVIDIA GPUs through NVML (and the CUDA driver for its version), as a gpu::Vendor.
#pragma once

#include <memory>

#include "../device.h"

namespace ct::gpu {

std::unique_ptr<Vendor> make_nvidia_vendor();

}  // namespace ct::gpu
