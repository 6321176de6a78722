// libFuzzer target: any bytes as a sharded checkpoint's *.index.json. An accepted index must name
// only shards that stay in its folder, and its per-shard counts must add up to its entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "checkpoint_error.h"
#include "sharded_index.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ct::ShardedIndex index = ct::parse_sharded_index(std::string(reinterpret_cast<const char*>(data), size), {});
    std::uint64_t placed = 0;
    for (std::uint64_t n : index.placed) placed += n;
    if (placed != index.shard_of.size() || index.placed.size() != index.shards.size()) std::abort();
    for (const std::string& shard : index.shards) {
      std::string padded = "/" + shard + "/";
      if (shard.empty() || shard[0] == '/' || padded.find("/../") != std::string::npos ||
          padded.find("/./") != std::string::npos || padded.find("//") != std::string::npos) {
        std::abort();
      }
    }
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
