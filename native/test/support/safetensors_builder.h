// Builds safetensors files for tests: a header (any JSON text, so hostile headers can be written)
// with its u64 length in front and `data_bytes` zero bytes after it.
#pragma once

#include <cstdint>
#include <string>

namespace ct::test {

inline std::string safetensors_file(const std::string& header, std::uint64_t data_bytes) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

// {"name": {"dtype": D, "shape": S, "data_offsets": [B, E]}} as JSON text.
inline std::string tensor_entry(const std::string& name, const std::string& dtype, const std::string& shape,
                                std::uint64_t begin, std::uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace ct::test
