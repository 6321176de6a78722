// inspect_checkpoint: a path (file, *.index.json, Hugging Face folder, DCP folder) to ModelInfo:
// which reader reads it, errors prefixed with the file, config.json beside the weights.
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "../common/byte_source.h"
#include "../common/checkpoint_error.h"
#include "../common/text.h"
#include "../containers/json_reader.h"
#include "../containers/zip_reader.h"
#include "../formats/distributed_checkpoint.h"
#include "../formats/registry.h"
#include "../formats/safetensors.h"
#include "architecture.h"
#include "model_info.h"

namespace ct {
namespace {

// A CheckpointError whose message already starts with the file it concerns.
class FileError : public CheckpointError {
 public:
  using CheckpointError::CheckpointError;
};

template <typename F>
auto in_file(const std::string& file, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const FileError&) {
    throw;
  } catch (const CheckpointError& error) {
    throw FileError(error.code(), file + ": " + error.what());
  }
}

bool is_file(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string parent_dir(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// ---------------------------------------------------------------------------------------------
// Hugging Face config.json beside the weights.

struct HfConfig {
  std::string architecture;
  ArchitectureFields fields;
};

std::optional<std::int64_t> json_field(const JsonValue& object, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const JsonValue* v = object.get(name);
    if (v != nullptr && v->is_integer && v->integer > 0) return v->integer;
  }
  return std::nullopt;
}

std::optional<HfConfig> read_hf_config(const std::string& dir, const ReadLimits& limits, std::vector<std::string>& files) {
  std::string path = join(dir, "config.json");
  if (!is_file(path)) return std::nullopt;
  return in_file(path, [&]() -> std::optional<HfConfig> {
    FileSource source(path);
    if (source.size() > limits.max_json_bytes) return std::nullopt;
    JsonValue json;
    try {
      json = parse_json(source.read_string(0, static_cast<std::size_t>(source.size())), "config.json");
    } catch (const CheckpointError&) {
      return std::nullopt;  // not the model's config (or not JSON): ignore it
    }
    // Only a model config: an experiment's own config.json has none of these at the top.
    if (!json.is_object() || (json.get("architectures") == nullptr && json.get("model_type") == nullptr)) return std::nullopt;
    HfConfig config;
    if (const JsonValue* archs = json.get("architectures");
        archs != nullptr && !archs->items.empty() && archs->items[0].kind == JsonValue::Kind::kString) {
      config.architecture = archs->items[0].text;
    }
    const JsonValue* scope = &json;
    if (!json_field(json, {"hidden_size", "n_embd", "d_model"})) {
      if (const JsonValue* text = json.get("text_config"); text != nullptr && text->is_object()) scope = text;
    }
    config.fields.d_model = json_field(*scope, {"hidden_size", "n_embd", "d_model", "dim"});
    config.fields.num_layers = json_field(*scope, {"num_hidden_layers", "n_layer", "num_layers", "n_layers"});
    config.fields.num_heads = json_field(*scope, {"num_attention_heads", "n_head", "num_heads", "n_heads"});
    config.fields.vocab_size = json_field(*scope, {"vocab_size", "padded_vocab_size"});
    config.fields.max_seq_len = json_field(*scope, {"max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", "seq_length"});
    config.fields.source = "config.json";
    files.push_back(path);
    return config;
  });
}

// ---------------------------------------------------------------------------------------------

// One file through `reader`, with errors prefixed by its path and the bytes it cost recorded.
template <typename Reader>
CheckpointContents read_one(const std::string& path, const ReadLimits& limits, Reader reader) {
  return in_file(path, [&] {
    FileSource source(path);
    CheckpointContents contents = reader(source, limits);
    contents.files = {path};
    contents.bytes_read = source.bytes_read();
    return contents;
  });
}

CheckpointContents read_file(const std::string& path, const ReadLimits& limits) {
  return read_one(path, limits, read_checkpoint_bytes);
}

CheckpointContents read_index(const std::string& path, const ReadLimits& limits) {
  std::vector<std::string> shards;
  std::map<std::string, std::string> weight_map;
  in_file(path, [&] {
    FileSource source(path);
    if (source.size() > limits.max_json_bytes) fail(ErrorCode::kLimitExceeded, "index file too large");
    JsonValue json = parse_json(source.read_string(0, static_cast<std::size_t>(source.size())), "the index");
    const JsonValue* map = json.get("weight_map");
    if (map == nullptr || !map->is_object()) fail(ErrorCode::kUnsupportedFormat, "an index.json without a weight_map");
    for (const auto& [tensor, shard] : map->members) {
      if (shard.kind != JsonValue::Kind::kString || shard.text.empty() || shard.text.find("..") != std::string::npos ||
          shard.text[0] == '/') {
        fail(ErrorCode::kCorrupt, "weight_map entry " + tensor + " does not name a shard beside the index");
      }
      weight_map[tensor] = shard.text;
      if (std::find(shards.begin(), shards.end(), shard.text) == shards.end()) shards.push_back(shard.text);
    }
    return 0;
  });
  CheckpointContents merged;
  merged.files.push_back(path);
  bool all_safetensors = true;
  std::string dir = parent_dir(path);
  for (const std::string& shard : shards) {
    std::string shard_path = join(dir, shard);
    CheckpointContents part = read_file(shard_path, limits);
    all_safetensors = all_safetensors && part.format == "safetensors";
    std::set<std::string> present;
    for (TensorRecord& t : part.tensors) {
      present.insert(t.name);
      if (!t.identity.empty()) t.identity = shard + "/" + t.identity;  // storages are per file
      merged.tensors.push_back(std::move(t));
    }
    for (const auto& [tensor, where] : weight_map) {
      if (where == shard && !present.count(tensor)) {
        throw FileError(ErrorCode::kCorrupt, shard_path + ": the index places " + tensor + " here but the shard lacks it");
      }
    }
    merged.files.push_back(shard_path);
    merged.bytes_read += part.bytes_read;
  }
  merged.format = all_safetensors ? "safetensors-sharded" : "torch-zip-sharded";
  merged.type = all_safetensors ? "safetensors" : "";
  return merged;
}

bool looks_like_json_index(const std::string& path) {
  return ends_with(path, ".index.json");
}

CheckpointContents read_weights(const std::string& path, const ReadLimits& limits) {
  return looks_like_json_index(path) ? read_index(path, limits) : read_file(path, limits);
}

CheckpointContents read_folder(const std::string& dir, const ReadLimits& limits) {
  std::string metadata = join(dir, ".metadata");
  if (is_file(metadata)) return read_one(metadata, limits, read_distributed_metadata);
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json", "consolidated.safetensors"}) {
    std::string candidate = join(dir, name);
    if (is_file(candidate)) return read_weights(candidate, limits);
  }
  throw FileError(ErrorCode::kUnsupportedFormat,
                  dir + ": no weights found (expected model.safetensors, model.safetensors.index.json, "
                        "pytorch_model.bin, pytorch_model.bin.index.json, or a torch.distributed.checkpoint .metadata)");
}

}  // namespace

CheckpointContents read_checkpoint_bytes(const ByteSource& source, const ReadLimits& limits) {
  return read_any_format(source, limits);
}

ModelInfo inspect_checkpoint(const std::string& path, const ReadLimits& limits) {
  struct stat status {};
  if (stat(path.c_str(), &status) != 0) throw FileError(ErrorCode::kNotFound, path + ": no such file or folder");
  bool folder = S_ISDIR(status.st_mode);
  CheckpointContents contents = folder ? read_folder(path, limits) : read_weights(path, limits);
  std::vector<std::string> config_files;
  std::optional<HfConfig> hf = read_hf_config(folder ? path : parent_dir(path), limits, config_files);
  ModelInfo info = summarize(std::move(contents));
  if (hf) {
    if (!hf->architecture.empty()) info.type = hf->architecture;
    ArchitectureFields merged = hf->fields;
    fill_missing(merged, info.architecture);
    merged.source = "config.json";
    info.architecture = merged;
    info.files.insert(info.files.end(), config_files.begin(), config_files.end());
  }
  info.source = path;
  return info;
}

}  // namespace ct
