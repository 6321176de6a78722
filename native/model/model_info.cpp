#include "model_info.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include "../common/byte_source.h"
#include "../common/checkpoint_error.h"
#include "../containers/json_reader.h"
#include "../formats/safetensors.h"
#include "../containers/zip_reader.h"

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

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string last_component(const std::string& name) {
  std::size_t dot = name.find_last_of('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// State dicts do not say which entries are buffers; these names and shapes do.
bool is_buffer_name(const TensorRecord& t) {
  static const std::set<std::string> kBufferNames = {
      "running_mean", "running_var", "num_batches_tracked", "position_ids", "inv_freq", "masked_bias",
      "relative_position_index", "_float_tensor", "token_type_ids"};
  std::string last = last_component(t.name);
  if (kBufferNames.count(last)) return true;
  // Causal masks (nanoGPT's attn.bias, GPT-2's attn.bias): shape (1, 1, n, n). A learned bias is
  // never shaped like that.
  bool mask_name = last == "bias" || last == "mask" || last == "causal_mask" || last == "attn_mask";
  return mask_name && t.shape.size() == 4 && t.shape[0] == 1 && t.shape[1] == 1 && t.shape[2] == t.shape[3] &&
         t.shape[2] > 1;
}

// DDP's "module.", Lightning's "model.", torch.compile's "_orig_mod.": shared prefixes that say
// nothing about the architecture.
std::vector<std::string> strip_wrappers(std::vector<std::string> names) {
  for (bool stripped = true; stripped && !names.empty();) {
    stripped = false;
    for (const char* prefix : {"module.", "model.", "_orig_mod."}) {
      std::string p(prefix);
      bool all = std::all_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(p, 0) == 0; });
      if (all) {
        for (std::string& n : names) n.erase(0, p.size());
        stripped = true;
      }
    }
  }
  return names;
}

ArchitectureFields infer_from_keys(const std::vector<const TensorRecord*>& tensors) {
  ArchitectureFields a;
  std::vector<std::string> names;
  for (const TensorRecord* t : tensors) names.push_back(t->name);
  names = strip_wrappers(names);

  auto unique_2d = [&](std::initializer_list<const char*> suffixes) -> const TensorRecord* {
    const TensorRecord* found = nullptr;
    for (std::size_t i = 0; i < names.size(); ++i) {
      for (const char* suffix : suffixes) {
        const std::string& n = names[i];
        std::string s(suffix);
        if ((n == s || ends_with(n, "." + s)) && tensors[i]->shape.size() == 2) {
          if (found != nullptr && found != tensors[i]) return nullptr;  // ambiguous
          found = tensors[i];
        }
      }
    }
    return found;
  };
  if (const TensorRecord* tok = unique_2d({"wte.weight", "embed_tokens.weight", "word_embeddings.weight",
                                           "tok_embeddings.weight", "token_embedding.weight", "tok_emb.weight"})) {
    a.vocab_size = tok->shape[0];
    a.d_model = tok->shape[1];
  }
  if (const TensorRecord* pos = unique_2d({"wpe.weight", "position_embeddings.weight", "pos_emb.weight", "embed_positions.weight"})) {
    a.max_seq_len = pos->shape[0];
  }

  // Repeated blocks: "<prefix>.<i>.<suffix>" with i = 0..N-1, every block holding the same
  // (non-trivial) set of suffixes. Exactly one such list makes the layer count unambiguous.
  std::map<std::string, std::map<long, std::set<std::string>>> lists;
  for (const std::string& name : names) {
    std::size_t start = 0;
    while (start < name.size()) {
      std::size_t end = name.find('.', start);
      if (end == std::string::npos) break;
      std::string part = name.substr(start, end - start);
      if (!part.empty() && part.size() < 7 && std::all_of(part.begin(), part.end(), ::isdigit)) {
        lists[name.substr(0, start)][std::stol(part)].insert(name.substr(end + 1));
        break;
      }
      start = end + 1;
    }
  }
  std::optional<std::int64_t> layers;
  int candidates = 0;
  for (const auto& [prefix, blocks] : lists) {
    bool contiguous = blocks.begin()->first == 0 && blocks.rbegin()->first == static_cast<long>(blocks.size()) - 1;
    const std::set<std::string>& first = blocks.begin()->second;
    bool same = std::all_of(blocks.begin(), blocks.end(), [&](const auto& b) { return b.second == first; });
    if (contiguous && same && first.size() >= 4) {
      ++candidates;
      layers = static_cast<std::int64_t>(blocks.size());
    }
  }
  if (candidates == 1) a.num_layers = layers;
  if (a.any()) a.source = "key_patterns";
  return a;
}

void fill_missing(ArchitectureFields& into, const ArchitectureFields& from) {
  if (!into.d_model) into.d_model = from.d_model;
  if (!into.num_layers) into.num_layers = from.num_layers;
  if (!into.num_heads) into.num_heads = from.num_heads;
  if (!into.vocab_size) into.vocab_size = from.vocab_size;
  if (!into.max_seq_len) into.max_seq_len = from.max_seq_len;
  if (into.source.empty()) into.source = from.source;
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
  if (source.size() == 0) fail(ErrorCode::kTruncated, "the file is empty");
  if (looks_like_zip(source)) return read_torch_zip(source, limits);
  if (is_legacy_torch(source)) return read_torch_legacy(source, limits);
  if (looks_like_safetensors(source)) return read_safetensors(source, limits);
  if (source.size() >= 262) {
    char magic[5];
    source.read(257, magic, sizeof(magic));
    if (std::string(magic, 5) == "ustar") {
      fail(ErrorCode::kUnsupportedFormat,
           "a tar checkpoint from PyTorch before 0.4: load it with an old torch and save it again");
    }
  }
  unsigned char first = 0;
  source.read(0, &first, 1);
  if (first == 0x80) fail(ErrorCode::kUnsupportedFormat, "a plain pickle, not a file written by torch.save");
  fail(ErrorCode::kUnsupportedFormat, "not a PyTorch, TorchScript or safetensors checkpoint");
}

ModelInfo summarize(CheckpointContents contents) {
  ModelInfo info;
  info.format = contents.format;
  info.state_dict_key = contents.state_dict_key;
  info.files = contents.files;
  info.bytes_read = contents.bytes_read;

  // Distinct tensors: an alias (same storage, offset, size, stride) counts once.
  std::unordered_map<std::string, std::size_t> seen;
  std::vector<const TensorRecord*> unique;
  for (const TensorRecord& t : contents.tensors) {
    if (!t.identity.empty() && !seen.emplace(t.identity, unique.size()).second) continue;
    unique.push_back(&t);
  }
  std::map<std::string, std::uint64_t> dtypes;
  std::uint64_t trainable_recorded = 0;
  std::uint64_t bits = 0;
  std::vector<const TensorRecord*> parameters;
  for (const TensorRecord* t : unique) {
    bool buffer = contents.roles_recorded ? t->role == TensorRecord::Role::kBuffer
                  : t->role == TensorRecord::Role::kUnknown ? is_buffer_name(*t)
                                                            : t->role == TensorRecord::Role::kBuffer;
    dtypes[t->dtype] += t->numel;
    if (buffer) {
      info.num_buffer_elements += t->numel;
      continue;
    }
    parameters.push_back(t);
    info.num_parameters += t->numel;
    bits += t->numel * t->element_bits;
    if (t->requires_grad.value_or(true)) trainable_recorded += t->numel;
  }
  info.num_tensors = unique.size();
  info.parameter_bytes = (bits + 7) / 8;
  info.dtypes.assign(dtypes.begin(), dtypes.end());

  if (contents.roles_recorded) {
    info.num_trainable_parameters = trainable_recorded;
    info.exact = true;
  } else if (contents.optimizer && contents.optimizer->param_ids > 0 &&
             contents.optimizer->tensors_with_state == contents.optimizer->param_ids) {
    // Every parameter the optimizer trains has a moment tensor of its own shape.
    info.num_trainable_parameters = contents.optimizer->moment_elements;
    info.exact = contents.optimizer->moment_elements == info.num_parameters;
  } else {
    info.num_trainable_parameters = info.num_parameters;
    info.exact = false;
  }

  info.type = !contents.type.empty() ? contents.type
              : info.format.rfind("safetensors", 0) == 0 ? "safetensors"
                                                          : "state_dict";
  info.architecture = contents.architecture;
  fill_missing(info.architecture, infer_from_keys(parameters));
  return info;
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
