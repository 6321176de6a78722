// safetensors: an 8-byte little-endian header length N, N bytes of JSON describing every tensor
// ({name: {dtype, shape, data_offsets}}, optional "__metadata__"), then the data. Only the
// header is read; it is checked against the reference implementation's rules.
#pragma once

#include "../common/byte_source.h"
#include "../model/checkpoint_contents.h"
#include "../common/read_limits.h"

namespace ct {

bool looks_like_safetensors(const ByteSource& source);
CheckpointContents read_safetensors(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
