// summarize: the counting rules applied to what a format reader found: tied weights once, buffers
// apart, trainability and the parameter/buffer split from recorded roles, the optimizer's state,
// or the table of buffer names (buffer_names.h), and every total checked (a wrap or a total
// JavaScript cannot hold exactly is refused).
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "../common/checked_math.h"
#include "../common/flat_index.h"
#include "architecture.h"
#include "buffer_names.h"
#include "model_info.h"

namespace ct {
namespace {

enum class Role { kTrainable, kFrozen, kBuffer };

bool is_weight_or_bias(const TensorRecord& t) {
  std::string_view last = last_component_of(t.name);
  return last == "weight" || last == "bias";
}

std::string count_of(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "256x256" or "scalar".
std::string shape_text(const Shape& shape) {
  if (shape.empty()) return "scalar";
  std::string out;
  for (std::int64_t d : shape) out += (out.empty() ? "" : "x") + std::to_string(d);
  return out;
}

// What the names decided, grouped by rule, for `exact` (never true when a name decided anything)
// and for exact_reason ("36 tensors named `tril` (256x256) counted as buffers by name").
class NameDecisions {
 public:
  void buffer(const BufferRule& rule, const TensorRecord& t) { note(rule.what, t, buffers_); }
  void frozen(const TensorRecord& t) { note("named weight or bias", t, frozen_); }
  bool any() const { return !buffers_.empty() || !frozen_.empty(); }

  std::string describe() const {
    std::string out;
    auto list = [&](const std::vector<Group>& groups, const char* as_one, const char* as_many) {
      for (const Group& g : groups) {
        out += out.empty() ? "" : ", ";
        out += count_of(g.count, "tensor", "tensors") + " " + std::string(g.what);
        if (g.one_shape) out += " (" + shape_text(g.shape) + (g.count > 1 && g.shape.empty() ? "s" : "") + ")";
        out += g.count == 1 ? as_one : as_many;
      }
    };
    list(buffers_, " counted as a buffer by name", " counted as buffers by name");
    list(frozen_, " counted as a frozen parameter by name", " counted as frozen parameters by name");
    return out;
  }

 private:
  struct Group {
    std::string_view what;
    std::size_t count = 0;
    Shape shape;
    bool one_shape = true;
  };
  static void note(std::string_view what, const TensorRecord& t, std::vector<Group>& groups) {
    Group* group = nullptr;
    for (Group& g : groups) {
      if (g.what == what) group = &g;
    }
    if (group == nullptr) {
      group = &groups.emplace_back();
      group->what = what;
      group->shape = t.shape;
    }
    ++group->count;
    group->one_shape = group->one_shape && group->shape == t.shape;
  }
  std::vector<Group> buffers_;
  std::vector<Group> frozen_;
};

struct Roles {
  std::vector<Role> roles;  // per unique tensor
  // Every tensor's role follows from what the file records (or from the optimizer's state and
  // names): `exact` when, besides, no name decided anything.
  bool complete = false;
  std::string reason;
  NameDecisions names;
};

// Quantized tensors and the tensors packed in a quantized module's parameters are parameters
// torch does not train; roles a module, TorchScript or a rebuild call records; else nothing.
std::optional<Role> recorded_role(const TensorRecord& t, bool trust_requires_grad) {
  if (t.role == TensorRecord::Role::kBuffer) return Role::kBuffer;
  if (t.packed) return Role::kFrozen;
  if (t.role == TensorRecord::Role::kParameter && trust_requires_grad) {
    return t.requires_grad.value_or(true) ? Role::kTrainable : Role::kFrozen;
  }
  return std::nullopt;
}

// Whole modules and TorchScript: the file records every role and requires_grad.
Roles roles_as_recorded(const std::vector<const TensorRecord*>& unique) {
  Roles out;
  for (const TensorRecord* t : unique) out.roles.push_back(recorded_role(*t, true).value_or(Role::kTrainable));
  out.complete = true;
  out.reason = "the file records which tensors are parameters and buffers";
  return out;
}

// State dicts hold detached tensors: buffers by the table of buffer names, every other tensor a
// trainable parameter.
Roles roles_by_name(const std::vector<const TensorRecord*>& unique, const BufferNames& names, std::string why) {
  Roles out;
  std::size_t packed = 0;
  for (std::size_t i = 0; i < unique.size(); ++i) {
    const TensorRecord* t = unique[i];
    Role role = Role::kTrainable;
    if (std::optional<Role> recorded = recorded_role(*t, false)) {
      role = *recorded;
      packed += t->packed;
    } else if (const BufferRule* rule = names.rule(i)) {
      role = Role::kBuffer;
      out.names.buffer(*rule, *t);
    }
    out.roles.push_back(role);
  }
  out.reason = std::move(why) + ": ";
  if (out.names.any()) out.reason += out.names.describe() + "; ";
  if (packed > 0) out.reason += count_of(packed, "quantized or packed tensor is a parameter", "quantized or packed tensors are parameters") + " torch does not train; ";
  out.reason += out.names.any() || packed > 0 ? "every other tensor is counted as a trainable parameter"
                                              : "every tensor is counted as a trainable parameter";
  return out;
}

// The optimizer's state has one moment per trained parameter, shaped like it: those tensors are
// the trainable parameters. The others are frozen parameters or buffers: when every parameter the
// optimizer was given has a moment and none of the others is named weight or bias, nothing is
// frozen and they are all buffers; else names tell them apart (and `exact` says so).
std::optional<Roles> roles_from_optimizer(const std::vector<const TensorRecord*>& unique, const OptimizerFacts& facts,
                                          const BufferNames& names, std::string& why_not) {
  if (facts.trained_shapes.empty()) {
    why_not = "the optimizer has no state yet";
    return std::nullopt;
  }
  if (facts.states_without_moment > 0) {
    why_not = "the optimizer's state has no moment tensor this reader knows";
    return std::nullopt;
  }
  std::map<Shape, std::uint64_t> wanted;
  for (const auto& shape : facts.trained_shapes) ++wanted[shape];
  Roles out;
  out.roles.resize(unique.size(), Role::kBuffer);
  // Shapes say which tensors the moments belong to; where several tensors share a shape, those
  // named like parameters are matched first and those named like buffers last (a buffer such as
  // a (16, 16) mask registered before the layers comes first in the state dict). Matching within
  // one shape changes no count.
  auto priority = [&](std::size_t i) { return names.rule(i) != nullptr ? 2 : is_weight_or_bias(*unique[i]) ? 0 : 1; };
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t i = 0; i < unique.size(); ++i) {
      if (priority(i) != pass || unique[i]->packed) continue;
      auto found = wanted.find(unique[i]->shape);
      if (found != wanted.end() && found->second > 0) {
        --found->second;
        out.roles[i] = Role::kTrainable;
      }
    }
  }
  for (const auto& [shape, left] : wanted) {
    if (left > 0) {
      why_not = "the optimizer's state does not match the model's tensors";
      return std::nullopt;
    }
  }
  std::string trained =
      "the optimizer's state gives the " + count_of(facts.trained_shapes.size(), "trained parameter", "trained parameters");
  bool stateless_ids = facts.param_ids > facts.trained_shapes.size();
  std::vector<std::size_t> others;
  bool parameter_named = false;
  for (std::size_t i = 0; i < unique.size(); ++i) {
    if (out.roles[i] == Role::kTrainable) continue;
    if (std::optional<Role> recorded = recorded_role(*unique[i], false)) {
      out.roles[i] = *recorded;
      continue;
    }
    others.push_back(i);
    parameter_named = parameter_named || is_weight_or_bias(*unique[i]);
  }
  out.complete = true;
  if (others.empty()) {
    out.reason = trained;
    return out;
  }
  if (!stateless_ids && !parameter_named) {
    // Every parameter the optimizer was given is trained and no other tensor is named like a
    // parameter: nothing is frozen, so the others are buffers whatever their names.
    out.reason = trained + "; nothing is frozen, so the other " +
                 count_of(others.size(), "tensor is a buffer", "tensors are buffers") + " (e.g. " +
                 std::string(unique[others.front()]->name) + ")";
    return out;
  }
  std::vector<const TensorRecord*> unclear;
  for (std::size_t i : others) {
    if (const BufferRule* rule = names.rule(i)) {
      out.names.buffer(*rule, *unique[i]);
    } else if (is_weight_or_bias(*unique[i])) {
      out.roles[i] = Role::kFrozen;
      out.names.frozen(*unique[i]);
    } else {
      unclear.push_back(unique[i]);  // counted as a buffer
    }
  }
  out.reason = trained;
  if (out.names.any()) out.reason += "; " + out.names.describe();
  if (!unclear.empty()) {
    out.complete = false;
    out.reason += "; cannot tell whether " + std::string(unclear.front()->name) +
                  (unclear.size() > 1 ? " (and " + std::to_string(unclear.size() - 1) + " more)" : std::string()) +
                  " is a frozen parameter or a buffer: counted as a buffer";
  }
  return out;
}

}  // namespace

ModelInfo summarize(CheckpointContents contents) {
  ModelInfo info;
  info.format = contents.format;
  info.state_dict_key = contents.state_dict_key;
  info.files = contents.files;
  info.bytes_read = contents.bytes_read;
  info.classes_needed = contents.classes_needed;

  // Distinct tensors: an alias (same storage, offset, size, stride) counts once.
  const std::vector<TensorRecord>& tensors = contents.tensors;
  FlatIndex seen(tensors.size());
  std::vector<std::uint32_t> hashes(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) hashes[i] = FlatIndex::hash_of(tensors[i].identity);
  std::vector<const TensorRecord*> unique;
  unique.reserve(tensors.size());
  constexpr std::size_t kAhead = 8;  // slots prefetched ahead of the inserts
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (i + kAhead < tensors.size()) seen.prefetch(hashes[i + kAhead]);
    const TensorRecord& t = tensors[i];
    auto position = static_cast<std::uint32_t>(unique.size());
    if (!t.identity.empty() && seen.insert(t.identity, hashes[i], position, [&](std::uint32_t k) -> std::string_view {
          return unique[k]->identity;
        }) != position) {
      continue;
    }
    unique.push_back(&t);
  }

  Roles roles;
  if (contents.roles_recorded) {
    roles = roles_as_recorded(unique);
  } else {
    BufferNames names(unique);
    std::string why_not = "no optimizer state or recorded roles";
    std::optional<Roles> from_optimizer;
    if (contents.optimizer) from_optimizer = roles_from_optimizer(unique, *contents.optimizer, names, why_not);
    roles = from_optimizer ? std::move(*from_optimizer) : roles_by_name(unique, names, why_not);
  }

  std::map<std::string_view, std::uint64_t> dtypes;
  std::uint64_t bits = 0;
  std::vector<const TensorRecord*> parameters;
  parameters.reserve(unique.size());
  const char* last_dtype = nullptr;
  std::uint64_t* last_count = nullptr;
  for (std::size_t i = 0; i < unique.size(); ++i) {
    const TensorRecord* t = unique[i];
    if (t->dtype != last_dtype) {  // dtype names are static strings: runs of one dtype skip the map
      last_dtype = t->dtype;
      last_count = &dtypes[t->dtype];
    }
    *last_count = checked_add(*last_count, t->numel, "element count");
    if (roles.roles[i] == Role::kBuffer) {
      info.num_buffer_elements = checked_add(info.num_buffer_elements, t->numel, "buffer element count");
      continue;
    }
    // Named for the architecture: not packed tensors, named by where they sit in a quantized
    // module's packed state rather than by modules.
    if (!t->packed) parameters.push_back(t);
    info.num_parameters = checked_add(info.num_parameters, t->numel, "parameter count");
    bits = checked_add(bits, checked_mul(t->numel, t->element_bits, "parameter bits"), "parameter bits");
    if (roles.roles[i] == Role::kTrainable) {
      info.num_trainable_parameters = checked_add(info.num_trainable_parameters, t->numel, "parameter count");
    }
  }
  for (std::uint64_t total : {info.num_parameters, info.num_buffer_elements, bits / 8}) {
    if (total > kMaxExactJsInteger) {
      fail(ErrorCode::kLimitExceeded, "the file claims " + std::to_string(total) +
                                          " elements or bytes, more than a JavaScript number holds exactly (2^53)");
    }
  }
  info.num_tensors = unique.size();
  info.parameter_bytes = bits / 8 + (bits % 8 != 0);
  for (const auto& [name, count] : dtypes) info.dtypes.emplace_back(std::string(name), count);
  // Exact only where the file itself gives every role: never where a name decided one.
  info.exact = roles.complete && !roles.names.any();
  info.exact_reason = roles.reason;
  if (!contents.not_understood.empty()) {
    info.exact = false;
    info.exact_reason = count_of(contents.not_understood.size(), "tensor", "tensors") +
                        " could not be decoded and are not counted: " + contents.not_understood.front() +
                        (contents.not_understood.size() > 1 ? ", ..." : "");
  }

  info.type = !contents.type.empty() ? contents.type
              : info.format.rfind("safetensors", 0) == 0 ? "safetensors"
                                                          : "state_dict";
  info.architecture = architecture_from_configs(contents.configs);
  fill_missing(info.architecture, infer_from_keys(parameters));
  return info;
}

}  // namespace ct
