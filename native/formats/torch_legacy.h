// The legacy torch.save stream (before torch 1.6): pickled magic, protocol, sys_info, the object,
// the sorted storage keys, then per storage an int64 element count and its bytes.
#pragma once

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

bool is_legacy_torch(const ByteSource& source);
CheckpointContents read_torch_legacy(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
