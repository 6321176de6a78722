// What reading a safetensors file gives, as one comparable line: "ok|name dtype numel bits [dims,]"
// per tensor, or "CODE: message". The test and the fuzzer that check the direct pass against the
// JSON reader compare these.
#pragma once

#include <cstdint>
#include <string>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "safetensors.h"

namespace ct::test {

inline std::string safetensors_outcome(const ByteSource& source, HeaderReading reading) {
  try {
    CheckpointContents c = read_safetensors(source, {}, reading);  // no budget: the two ways charge it differently
    std::string out = "ok";
    for (const TensorRecord& t : c.tensors) {
      out += "|" + std::string(t.name) + " " + t.dtype + " " + std::to_string(t.numel) + " " + std::to_string(t.element_bits) + " [";
      for (std::int64_t d : t.shape) out += std::to_string(d) + ",";
      out += "]";
    }
    return out;
  } catch (const CheckpointError& error) {
    return std::string(error_code_name(error.code())) + ": " + error.what();
  }
}

}  // namespace ct::test
