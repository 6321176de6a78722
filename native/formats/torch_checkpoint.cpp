#include "torch_checkpoint.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>

#include "../common/checkpoint_error.h"
#include "../model/dtypes.h"
#include "../pickle/pickle_machine.h"
#include "../containers/zip_reader.h"

namespace ct {
namespace {

using Kind = PickleValue::Kind;
constexpr int kMaxDepth = 200;

// The legacy format starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes.
constexpr unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) fail(ErrorCode::kCorrupt, std::string(what) + " overflows 64 bits");
  return out;
}
std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) fail(ErrorCode::kCorrupt, std::string(what) + " overflows 64 bits");
  return out;
}

const PickleValue* arg(const std::vector<PickleValue*>& args, std::size_t i) {
  return i < args.size() ? args[i] : nullptr;
}

std::optional<std::int64_t> as_int(const PickleValue* v) {
  if (v == nullptr) return std::nullopt;
  if (v->kind == Kind::kInt && !v->big_int) return v->integer;
  if (v->kind == Kind::kBool) return v->boolean ? 1 : 0;
  return std::nullopt;
}

std::optional<bool> as_bool(const PickleValue* v) {
  if (v == nullptr) return std::nullopt;
  if (v->kind == Kind::kBool) return v->boolean;
  if (v->kind == Kind::kInt && !v->big_int) return v->integer != 0;
  return std::nullopt;
}

const std::string* as_string(const PickleValue* v) {
  return v != nullptr && v->kind == Kind::kString ? &v->text : nullptr;
}

// A tuple/list of ints, or torch.Size([...]).
std::optional<std::vector<std::int64_t>> int_list(const PickleValue* v) {
  if (v == nullptr) return std::nullopt;
  if (const PickleValue* g = v->call_target(); g != nullptr && g->is_global("torch", "Size")) {
    return int_list(v->items.empty() ? nullptr : v->items[0]);
  }
  if (v->kind != Kind::kTuple && v->kind != Kind::kList) return std::nullopt;
  std::vector<std::int64_t> out;
  out.reserve(v->items.size());
  for (const PickleValue* item : v->items) {
    std::optional<std::int64_t> n = as_int(item);
    if (!n) return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

std::uint64_t numel_of(const std::vector<std::int64_t>& shape) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) fail(ErrorCode::kCorrupt, "negative tensor dimension");
    n = checked_mul(n, static_cast<std::uint64_t>(d), "tensor size");
  }
  return n;
}

// Dict-like: a dict, or a call node that received items (OrderedDict subclasses, defaultdict).
bool dict_like(const PickleValue* v) {
  return v != nullptr && (v->kind == Kind::kDict || (v->kind == Kind::kCall && !v->entries.empty()));
}

// The attribute dict of an object: BUILD state that is a dict, or (dict, slots) tuple.
const PickleValue* object_state(const PickleValue* v) {
  if (v == nullptr || v->state == nullptr) return nullptr;
  const PickleValue* state = v->state;
  if (state->kind == Kind::kTuple && !state->items.empty()) state = state->items[0];
  return state != nullptr && state->kind == Kind::kDict ? state : nullptr;
}

struct StorageRef {
  std::string key;
  const DtypeInfo* dtype = nullptr;  // storage class dtype ("" name for untyped)
  std::uint64_t numel = 0;           // in the storage's own elements (bytes when untyped)
  std::uint64_t view_offset = 0;     // legacy views: offset into the root storage
};

// Called for every tensor with the storage it reads and how many storage elements it needs.
using StorageCheck = std::function<void(const StorageRef&, std::uint64_t needed_bytes)>;

class Interpreter {
 public:
  explicit Interpreter(StorageCheck check) : check_(std::move(check)) {}

  std::optional<TensorRecord> tensor(const PickleValue* v) { return decode(v, 0); }

  bool is_module(const PickleValue* v) const {
    const PickleValue* state = object_state(v);
    return v != nullptr && v->kind == Kind::kCall && state != nullptr && state->get("_parameters") != nullptr &&
           state->get("_modules") != nullptr;
  }

  bool is_state_dict(const PickleValue* v) {
    if (!dict_like(v)) return false;
    std::size_t tensors = 0;
    for (const auto& [key, value] : v->entries) {
      if (as_string(key) != nullptr && looks_like_tensor(value)) ++tensors;
    }
    return tensors > 0 && tensors * 2 >= v->entries.size();
  }

  void collect_state_dict(const PickleValue* dict, std::vector<TensorRecord>& out) {
    for (const auto& [key, value] : dict->entries) {
      const std::string* name = as_string(key);
      if (name == nullptr) continue;
      std::optional<TensorRecord> t = tensor(value);
      if (!t) continue;
      t->name = *name;
      out.push_back(std::move(*t));
    }
  }

  // nn.Module pickled whole: _parameters (with requires_grad), _buffers, _modules.
  void collect_module(const PickleValue* module, const std::string& prefix, std::vector<TensorRecord>& out, int depth) {
    if (depth > kMaxDepth) fail(ErrorCode::kLimitExceeded, "modules nested too deeply");
    if (!visiting_.insert(module).second) return;  // a module reachable twice is counted once
    const PickleValue* state = object_state(module);
    auto take = [&](const char* field, TensorRecord::Role role) {
      const PickleValue* dict = state->get(field);
      if (!dict_like(dict)) return;
      for (const auto& [key, value] : dict->entries) {
        const std::string* name = as_string(key);
        if (name == nullptr || value == nullptr || value->kind == Kind::kNone) continue;
        std::optional<TensorRecord> t = tensor(value);
        if (!t) continue;
        t->name = prefix + *name;
        t->role = role;
        if (role == TensorRecord::Role::kParameter && !t->requires_grad) t->requires_grad = true;
        out.push_back(std::move(*t));
      }
    };
    take("_parameters", TensorRecord::Role::kParameter);
    take("_buffers", TensorRecord::Role::kBuffer);
    const PickleValue* children = state->get("_modules");
    if (dict_like(children)) {
      for (const auto& [key, child] : children->entries) {
        const std::string* name = as_string(key);
        if (name != nullptr && is_module(child)) collect_module(child, prefix + *name + ".", out, depth + 1);
      }
    }
  }

 private:
  bool looks_like_tensor(const PickleValue* v) {
    const PickleValue* g = v == nullptr ? nullptr : v->call_target();
    if (g == nullptr) return false;
    return (g->text == "torch._utils" && g->name.rfind("_rebuild_", 0) == 0) ||
           (g->text == "torch._tensor" && g->name == "_rebuild_from_type_v2");
  }

  std::optional<StorageRef> storage(const PickleValue* v) {
    if (v == nullptr || v->kind != Kind::kPersistentId || v->pid == nullptr || v->pid->kind != Kind::kTuple) {
      return std::nullopt;
    }
    const auto& fields = v->pid->items;
    const std::string* tag = as_string(arg(fields, 0));
    if (tag == nullptr || *tag != "storage" || fields.size() < 5) fail(ErrorCode::kCorrupt, "malformed storage reference");
    const PickleValue* cls = fields[1];
    StorageRef ref;
    if (cls != nullptr && cls->kind == Kind::kGlobal) ref.dtype = dtype_from_storage_class(cls->name);
    if (ref.dtype == nullptr) {
      fail(ErrorCode::kUnsupportedFormat, "unknown storage type " + (cls != nullptr ? cls->text + "." + cls->name : std::string("?")));
    }
    const std::string* key = as_string(fields[2]);
    std::optional<std::int64_t> numel = as_int(fields[4]);
    if (key == nullptr || !numel || *numel < 0) fail(ErrorCode::kCorrupt, "malformed storage reference");
    ref.key = *key;
    ref.numel = static_cast<std::uint64_t>(*numel);
    // Legacy views: (view_key, offset, view_size) into the root storage.
    const PickleValue* view = arg(fields, 5);
    if (view != nullptr && view->kind == Kind::kTuple && view->items.size() >= 3) {
      std::optional<std::int64_t> offset = as_int(view->items[1]);
      std::optional<std::int64_t> size = as_int(view->items[2]);
      if (!offset || !size || *offset < 0 || *size < 0) fail(ErrorCode::kCorrupt, "malformed storage view");
      ref.view_offset = static_cast<std::uint64_t>(*offset);
      if (checked_add(ref.view_offset, static_cast<std::uint64_t>(*size), "storage view") > ref.numel) {
        fail(ErrorCode::kCorrupt, "storage view runs past its storage " + ref.key);
      }
    }
    return ref;
  }

  // A strided tensor over a storage: validates that size x stride stays inside the storage.
  TensorRecord strided(const StorageRef& ref, const PickleValue* offset_value, const PickleValue* size_value,
                       const PickleValue* stride_value, const DtypeInfo* dtype) {
    std::optional<std::int64_t> offset = as_int(offset_value);
    std::optional<std::vector<std::int64_t>> size = int_list(size_value);
    std::optional<std::vector<std::int64_t>> stride = int_list(stride_value);
    if (!offset || *offset < 0 || !size || !stride || stride->size() != size->size()) {
      fail(ErrorCode::kCorrupt, "malformed tensor in storage " + ref.key);
    }
    if (dtype == nullptr || dtype->name[0] == '\0') fail(ErrorCode::kCorrupt, "tensor without a dtype in storage " + ref.key);
    TensorRecord t;
    t.dtype = dtype->name;
    t.element_bits = dtype->bits;
    t.shape = *size;
    t.numel = numel_of(*size);
    std::uint64_t start = checked_add(static_cast<std::uint64_t>(*offset), ref.view_offset, "storage offset");
    std::uint64_t extent = start;  // elements needed
    if (t.numel > 0) {
      std::uint64_t last = 0;
      for (std::size_t i = 0; i < size->size(); ++i) {
        if ((*stride)[i] < 0) fail(ErrorCode::kCorrupt, "negative stride in storage " + ref.key);
        last = checked_add(last, checked_mul(static_cast<std::uint64_t>((*size)[i] - 1),
                                             static_cast<std::uint64_t>((*stride)[i]), "tensor extent"),
                           "tensor extent");
      }
      extent = checked_add(checked_add(start, last, "tensor extent"), 1, "tensor extent");
    }
    std::uint64_t needed_bytes = checked_mul(extent, dtype->bits, "tensor bytes") / 8;
    std::uint64_t storage_bytes = checked_mul(ref.numel, ref.dtype->bits, "storage bytes") / 8;
    if (needed_bytes > storage_bytes) {
      fail(ErrorCode::kCorrupt, "a tensor of storage " + ref.key + " needs " + std::to_string(needed_bytes) +
                                    " bytes but the storage holds " + std::to_string(storage_bytes));
    }
    check_(ref, storage_bytes);
    t.identity = ref.key + "@" + std::to_string(start);
    for (std::int64_t d : *size) t.identity += "," + std::to_string(d);
    t.identity += ":";
    for (std::int64_t s : *stride) t.identity += "," + std::to_string(s);
    return t;
  }

  std::optional<TensorRecord> decode(const PickleValue* v, int depth) {
    if (depth > 16 || v == nullptr) return std::nullopt;
    const PickleValue* g = v->call_target();
    if (g == nullptr) return std::nullopt;
    return decode_call(g, v->items, depth);
  }

  std::optional<TensorRecord> decode_call(const PickleValue* g, const std::vector<PickleValue*>& args, int depth) {
    if (g->text == "torch._tensor" && g->name == "_rebuild_from_type_v2") {
      // (func, new_type, args, state): the tensor is func(*args).
      const PickleValue* func = arg(args, 0);
      const PickleValue* inner = arg(args, 2);
      if (func == nullptr || func->kind != Kind::kGlobal || inner == nullptr) return std::nullopt;
      return decode_call(func, inner->items, depth + 1);
    }
    if (g->text != "torch._utils") return std::nullopt;
    const std::string& fn = g->name;
    if (fn == "_rebuild_tensor" || fn == "_rebuild_tensor_v2" || fn == "_rebuild_tensor_v3" || fn == "_rebuild_qtensor") {
      std::optional<StorageRef> ref = storage(arg(args, 0));
      if (!ref) fail(ErrorCode::kCorrupt, "tensor without a storage reference");
      const DtypeInfo* dtype = ref->dtype;
      if (fn == "_rebuild_tensor_v3") {
        const PickleValue* d = arg(args, 6);
        if (d != nullptr && d->kind == Kind::kGlobal) dtype = dtype_from_torch_name(d->name);
      }
      TensorRecord t = strided(*ref, arg(args, 1), arg(args, 2), arg(args, 3), dtype);
      std::size_t grad_index = fn == "_rebuild_qtensor" ? 5 : 4;
      if (fn != "_rebuild_tensor") t.requires_grad = as_bool(arg(args, grad_index));
      return t;
    }
    if (fn == "_rebuild_parameter" || fn == "_rebuild_parameter_with_state") {
      std::optional<TensorRecord> t = decode(arg(args, 0), depth + 1);
      if (!t) return std::nullopt;
      t->role = TensorRecord::Role::kParameter;
      t->requires_grad = as_bool(arg(args, 1)).value_or(true);
      return t;
    }
    if (fn == "_rebuild_meta_tensor_no_storage" || fn == "_rebuild_wrapper_subclass") {
      // No storage: dtype, size and stride are all there is. Each one is its own tensor.
      bool wrapper = fn == "_rebuild_wrapper_subclass";
      const PickleValue* d = arg(args, wrapper ? 1 : 0);
      std::optional<std::vector<std::int64_t>> size = int_list(arg(args, wrapper ? 2 : 1));
      const DtypeInfo* dtype = d != nullptr && d->kind == Kind::kGlobal ? dtype_from_torch_name(d->name) : nullptr;
      if (!size || dtype == nullptr) fail(ErrorCode::kCorrupt, "malformed storage-less tensor");
      TensorRecord t;
      t.dtype = dtype->name;
      t.element_bits = dtype->bits;
      t.shape = *size;
      t.numel = numel_of(*size);
      t.requires_grad = as_bool(arg(args, wrapper ? 7 : 3));
      return t;
    }
    if (fn == "_rebuild_sparse_tensor" || fn == "_rebuild_sparse_csr_tensor") {
      // (layout, data): data holds index and value tensors and the dense size last-but-any.
      const PickleValue* data = arg(args, 1);
      if (data == nullptr || data->kind != Kind::kTuple) return std::nullopt;
      std::optional<TensorRecord> values;
      std::optional<std::vector<std::int64_t>> size;
      for (const PickleValue* item : data->items) {
        if (auto t = decode(item, depth + 1)) values = t;  // the last tensor is the values
        if (auto s = int_list(item)) size = s;
      }
      if (!values || !size) return std::nullopt;
      values->shape = *size;
      values->numel = numel_of(*size);
      values->identity.clear();
      return values;
    }
    return std::nullopt;
  }

  StorageCheck check_;
  std::unordered_set<const PickleValue*> visiting_;
};

// ---------------------------------------------------------------------------------------------
// Where the model is inside what data.pkl holds.

const char* const kModelKeys[] = {"model", "state_dict", "model_state_dict", "module", "net", "network", "model_state"};
const char* const kExtraKeys[] = {"optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "optimizers",
                                  "scheduler", "lr_scheduler", "lr_schedulers", "scaler", "grad_scaler", "ema",
                                  "ema_state_dict", "model_ema", "ema_model", "swa_model", "amp", "loops", "callbacks"};
const char* const kConfigKeys[] = {"model_args", "hyper_parameters", "hparams", "model_config", "config", "args", "cfg"};

bool in_list(const std::string& key, const char* const* list, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (key == list[i]) return true;
  }
  return false;
}

const PickleValue* as_dict(const PickleValue* v) {
  if (dict_like(v)) return v;
  return object_state(v);  // argparse.Namespace, dataclasses, OmegaConf-free configs
}

std::optional<std::int64_t> find_field(const PickleValue* dict, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    std::optional<std::int64_t> v = as_int(dict->get(name));
    if (v && *v > 0) return v;
  }
  return std::nullopt;
}

ArchitectureFields architecture_from(const PickleValue* dict) {
  ArchitectureFields a;
  if (dict == nullptr) return a;
  a.d_model = find_field(dict, {"n_embd", "d_model", "hidden_size", "dim", "embed_dim", "n_embed", "d_embed", "emb_dim", "hidden_dim"});
  a.num_layers = find_field(dict, {"n_layer", "num_layers", "num_hidden_layers", "n_layers", "depth"});
  a.num_heads = find_field(dict, {"n_head", "num_heads", "num_attention_heads", "n_heads"});
  a.vocab_size = find_field(dict, {"vocab_size", "n_vocab", "padded_vocab_size"});
  a.max_seq_len = find_field(dict, {"block_size", "max_position_embeddings", "n_positions", "n_ctx", "max_seq_len",
                                    "seq_len", "context_length", "max_seq_length", "max_len"});
  return a;
}

ArchitectureFields config_architecture(const PickleValue* root) {
  if (!dict_like(root)) return {};
  for (const char* key : kConfigKeys) {
    const PickleValue* dict = as_dict(root->get(key));
    if (dict == nullptr) continue;
    ArchitectureFields a = architecture_from(dict);
    if (!a.any()) {
      for (const char* nested : {"model", "model_config", "model_args", "config"}) {
        a = architecture_from(as_dict(dict->get(nested)));
        if (a.any()) break;
      }
    }
    if (a.any()) {
      a.source = key;
      return a;
    }
  }
  return {};
}

std::optional<OptimizerFacts> optimizer_facts(const PickleValue* root, Interpreter& interpreter) {
  if (!dict_like(root)) return std::nullopt;
  std::vector<const PickleValue*> optimizers;
  for (const char* key : {"optimizer", "optimizer_state_dict", "optim", "opt"}) {
    if (const PickleValue* v = root->get(key); dict_like(v)) optimizers.push_back(v);
  }
  for (const char* key : {"optimizer_states", "optimizers"}) {
    const PickleValue* list = root->get(key);
    if (list != nullptr && (list->kind == Kind::kList || list->kind == Kind::kTuple)) {
      for (const PickleValue* item : list->items) {
        if (dict_like(item)) optimizers.push_back(item);
      }
    }
  }
  if (optimizers.empty()) return std::nullopt;
  OptimizerFacts facts;
  bool any = false;
  for (const PickleValue* opt : optimizers) {
    const PickleValue* groups = opt->get("param_groups");
    const PickleValue* state = opt->get("state");
    if (groups == nullptr || state == nullptr || state->kind != Kind::kDict) continue;
    any = true;
    if (groups->kind == Kind::kList || groups->kind == Kind::kTuple) {
      for (const PickleValue* group : groups->items) {
        const PickleValue* params = dict_like(group) ? group->get("params") : nullptr;
        if (params != nullptr && (params->kind == Kind::kList || params->kind == Kind::kTuple)) {
          facts.param_ids += params->items.size();
        }
      }
    }
    for (const auto& [id, per_param] : state->entries) {
      if (!dict_like(per_param)) continue;
      // The first moment has the parameter's shape (Adam/AdamW exp_avg, SGD momentum_buffer, ...).
      for (const char* moment : {"exp_avg", "momentum_buffer", "square_avg", "sum", "exp_inf", "exp_avg_sq", "ax"}) {
        std::optional<TensorRecord> t = interpreter.tensor(per_param->get(moment));
        if (t) {
          facts.tensors_with_state += 1;
          facts.moment_elements += t->numel;
          break;
        }
      }
    }
  }
  if (!any) return std::nullopt;
  return facts;
}

// Chooses what to count in data.pkl's root object and fills `out`.
void interpret_root(const PickleValue* root, Interpreter& interpreter, CheckpointContents& out) {
  auto take = [&](const PickleValue* model) {
    if (interpreter.is_module(model)) {
      interpreter.collect_module(model, "", out.tensors, 0);
      out.roles_recorded = true;
      if (const PickleValue* cls = model->callable; cls != nullptr && cls->kind == Kind::kGlobal) out.type = cls->name;
    } else {
      interpreter.collect_state_dict(model, out.tensors);
    }
  };
  if (interpreter.is_module(root)) {
    take(root);
    return;
  }
  if (!dict_like(root)) {
    fail(ErrorCode::kUnsupportedFormat, "data.pkl holds neither a state dict nor a module");
  }
  const PickleValue* chosen = nullptr;
  for (const char* key : kModelKeys) {
    const PickleValue* v = root->get(key);
    if (v != nullptr && (interpreter.is_module(v) || interpreter.is_state_dict(v))) {
      chosen = v;
      out.state_dict_key = key;
      break;
    }
  }
  if (chosen == nullptr && interpreter.is_state_dict(root)) chosen = root;
  if (chosen == nullptr) {
    // One nested state dict or module under another name, and only one: take it.
    const PickleValue* only = nullptr;
    std::string only_key;
    int candidates = 0;
    for (const auto& [key, value] : root->entries) {
      const std::string* name = as_string(key);
      if (name == nullptr || in_list(*name, kExtraKeys, sizeof(kExtraKeys) / sizeof(*kExtraKeys))) continue;
      if (interpreter.is_module(value) || interpreter.is_state_dict(value)) {
        ++candidates;
        only = value;
        only_key = *name;
      }
    }
    if (candidates == 1) {
      chosen = only;
      out.state_dict_key = only_key;
    }
  }
  if (chosen == nullptr) {
    std::string keys;
    for (const auto& [key, value] : root->entries) {
      if (const std::string* name = as_string(key); name != nullptr && keys.size() < 200) keys += (keys.empty() ? "" : ", ") + *name;
    }
    fail(ErrorCode::kUnsupportedFormat, "no model weights found (top-level keys: " + keys + ")");
  }
  take(chosen);
  out.optimizer = optimizer_facts(root, interpreter);
  out.architecture = config_architecture(root);
}

// ---------------------------------------------------------------------------------------------
// TorchScript: parameters and buffers are declared per class in code/.

struct ScriptClass {
  std::set<std::string> parameters;
  std::set<std::string> buffers;
};

std::vector<std::string> quoted_names(std::string_view line) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while ((pos = line.find('"', pos)) != std::string_view::npos) {
    std::size_t end = line.find('"', pos + 1);
    if (end == std::string_view::npos) break;
    names.emplace_back(line.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return names;
}

std::map<std::string, ScriptClass> parse_script_classes(std::string_view code) {
  std::map<std::string, ScriptClass> classes;
  ScriptClass* current = nullptr;
  std::size_t pos = 0;
  while (pos < code.size()) {
    std::size_t end = code.find('\n', pos);
    if (end == std::string_view::npos) end = code.size();
    std::string_view line = code.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("class ", 0) == 0) {
      std::size_t name_end = line.find_first_of("(:", 6);
      current = &classes[std::string(line.substr(6, name_end == std::string_view::npos ? std::string_view::npos : name_end - 6))];
    } else if (current != nullptr && line.rfind("  __parameters__ = [", 0) == 0) {
      for (auto& n : quoted_names(line)) current->parameters.insert(n);
    } else if (current != nullptr && line.rfind("  __buffers__ = [", 0) == 0) {
      for (auto& n : quoted_names(line)) current->buffers.insert(n);
    }
  }
  return classes;
}

class ScriptModuleReader {
 public:
  ScriptModuleReader(const ZipReader& zip, std::string prefix, const ReadLimits& limits)
      : zip_(zip), prefix_(std::move(prefix)), limits_(limits) {}

  const ScriptClass* find(const PickleValue* cls) {
    if (cls == nullptr || cls->kind != Kind::kGlobal || cls->text.rfind("__torch__", 0) != 0) return nullptr;
    std::string file = prefix_ + "code/" + cls->text + ".py";
    std::replace(file.begin() + static_cast<std::ptrdiff_t>(prefix_.size() + 5), file.end() - 3, '.', '/');
    auto loaded = files_.find(file);
    if (loaded == files_.end()) {
      std::map<std::string, ScriptClass> classes;
      if (const ZipEntry* entry = zip_.find(file)) {
        if (entry->uncompressed_size > limits_.max_code_bytes - std::min(code_read_, limits_.max_code_bytes)) {
          fail(ErrorCode::kLimitExceeded, "TorchScript code is over " + std::to_string(limits_.max_code_bytes) + " bytes");
        }
        code_read_ += entry->uncompressed_size;
        classes = parse_script_classes(zip_.read(*entry, limits_.max_code_bytes));
      }
      loaded = files_.emplace(file, std::move(classes)).first;
    }
    auto found = loaded->second.find(cls->name);
    return found == loaded->second.end() ? nullptr : &found->second;
  }

  void collect(const PickleValue* object, const std::string& prefix, Interpreter& interpreter,
               std::vector<TensorRecord>& out, bool& all_declared, int depth) {
    if (depth > kMaxDepth) fail(ErrorCode::kLimitExceeded, "TorchScript modules nested too deeply");
    if (object == nullptr || !visited_.insert(object).second) return;
    const PickleValue* state = object_state(object);
    if (state == nullptr) return;
    const ScriptClass* decl = find(object->callable);
    if (decl == nullptr) all_declared = false;
    for (const auto& [key, value] : state->entries) {
      const std::string* name = as_string(key);
      if (name == nullptr || value == nullptr) continue;
      if (std::optional<TensorRecord> t = interpreter.tensor(value)) {
        t->name = prefix + *name;
        if (decl != nullptr) {
          if (decl->parameters.count(*name)) {
            t->role = TensorRecord::Role::kParameter;
          } else if (decl->buffers.count(*name)) {
            t->role = TensorRecord::Role::kBuffer;
          } else {
            continue;  // a tensor attribute or constant, not part of the model's state
          }
        }
        out.push_back(std::move(*t));
      } else if (value->kind == Kind::kCall && value->callable != nullptr && value->callable->kind == Kind::kGlobal &&
                 value->callable->text.rfind("__torch__", 0) == 0) {
        collect(value, prefix + *name + ".", interpreter, out, all_declared, depth + 1);
      }
    }
  }

 private:
  const ZipReader& zip_;
  std::string prefix_;
  const ReadLimits& limits_;
  std::uint64_t code_read_ = 0;
  std::map<std::string, std::map<std::string, ScriptClass>> files_;
  std::unordered_set<const PickleValue*> visited_;
};

}  // namespace

bool is_legacy_torch(const ByteSource& source) {
  if (source.size() < sizeof(kLegacyMagic)) return false;
  unsigned char head[sizeof(kLegacyMagic)];
  source.read(0, head, sizeof(head));
  return std::equal(std::begin(head), std::end(head), std::begin(kLegacyMagic));
}

CheckpointContents read_torch_zip(const ByteSource& source, const ReadLimits& limits) {
  ZipReader zip(source);
  // The prefix folder is whatever the writer chose (the file's stem, "archive", ...): find it.
  std::string prefix;
  const ZipEntry* pickle_entry = nullptr;
  for (const ZipEntry& entry : zip.entries()) {
    const std::string& name = entry.name;
    std::size_t slash = name.find('/');
    if (name == "data.pkl" || (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0)) {
      pickle_entry = &entry;
      prefix = slash == std::string::npos ? "" : name.substr(0, slash + 1);
      break;
    }
  }
  if (pickle_entry == nullptr) fail(ErrorCode::kUnsupportedFormat, "a zip archive without data.pkl: not written by torch.save");

  CheckpointContents out;
  bool torchscript = zip.find(prefix + "constants.pkl") != nullptr;
  for (const ZipEntry& entry : zip.entries()) {
    if (entry.name.compare(0, prefix.size() + 5, prefix + "code/") == 0) torchscript = true;
  }
  out.format = torchscript ? "torchscript" : "torch-zip";
  if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
    std::string value = zip.read(*order, 16);
    if (value != "little" && value != "big") fail(ErrorCode::kCorrupt, "byteorder is neither little nor big");
  }

  std::string pickle = zip.read(*pickle_entry, limits.max_pickle_bytes);
  PickleMachine machine;
  const PickleValue* root = machine.load(pickle);

  Interpreter interpreter([&](const StorageRef& ref, std::uint64_t storage_bytes) {
    const ZipEntry* data = zip.find(prefix + "data/" + ref.key);
    if (data == nullptr) fail(ErrorCode::kCorrupt, "storage " + ref.key + " is referenced but missing from the archive");
    if (data->uncompressed_size < storage_bytes) {
      fail(ErrorCode::kCorrupt, "storage " + ref.key + " should hold " + std::to_string(storage_bytes) + " bytes but has " +
                                    std::to_string(data->uncompressed_size));
    }
  });

  if (torchscript) {
    ScriptModuleReader script(zip, prefix, limits);
    bool all_declared = true;
    script.collect(root, "", interpreter, out.tensors, all_declared, 0);
    out.roles_recorded = all_declared;
    if (root != nullptr && root->kind == Kind::kCall && root->callable != nullptr && root->callable->kind == Kind::kGlobal) {
      out.type = root->callable->name;  // mangling (___torch_mangle_N) lives in the module path, not the name
    }
  } else {
    interpret_root(root, interpreter, out);
  }
  return out;
}

CheckpointContents read_torch_legacy(const ByteSource& source, const ReadLimits& limits) {
  // Five pickles (magic, protocol, sys_info, the object, the storage keys), then the storages.
  // Their total length is unknown up front: parse a prefix of the file, and when the pickles run
  // off its end, parse again from a prefix four times longer.
  std::unique_ptr<PickleMachine> machine;
  const PickleValue* root = nullptr;
  const PickleValue* keys = nullptr;
  std::size_t pos = 0;
  for (std::uint64_t chunk = std::min(source.size(), std::max<std::uint64_t>(limits.legacy_first_read, 1));;) {
    std::string head = source.read_string(0, static_cast<std::size_t>(chunk));
    machine = std::make_unique<PickleMachine>();
    try {
      pos = 0;
      const PickleValue* magic = machine->load(head, pos, &pos);
      const PickleValue* protocol = machine->load(head, pos, &pos);
      if (magic->kind != Kind::kInt || as_int(protocol) != 1001) fail(ErrorCode::kCorrupt, "bad legacy header");
      machine->load(head, pos, &pos);  // sys_info
      root = machine->load(head, pos, &pos);
      keys = machine->load(head, pos, &pos);
      break;
    } catch (const CheckpointError& error) {
      bool can_grow = chunk < source.size() && chunk < limits.max_pickle_bytes;
      if (error.code() != ErrorCode::kTruncated || !can_grow) throw;
      chunk = std::min<std::uint64_t>({chunk * 4, source.size(), limits.max_pickle_bytes});
    }
  }
  if (keys->kind != Kind::kList) fail(ErrorCode::kCorrupt, "legacy storage key list missing");

  std::map<std::string, std::uint64_t> element_bits;  // key -> storage element size
  std::map<std::string, std::uint64_t> needed;        // key -> bytes the tensors need
  Interpreter interpreter([&](const StorageRef& ref, std::uint64_t storage_bytes) {
    element_bits[ref.key] = ref.dtype->bits;
    needed[ref.key] = std::max(needed[ref.key], storage_bytes);
  });
  CheckpointContents out;
  out.format = "torch-legacy";
  interpret_root(root, interpreter, out);

  // Walk the storage records (an int64 element count, then the bytes) to check the file holds
  // them, reading 8 bytes per storage and none of the data.
  std::uint64_t offset = pos;
  for (const PickleValue* key_value : keys->items) {
    const std::string* key = as_string(key_value);
    if (key == nullptr) fail(ErrorCode::kCorrupt, "legacy storage key is not a string");
    auto bits = element_bits.find(*key);
    // A storage only something we do not read refers to: its element size, and so where the
    // next record starts, is unknown. The records checked so far stand.
    if (bits == element_bits.end()) break;
    unsigned char count_bytes[8];
    source.read(offset, count_bytes, sizeof(count_bytes));
    std::uint64_t bytes = checked_mul(le64(count_bytes), bits->second / 8, "legacy storage size");
    if (needed[*key] > bytes) fail(ErrorCode::kCorrupt, "legacy storage " + *key + " is smaller than its tensors");
    offset = checked_add(checked_add(offset, 8, "legacy offset"), bytes, "legacy offset");
    if (offset > source.size()) fail(ErrorCode::kTruncated, "the file ends inside storage " + *key);
  }
  return out;
}

CheckpointContents read_distributed_metadata(const ByteSource& source, const ReadLimits& limits) {
  if (source.size() > limits.max_pickle_bytes) fail(ErrorCode::kLimitExceeded, ".metadata is too large");
  std::string pickle = source.read_string(0, static_cast<std::size_t>(source.size()));
  PickleMachine machine;
  const PickleValue* root = machine.load(pickle);
  const PickleValue* state = object_state(root);
  const PickleValue* entries = state == nullptr ? nullptr : state->get("state_dict_metadata");
  if (!dict_like(entries)) fail(ErrorCode::kUnsupportedFormat, ".metadata is not torch.distributed.checkpoint metadata");

  CheckpointContents out;
  out.format = "torch-distributed-checkpoint";
  bool has_model_prefix = false;
  for (const auto& [key, value] : entries->entries) {
    if (const std::string* name = as_string(key); name != nullptr && name->rfind("model.", 0) == 0) has_model_prefix = true;
  }
  if (has_model_prefix) out.state_dict_key = "model";
  for (const auto& [key, value] : entries->entries) {
    const std::string* name = as_string(key);
    if (name == nullptr || value == nullptr || value->callable == nullptr) continue;
    if (has_model_prefix ? name->rfind("model.", 0) != 0 : name->rfind("optim", 0) == 0) continue;
    if (value->callable->name != "TensorStorageMetadata") continue;  // BytesStorageMetadata: not a tensor
    const PickleValue* fields = object_state(value);
    if (fields == nullptr) fail(ErrorCode::kCorrupt, "tensor metadata of " + *name + " has no fields");
    std::optional<std::vector<std::int64_t>> size = int_list(fields->get("size"));
    if (!size) fail(ErrorCode::kCorrupt, "tensor metadata of " + *name + " has no size");
    const DtypeInfo* dtype = nullptr;
    if (const PickleValue* props = fields->get("properties"); props != nullptr && props->state != nullptr) {
      const PickleValue* d = props->state->kind == Kind::kTuple ? arg(props->state->items, 0)
                             : props->state->kind == Kind::kDict ? props->state->get("dtype")
                                                                 : nullptr;
      if (d != nullptr && d->kind == Kind::kGlobal) dtype = dtype_from_torch_name(d->name);
    }
    TensorRecord t;
    t.name = *name;
    t.shape = *size;
    t.numel = numel_of(*size);
    t.dtype = dtype != nullptr ? dtype->name : "unknown";
    t.element_bits = dtype != nullptr ? dtype->bits : 0;
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace ct
