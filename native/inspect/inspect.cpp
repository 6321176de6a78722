// inspect_checkpoint: a path (file, *.index.json, Hugging Face folder, DCP folder) to ModelInfo:
// which reader reads it, errors prefixed with the file, config.json beside the weights.
#include <errno.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "../common/byte_source.h"
#include "../common/checked_math.h"
#include "../common/checkpoint_error.h"
#include "../common/text.h"
#include "../containers/json_reader.h"
#include "../containers/zip_reader.h"
#include "../formats/distributed_checkpoint.h"
#include "../formats/registry.h"
#include "../formats/safetensors.h"
#include "../formats/sharded_index.h"
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

// A real config.json is a few kilobytes (large vocabularies' id2label maps reach ~100 KB); one
// far larger beside a model is not a model config, and is ignored rather than read.
constexpr std::uint64_t kMaxConfigJsonBytes = 4u << 20;

// stat() that tells "absent" from "not allowed to look": a folder we may not read must say
// PERMISSION_DENIED, not "no weights found".
bool stat_path(const std::string& path, struct stat& info) {
  if (stat(path.c_str(), &info) == 0) return true;
  int error = errno;
  if (error == ENOENT || error == ENOTDIR) return false;
  throw FileError(error == EACCES || error == EPERM ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                  path + ": cannot look at it: " + std::strerror(error));
}

bool is_file(const std::string& path) {
  struct stat info {};
  return stat_path(path, info) && S_ISREG(info.st_mode);
}

bool exists(const std::string& path) {
  struct stat info {};
  return stat_path(path, info);
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

std::optional<HfConfig> read_hf_config(const std::string& dir, const ReadLimits& limits, std::vector<std::string>& files) {
  std::string path = join(dir, "config.json");
  if (!is_file(path)) return std::nullopt;
  return in_file(path, [&]() -> std::optional<HfConfig> {
    std::optional<JsonDocument> doc;
    try {
      FileSource source(path);
      if (source.size() > kMaxConfigJsonBytes) return std::nullopt;
      doc.emplace(source.read_string(0, static_cast<std::size_t>(source.size())), "config.json", limits);
    } catch (const CheckpointError& error) {
      // Not the model's config (or not JSON, or unreadable): ignore it. A cancelled inspection
      // and an exhausted budget still end the inspection.
      if (error.code() == ErrorCode::kAborted || error.code() == ErrorCode::kLimitExceeded) throw;
      return std::nullopt;
    }
    JsonValue json = doc->root();
    // Only a model config: an experiment's own config.json has none of these at the top.
    if (!json.is_object() || (!json.get("architectures") && !json.get("model_type"))) return std::nullopt;
    HfConfig config;
    if (std::optional<JsonValue> archs = json.get("architectures"); archs && archs->is_array()) {
      for (JsonValue first : archs->items()) {
        if (first.is_string()) config.architecture = first.text();
        break;
      }
    }
    JsonValue scope = json;
    auto field_in = [](const JsonValue& object) {
      // A positive integer JavaScript can hold exactly, or nothing.
      return [object](std::string_view name) -> std::optional<std::int64_t> {
        std::optional<JsonValue> v = object.get(name);
        std::optional<std::int64_t> n = v ? v->as_int64() : std::nullopt;
        if (n && *n > 0 && static_cast<std::uint64_t>(*n) <= kMaxExactJsInteger) return n;
        return std::nullopt;
      };
    };
    // Multimodal configs keep the language model's fields under text_config.
    if (!architecture_from_config(field_in(json)).d_model) {
      if (std::optional<JsonValue> text = json.get("text_config"); text && text->is_object()) scope = *text;
    }
    config.fields = architecture_from_config(field_in(scope));
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
  ShardedIndex index = in_file(path, [&] {
    FileSource source(path);
    if (source.size() > limits.max_json_bytes) {
      fail(ErrorCode::kLimitExceeded, "index file of " + std::to_string(source.size()) + " bytes is over the " +
                                          std::to_string(limits.max_json_bytes >> 20) + " MiB limit");
    }
    return parse_sharded_index(source.read_string(0, static_cast<std::size_t>(source.size())), limits);
  });
  CheckpointContents merged;
  merged.files.push_back(path);
  bool all_safetensors = true;
  std::string dir = parent_dir(path);
  ShardMerger merger(index);
  for (std::uint32_t shard = 0; shard < index.shards.size(); ++shard) {
    std::string shard_path = join(dir, index.shards[shard]);
    CheckpointContents part = read_file(shard_path, limits);
    all_safetensors = all_safetensors && part.format == "safetensors";
    in_file(shard_path, [&] {
      merger.add(shard, std::move(part), merged);
      return 0;
    });
    merged.files.push_back(shard_path);
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
    if (exists(candidate)) return read_weights(candidate, limits);  // a FIFO or device is refused there
  }
  throw FileError(ErrorCode::kUnsupportedFormat,
                  dir + ": no weights found (expected model.safetensors, model.safetensors.index.json, "
                        "pytorch_model.bin, pytorch_model.bin.index.json, or a torch.distributed.checkpoint .metadata)");
}

}  // namespace

CheckpointContents read_checkpoint_bytes(const ByteSource& source, const ReadLimits& limits) {
  return read_any_format(source, limits);
}

ModelInfo inspect_checkpoint(const std::string& path, const ReadLimits& given) {
  ReadLimits limits = given;
  WorkBudget own_budget(kInspectionWorkUnits);
  if (limits.budget == nullptr) limits.budget = &own_budget;
  struct stat status {};
  if (!stat_path(path, status)) throw FileError(ErrorCode::kNotFound, path + ": no such file or folder");
  bool folder = S_ISDIR(status.st_mode);
  CheckpointContents contents = folder ? read_folder(path, limits) : read_weights(path, limits);
  std::vector<std::string> config_files;
  std::optional<HfConfig> hf = read_hf_config(folder ? path : parent_dir(path), limits, config_files);
  // The walks of summarize charge the budget too: their errors name the path.
  ModelInfo info = in_file(path, [&] { return summarize(std::move(contents)); });
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
