// The GPU vendors this build knows, in the order they are reported. A new vendor is a folder
// beside nvidia/ implementing gpu::Vendor and gpu::Backend, and one line here.
#include "amd/vendor.h"
#include "device.h"
#include "nvidia/vendor.h"

namespace ct::gpu {

const std::vector<std::unique_ptr<Vendor>>& vendors() {
  // Leaked on purpose: probe threads may still run while the process exits.
  static const auto* list = [] {
    auto* all = new std::vector<std::unique_ptr<Vendor>>();
    all->push_back(make_nvidia_vendor());
    all->push_back(make_amd_vendor());
    return all;
  }();
  return *list;
}

}  // namespace ct::gpu
