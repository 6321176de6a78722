// libFuzzer target: any bytes as ROCR_VISIBLE_DEVICES and as HIP_VISIBLE_DEVICES (split at the
// first NUL), applied to a fixed host of four GPUs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rocm_visible_devices.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t split = input.find('\0');
  std::string rocr = input.substr(0, split);
  std::string hip = split == std::string::npos ? "" : input.substr(split + 1);
  static const std::vector<std::uint64_t> ids = {0x1a2b3c4d5e6f7081, 0x9f8e7d6c5b4a3928, 0, 0xdeadbeefdeadbeef};
  ct::gpu::RocrSelection selection = ct::gpu::apply_rocr_visible_devices(rocr, ids);
  std::vector<std::uint64_t> left;
  for (std::size_t position : selection.positions) left.push_back(ids.at(position));
  for (std::size_t position : ct::gpu::apply_hip_visible_devices(hip, left)) (void)left.at(position);
  return 0;
}
