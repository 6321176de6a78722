#include "pickled_model.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "../common/checkpoint_error.h"
#include "../common/page_buffer.h"
#include "../common/text_hash.h"

namespace ct {
namespace {

using Kind = PickleKind;
constexpr int kMaxModuleDepth = 200;

constexpr std::string_view kModelKeys[] = {"model", "state_dict", "model_state_dict", "module", "net", "network", "model_state"};
constexpr std::string_view kExtraKeys[] = {"optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "optimizers",
                                           "scheduler", "lr_scheduler", "lr_schedulers", "scaler", "grad_scaler", "ema",
                                           "ema_state_dict", "model_ema", "ema_model", "swa_model", "amp", "loops", "callbacks"};
constexpr std::string_view kConfigKeys[] = {"model_args", "hyper_parameters", "hparams", "model_config", "config", "args", "cfg"};
// The first moment has the parameter's shape (Adam/AdamW exp_avg, SGD momentum_buffer, ...).
constexpr std::string_view kMoments[] = {"exp_avg", "momentum_buffer", "square_avg", "sum", "exp_inf", "exp_avg_sq", "ax"};

// The root's keys this file asks about, found in one pass: a state dict of 100,000 entries is
// often the root itself, and looking each name up by a scan would read it a dozen times.
class RootIndex {
 public:
  explicit RootIndex(PickleRef root) : root_(root.as_dict()) {
    static const std::unordered_set<std::string_view> kAsked = [] {
      std::unordered_set<std::string_view> keys(std::begin(kModelKeys), std::end(kModelKeys));
      keys.insert(std::begin(kConfigKeys), std::end(kConfigKeys));
      for (std::string_view k : {"optimizer", "optimizer_state_dict", "optim", "opt", "optimizer_states", "optimizers"}) keys.insert(k);
      return keys;
    }();
    // A state dict's keys ("layers.12.experts.7.weight") are mostly longer than any asked key:
    // skip those without hashing them.
    static const std::size_t kLongest = [] {
      std::size_t longest = 0;
      for (std::string_view k : kAsked) longest = std::max(longest, k.size());
      return longest;
    }();
    PickleItems slots = root_.dict_slots();
    for (std::size_t i = 0, n = slots.size(); i + 1 < n; i += 2) {
      std::optional<std::string_view> name = slots[i].string();
      if (name && name->size() <= kLongest && kAsked.count(*name) && !found_.count(*name)) found_.emplace(*name, slots[i + 1]);
    }
  }
  PickleRef get(std::string_view key) const {
    auto found = found_.find(key);
    return found == found_.end() ? PickleRef() : found->second;
  }

 private:
  PickleRef root_;
  std::unordered_map<std::string_view, PickleRef, TextHash> found_;
};

template <std::size_t N>
bool in(std::string_view key, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

// A TorchScript custom class object torch.save pickles by its state: the packed parameters of
// quantized modules (LinearPackedParamsBase, rnn's CellParamsBase, ...).
bool is_script_object(PickleRef v) {
  PickleRef cls = v.call_target();
  return cls && cls.is_global("torch", "ScriptObject");
}

// The value of a state dict's "<module>._packed_params" entry (a quantized Linear's (weight,
// bias) tuple), or a ScriptObject anywhere: tensors packed in a quantized module's parameters.
bool holds_packed_parameters(std::string_view key, PickleRef value) {
  if (is_script_object(value)) return true;
  constexpr std::string_view kPacked = "_packed_params";
  return (value.is(PickleKind::kTuple) || value.is(PickleKind::kList)) && key.size() >= kPacked.size() &&
         key.compare(key.size() - kPacked.size(), kPacked.size(), kPacked) == 0;
}

class ModelFinder {
 public:
  ModelFinder(TensorDecoder& decoder, const ReadLimits& limits, TextStore& text) : decoder_(decoder), limits_(limits), text_(text) {}

  bool is_module(PickleRef v) const {
    PickleRef state = object_state(v);
    return v.is(Kind::kCall) && state && state.get("_parameters") && state.get("_modules");
  }

  // Mostly tensors under string keys. Memoised: a dict shared by many keys is scanned once.
  bool is_state_dict(PickleRef v) {
    PickleRef dict = v.as_dict();
    if (!dict) return false;
    auto found = state_dicts_.find(dict.id());
    if (found != state_dicts_.end()) return found->second;
    std::size_t tensors = 0;
    PickleItems slots = dict.dict_slots();
    for (std::size_t i = 0, n = slots.size(); i + 1 < n; i += 2) {
      charge(limits_);
      std::optional<std::string_view> key = slots[i].string();
      if (key && (decoder_.is_rebuild_call(slots[i + 1]) || holds_packed_parameters(*key, slots[i + 1]))) ++tensors;
    }
    bool yes = tensors > 0 && tensors * 2 >= dict.size();
    state_dicts_.emplace(dict.id(), yes);
    return yes;
  }

  void collect_state_dict(PickleRef v, std::vector<TensorRecord>& out) {
    PickleRef dict = v.as_dict();
    out.reserve(out.size() + dict.size());
    platform::advise_huge_pages(out.data() + out.size(), (out.capacity() - out.size()) * sizeof(TensorRecord));
    PickleItems slots = dict.dict_slots();
    for (std::size_t i = 0, n = slots.size(); i + 1 < n; i += 2) {
      charge(limits_);
      std::optional<std::string_view> name = slots[i].string();
      if (!name) continue;
      if (!decoder_.is_rebuild_call(slots[i + 1])) {
        if (holds_packed_parameters(*name, slots[i + 1])) {
          std::string path(*name);
          collect_packed(slots[i + 1], path, out, 0);
        }
        continue;
      }
      TensorRecord& t = out.emplace_back();  // decoded in place
      if (!decoder_.tensor(slots[i + 1], *name, t)) {
        out.pop_back();
        continue;
      }
      t.name = text_.view(*name);
    }
  }

  // The tensors in a quantized module's packed parameters (tuples, lists and ScriptObject states,
  // nested), named by their path: "<key>.0", "<key>.1.0", ... Each container is walked once.
  void collect_packed(PickleRef v, std::string& path, std::vector<TensorRecord>& out, int depth) {
    charge(limits_);
    if (depth > kMaxPackedDepth) fail(ErrorCode::kLimitExceeded, "packed parameters nested too deeply");
    if (decoder_.is_rebuild_call(v)) {
      TensorRecord& t = out.emplace_back();
      if (!decoder_.tensor(v, path, t)) {
        out.pop_back();
        return;
      }
      t.name = text_.copy(path);
      if (t.role != TensorRecord::Role::kBuffer) t.packed = true;
      return;
    }
    PickleRef items = is_script_object(v) ? v.state() : v;  // a ScriptObject's state: (state, class name)
    if (!items.is(Kind::kTuple) && !items.is(Kind::kList)) return;
    if (!visited_packed_.insert(items.id()).second) return;
    std::size_t length = path.size();
    for (std::size_t i = 0, n = items.size(); i < n; ++i) {
      path.resize(length);
      path += '.';
      path += std::to_string(i);
      collect_packed(items.item(i), path, out, depth + 1);
    }
    path.resize(length);
  }

  // nn.Module pickled whole: _parameters (with requires_grad), _buffers, _modules.
  void collect_module(PickleRef module, const std::string& prefix, std::vector<TensorRecord>& out, int depth) {
    if (depth > kMaxModuleDepth) fail(ErrorCode::kLimitExceeded, "modules nested too deeply");
    if (!visited_modules_.insert(module.id()).second) return;  // a module reachable twice is counted once
    PickleRef state = object_state(module);
    take(state.get("_parameters"), prefix, TensorRecord::Role::kParameter, out);
    take(state.get("_buffers"), prefix, TensorRecord::Role::kBuffer, out);
    // Quantized modules keep their weights packed in ScriptObject attributes (_packed_params,
    // an LSTM's PackedParameter.param), outside _parameters.
    for (std::size_t i = 0, n = state.size(); i < n; ++i) {
      charge(limits_);
      std::optional<std::string_view> name = state.key(i).string();
      if (name && is_script_object(state.value(i))) {
        std::string path = prefix + std::string(*name);
        collect_packed(state.value(i), path, out, 0);
      }
    }
    PickleRef children = state.get("_modules").as_dict();
    for (std::size_t i = 0, n = children.size(); i < n; ++i) {
      charge(limits_);
      std::optional<std::string_view> name = children.key(i).string();
      if (name && is_module(children.value(i))) {
        collect_module(children.value(i), prefix + std::string(*name) + ".", out, depth + 1);
      }
    }
  }

  std::optional<OptimizerFacts> optimizer_facts(const RootIndex& root);

 private:
  void take(PickleRef field, const std::string& prefix, TensorRecord::Role role, std::vector<TensorRecord>& out) {
    PickleRef dict = field.as_dict();
    for (std::size_t i = 0, n = dict.size(); i < n; ++i) {
      charge(limits_);
      std::optional<std::string_view> name = dict.key(i).string();
      PickleRef value = dict.value(i);
      if (!name || !value || value.is(Kind::kNone)) continue;
      std::string full = prefix + std::string(*name);
      std::optional<TensorRecord> t = decoder_.tensor(value, full);
      if (!t) continue;
      t->name = text_.copy(full);
      t->role = role;
      if (role == TensorRecord::Role::kParameter && !t->requires_grad) t->requires_grad = true;
      out.push_back(std::move(*t));
    }
  }

  TensorDecoder& decoder_;
  const ReadLimits& limits_;
  TextStore& text_;
  static constexpr int kMaxPackedDepth = 16;
  std::unordered_map<ValueId, bool> state_dicts_;
  std::unordered_set<ValueId> visited_modules_;
  std::unordered_set<ValueId> visited_packed_;
};

std::optional<OptimizerFacts> ModelFinder::optimizer_facts(const RootIndex& root) {
  std::vector<PickleRef> optimizers;
  for (std::string_view key : {"optimizer", "optimizer_state_dict", "optim", "opt"}) {
    if (PickleRef v = root.get(key).as_dict()) optimizers.push_back(v);
  }
  for (std::string_view key : {"optimizer_states", "optimizers"}) {
    PickleRef list = root.get(key);
    if (!list.is(Kind::kList) && !list.is(Kind::kTuple)) continue;
    for (std::size_t i = 0, n = list.size(); i < n; ++i) {
      if (PickleRef item = list.item(i).as_dict()) optimizers.push_back(item);
    }
  }
  OptimizerFacts facts;
  bool any = false;
  std::unordered_set<ValueId> seen;  // one optimizer dict reached twice counts once
  for (PickleRef opt : optimizers) {
    if (!seen.insert(opt.id()).second) continue;
    PickleRef groups = opt.get("param_groups");
    PickleRef state = opt.get("state").as_dict();
    if (!groups || !state) continue;
    any = true;
    for (std::size_t g = 0, n = groups.size(); g < n; ++g) {
      PickleRef params = groups.item(g).get("params");
      if (params.is(Kind::kList) || params.is(Kind::kTuple)) facts.param_ids += params.size();
    }
    for (std::size_t i = 0, n = state.size(); i < n; ++i) {
      charge(limits_);
      PickleRef per_param = state.value(i).as_dict();
      if (!per_param) continue;
      bool found = false;
      for (std::string_view moment : kMoments) {
        PickleRef value = per_param.get(moment);
        if (!decoder_.is_rebuild_call(value)) continue;
        std::optional<TensorRecord> t = decoder_.tensor(value, "optimizer state");
        if (t) {
          facts.trained_shapes.push_back(std::move(t->shape));
          found = true;
          break;
        }
      }
      if (!found) ++facts.states_without_moment;
    }
  }
  if (!any) return std::nullopt;
  return facts;
}

PickleRef config_dict(PickleRef v) {
  if (PickleRef dict = v.as_dict()) return dict;
  return object_state(v);  // argparse.Namespace, dataclasses, OmegaConf-free configs
}

constexpr std::size_t kMaxConfigIntegers = 4096;

void add_config(PickleRef dict, std::string_view source, std::vector<EmbeddedConfig>& out) {
  if (!dict) return;
  EmbeddedConfig config{std::string(source), {}};
  for (std::size_t i = 0, n = dict.size(); i < n && config.integers.size() < kMaxConfigIntegers; ++i) {
    std::optional<std::string_view> name = dict.key(i).string();
    PickleRef value = dict.value(i);
    if (name && value.is(Kind::kInt)) config.integers.emplace_back(std::string(*name), *value.as_int());
  }
  out.push_back(std::move(config));
}

// Every config the checkpoint holds under a conventional key, and the ones nested in each.
std::vector<EmbeddedConfig> embedded_configs(const RootIndex& root) {
  std::vector<EmbeddedConfig> configs;
  for (std::string_view key : kConfigKeys) {
    PickleRef dict = config_dict(root.get(key));
    if (!dict) continue;
    add_config(dict, key, configs);
    for (std::string_view nested : {"model", "model_config", "model_args", "config"}) {
      add_config(config_dict(dict.get(nested)), key, configs);
    }
  }
  return configs;
}

}  // namespace

void read_pickled_model(PickleRef root, TensorDecoder& decoder, const ReadLimits& limits, CheckpointContents& out) {
  ModelFinder finder(decoder, limits, out.text);
  auto take = [&](PickleRef model) {
    if (finder.is_module(model)) {
      finder.collect_module(model, "", out.tensors, 0);
      out.roles_recorded = true;
      if (PickleRef cls = model.callable(); cls.is(Kind::kGlobal)) out.type = std::string(cls.name());
    } else {
      finder.collect_state_dict(model, out.tensors);
    }
  };
  if (finder.is_module(root)) {
    take(root);
    decoder.take_quantizer_tensors(out.tensors);
    return;
  }
  if (!root.as_dict()) fail(ErrorCode::kUnsupportedFormat, "data.pkl holds neither a state dict nor a module");
  RootIndex index(root);
  PickleRef chosen;
  for (std::string_view key : kModelKeys) {
    PickleRef v = index.get(key);
    if (v && (finder.is_module(v) || finder.is_state_dict(v))) {
      chosen = v;
      out.state_dict_key = std::string(key);
      break;
    }
  }
  if (!chosen && finder.is_state_dict(root)) chosen = root;
  PickleRef dict = root.as_dict();
  if (!chosen) {
    // One nested state dict or module under another name, and only one: take it.
    PickleRef only;
    std::string only_key;
    int candidates = 0;
    for (std::size_t i = 0, n = dict.size(); i < n; ++i) {
      charge(limits);
      std::optional<std::string_view> name = dict.key(i).string();
      if (!name || in(*name, kExtraKeys)) continue;
      PickleRef value = dict.value(i);
      if (finder.is_module(value) || finder.is_state_dict(value)) {
        if (candidates == 0 || value != only) ++candidates;
        only = value;
        only_key = std::string(*name);
      }
    }
    if (candidates == 1) {
      chosen = only;
      out.state_dict_key = only_key;
    }
  }
  if (!chosen) {
    std::string keys;
    for (std::size_t i = 0, n = dict.size(); i < n && keys.size() < 200; ++i) {
      if (std::optional<std::string_view> name = dict.key(i).string()) keys += (keys.empty() ? "" : ", ") + std::string(*name);
    }
    fail(ErrorCode::kUnsupportedFormat, "no model weights found (top-level keys: " + keys + ")");
  }
  take(chosen);
  decoder.take_quantizer_tensors(out.tensors);
  out.optimizer = finder.optimizer_facts(index);
  out.configs = embedded_configs(index);
}

}  // namespace ct
