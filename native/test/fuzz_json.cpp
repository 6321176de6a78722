// libFuzzer target: any bytes as JSON (safetensors headers, index files, config.json).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checkpoint_error.h"
#include "json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ct::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "input");
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
