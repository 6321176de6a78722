// PyTorch's own formats: torch.save zip archives (state dicts, training checkpoints, whole
// pickled modules), TorchScript archives, the legacy pre-1.6 stream, and the `.metadata` of a
// torch.distributed.checkpoint folder. Only the archive directory, data.pkl and small side files
// are read.
#pragma once

#include <cstdint>

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../model/checkpoint_contents.h"

namespace ct {

bool is_legacy_torch(const ByteSource& source);

CheckpointContents read_torch_zip(const ByteSource& source, const ReadLimits& limits);
CheckpointContents read_torch_legacy(const ByteSource& source, const ReadLimits& limits);
CheckpointContents read_distributed_metadata(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
