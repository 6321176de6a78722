// inspect_checkpoint: any supported file or folder -> ModelInfo, with the counting rules
// (tied weights once, buffers apart, optimizer state for trainability) and the architecture.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../checkpoint/checkpoint_contents.h"
#include "architecture.h"
#include "../common/byte_source.h"
#include "../common/read_limits.h"

namespace ct {

struct ModelInfo {
  std::string type;
  std::string format;
  std::uint64_t num_parameters = 0;
  std::uint64_t num_trainable_parameters = 0;
  std::uint64_t num_buffer_elements = 0;
  std::uint64_t num_tensors = 0;
  std::uint64_t parameter_bytes = 0;
  std::vector<std::pair<std::string, std::uint64_t>> dtypes;  // elements per dtype, params and buffers
  bool exact = false;
  std::string exact_reason;  // why the counts are (or are not) exact, in one sentence
  // Classes outside torch's weights_only allow list the file instantiates: torch.load(path,
  // weights_only=True) refuses it unless they are allowed (empty: it loads).
  std::vector<std::string> classes_needed;
  std::optional<std::string> state_dict_key;
  ArchitectureFields architecture;
  std::string source;
  std::vector<std::string> files;
  std::uint64_t bytes_read = 0;
};

// Applies the counting rules to what a reader found.
ModelInfo summarize(CheckpointContents contents);

// Reads `path` (a checkpoint file, an *.index.json, or a folder: Hugging Face model folder,
// torch.distributed.checkpoint folder). Throws CheckpointError whose message names the file.
ModelInfo inspect_checkpoint(const std::string& path, const ReadLimits& limits = {});

// For fuzzing and tests: one file's bytes, format detected from them.
CheckpointContents read_checkpoint_bytes(const ByteSource& source, const ReadLimits& limits = {});

}  // namespace ct
