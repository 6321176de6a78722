// Element types as torch names them, with their sizes in bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ct {

struct DtypeInfo {
  const char* name;     // torch's name
  std::uint32_t bits;
};

// torch.FloatStorage -> float32, torch.cuda.HalfStorage -> float16, ... (nullptr when unknown).
// UntypedStorage is byte-sized with no dtype: name "" and 8 bits.
const DtypeInfo* dtype_from_storage_class(std::string_view class_name);
// torch.float32 / torch.half / ... as a pickled global name.
const DtypeInfo* dtype_from_torch_name(std::string_view name);
// safetensors' "F32", "BF16", "F8_E4M3", ...
const DtypeInfo* dtype_from_safetensors(std::string_view code);

}  // namespace ct
