// torch.distributed.checkpoint folders: the `.metadata` pickle describes every tensor's global
// size and dtype; counts come from it alone, never from the __<rank>_<n>.distcp shards.
#pragma once

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

CheckpointContents read_distributed_metadata(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
