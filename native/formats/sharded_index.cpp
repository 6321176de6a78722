#include "sharded_index.h"

#include "../common/checkpoint_error.h"
#include "../containers/json_reader.h"

namespace ct {
namespace {

// A shard must be a file in (or under) the index's folder: relative, no "." or ".." component,
// no empty component, no NUL.
bool stays_in_folder(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.find('\0') != std::string::npos) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = path.find('/', start);
    std::string_view part(path.data() + start, (slash == std::string::npos ? path.size() : slash) - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

ShardedIndex parse_sharded_index(std::string text, const ReadLimits& limits) {
  JsonDocument doc(std::move(text), "the index", limits);
  std::optional<JsonValue> map = doc.root().get("weight_map");
  if (!map || !map->is_object()) fail(ErrorCode::kUnsupportedFormat, "an index.json without a weight_map object");
  ShardedIndex index;
  std::unordered_map<std::string, std::uint32_t, TextHash> shard_number;
  for (JsonMember entry : map->members()) {
    std::string tensor = entry.key.text();
    if (!entry.value.is_string()) fail(ErrorCode::kCorrupt, "weight_map entry " + tensor + " is not a file name");
    std::string shard = entry.value.text();
    if (!stays_in_folder(shard)) {
      fail(ErrorCode::kCorrupt, "weight_map entry " + tensor + " names " + shard + ", which is not a file beside the index");
    }
    auto [where, added] = shard_number.emplace(shard, static_cast<std::uint32_t>(index.shards.size()));
    if (added) {
      index.shards.push_back(shard);
      index.placed.push_back(0);
    }
    auto [slot, fresh] = index.shard_of.emplace(std::move(tensor), where->second);
    if (!fresh) --index.placed[slot->second];  // named twice: the last one wins
    slot->second = where->second;
    ++index.placed[where->second];
  }
  return index;
}

void ShardMerger::add(std::uint32_t shard, CheckpointContents part, CheckpointContents& merged) {
  const std::string& file = index_.shards[shard];
  merged.text.absorb(std::move(part.text));  // the part's names and identities live on in `merged`
  std::uint64_t found = 0;
  for (TensorRecord& t : part.tensors) {
    auto mapped = index_.shard_of.find(std::string(t.name));
    if (mapped != index_.shard_of.end()) {
      if (mapped->second != shard) continue;  // the map says it lives in another shard
      ++found;
    } else if (!unmapped_.insert(std::string(t.name)).second) {
      continue;  // not in the map, and an earlier shard had it
    }
    if (!t.identity.empty()) t.identity = merged.text.copy(file + "/" + std::string(t.identity));  // storages are per file
    merged.tensors.push_back(std::move(t));
  }
  if (found != index_.placed[shard]) {
    // Name one that is missing (the slow way: only on the error path).
    std::unordered_set<std::string, TextHash> present;
    for (const TensorRecord& t : part.tensors) present.insert(std::string(t.name));
    for (const TensorRecord& t : merged.tensors) present.insert(std::string(t.name));
    for (const auto& [tensor, where] : index_.shard_of) {
      if (where == shard && !present.count(tensor)) {
        fail(ErrorCode::kCorrupt, "the index places " + tensor + " here but the shard lacks it");
      }
    }
    fail(ErrorCode::kCorrupt, "the shard lacks tensors the index places here");
  }
  merged.bytes_read += part.bytes_read;
}

}  // namespace ct
