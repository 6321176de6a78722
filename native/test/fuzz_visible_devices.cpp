// libFuzzer target: any bytes as CUDA_VISIBLE_DEVICES, resolved against a fixed host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "visible_devices.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  ct::VisibleDevicesSpec spec = ct::parse_visible_devices(value);
  static const std::vector<std::string> uuids = {"GPU-9942190a-aa31", "GPU-9e8d35e3-a134", "MIG-1c20e77d"};
  ct::resolve_ordinals(spec.ordinals, 3);
  ct::resolve_uuid_prefixes(spec.uuid_prefixes, uuids);
  return 0;
}
