// AMD GPUs through ROCm SMI (and libamdhip64 for the HIP version), as a gpu::Vendor.
#pragma once

#include <memory>

#include "../device.h"

namespace ct::gpu {

std::unique_ptr<Vendor> make_amd_vendor();

}  // namespace ct::gpu
