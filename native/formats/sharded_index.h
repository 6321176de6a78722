// Sharded checkpoints: an `*.index.json` ({"metadata": {...}, "weight_map": {tensor: shard file}},
// as transformers writes model.safetensors.index.json and pytorch_model.bin.index.json) and the
// merge of the shards it names into one CheckpointContents. Lookups are hashed: time is linear in
// the number of entries.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../common/read_limits.h"
#include "../common/text_hash.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

struct ShardedIndex {
  std::vector<std::string> shards;                              // distinct files, first mention first
  std::unordered_map<std::string, std::uint32_t, TextHash> shard_of;      // tensor -> index into shards
  std::vector<std::uint64_t> placed;                            // per shard: tensors the map places there
};

// Parses and checks an index: a weight_map object whose values are relative paths that stay in the
// index's folder (no "..", no absolute path, no empty component). A tensor named twice keeps the
// last shard, as Python's json does. Throws CheckpointError.
ShardedIndex parse_sharded_index(std::string text, const ReadLimits& limits);

// Adds shard `shard`'s tensors to `merged`. A tensor the map places in another shard is left to
// that shard; one the map does not name is taken from the first shard that has it: every tensor
// counts once. Throws kCorrupt when the shard lacks a tensor the map places in it.
class ShardMerger {
 public:
  explicit ShardMerger(const ShardedIndex& index) : index_(index) {}
  void add(std::uint32_t shard, CheckpointContents part, CheckpointContents& merged);

 private:
  const ShardedIndex& index_;
  std::unordered_set<std::string, TextHash> unmapped_;  // names taken that the map does not name
};

}  // namespace ct
