// The GPU vendors this build can sample, in the order they are tried. A new vendor is a new
// folder beside nvidia/ implementing gpu::Backend, and one line here.
#include "device.h"
#include "nvidia/nvml_backend.h"

namespace ct::gpu {

std::vector<std::unique_ptr<Backend>> make_backends() {
  std::vector<std::unique_ptr<Backend>> backends;
  backends.push_back(std::make_unique<NvmlBackend>());
  return backends;
}

}  // namespace ct::gpu
