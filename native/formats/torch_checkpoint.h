// PyTorch's own formats: torch.save zip archives (state dicts, training checkpoints, whole
// pickled modules), TorchScript archives, the legacy pre-1.6 stream, and the `.metadata` of a
// torch.distributed.checkpoint folder. Only the archive directory, data.pkl and small side files
// are read.
#pragma once

#include <cstdint>

#include "../common/byte_source.h"
#include "../model/checkpoint_contents.h"

namespace ct {

struct ReadLimits {
  std::uint64_t max_pickle_bytes = 256ull << 20;  // data.pkl / .metadata
  std::uint64_t max_code_bytes = 64ull << 20;     // TorchScript code/ files read, in total
  std::uint64_t max_json_bytes = 100ull << 20;    // safetensors header (its reference limit), index.json
  std::uint64_t legacy_first_read = 1ull << 20;   // legacy format: the head read first, grown x4 as needed
};

bool is_legacy_torch(const ByteSource& source);

CheckpointContents read_torch_zip(const ByteSource& source, const ReadLimits& limits);
CheckpointContents read_torch_legacy(const ByteSource& source, const ReadLimits& limits);
CheckpointContents read_distributed_metadata(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
