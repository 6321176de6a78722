// safetensors: an 8-byte little-endian header length N, N bytes of JSON describing every tensor
// ({name: {dtype, shape, data_offsets}}, optional "__metadata__"), then the data. Only the
// header is read; it is checked against the reference implementation's rules.
#pragma once

#include "../common/byte_source.h"
#include "../checkpoint/checkpoint_contents.h"
#include "../common/read_limits.h"

namespace ct {

bool looks_like_safetensors(const ByteSource& source);

// How the header is read: a header laid out as safetensors' writer lays it out in one direct pass
// (any other through the JSON reader); or, for the tests and the fuzzer that check both ways agree
// and that the direct pass is taken, every header through the JSON reader, or through the direct
// pass alone (UNSUPPORTED_FORMAT "not laid out" where it gives up).
enum class HeaderReading { kLaidOutFirst, kGeneralOnly, kLaidOutOnly };
CheckpointContents read_safetensors(const ByteSource& source, const ReadLimits& limits, HeaderReading reading);
inline CheckpointContents read_safetensors(const ByteSource& source, const ReadLimits& limits) {
  return read_safetensors(source, limits, HeaderReading::kLaidOutFirst);
}

}  // namespace ct
