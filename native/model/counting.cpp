// summarize: the counting rules applied to what a format reader found: tied weights once, buffers
// apart, trainability and the parameter/buffer split from recorded roles, the optimizer's state,
// or names, and every total checked (a wrap or a total JavaScript cannot hold exactly is refused).
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "../common/checked_math.h"
#include "../common/flat_index.h"
#include "architecture.h"
#include "model_info.h"

namespace ct {
namespace {

enum class Role { kTrainable, kFrozen, kBuffer };

std::string_view last_component_of(std::string_view name) {
  std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// State dicts do not say which entries are buffers; these names and shapes do.
bool is_buffer_name(const TensorRecord& t) {
  static constexpr std::string_view kBufferNames[] = {
      "running_mean", "running_var", "num_batches_tracked", "position_ids", "inv_freq", "masked_bias",
      "relative_position_index", "_float_tensor", "token_type_ids"};
  std::string_view last = last_component_of(t.name);
  for (std::string_view known : kBufferNames) {
    if (last == known) return true;
  }
  // Causal masks (nanoGPT's attn.bias, GPT-2's attn.bias): shape (1, 1, n, n). A learned bias is
  // never shaped like that.
  bool mask_name = last == "bias" || last == "mask" || last == "causal_mask" || last == "attn_mask";
  return mask_name && t.shape.size() == 4 && t.shape[0] == 1 && t.shape[1] == 1 && t.shape[2] == t.shape[3] &&
         t.shape[2] > 1;
}

// torch's own modules name their parameters weight and bias (Linear, Conv, Embedding, norms).
bool is_parameter_name(const TensorRecord& t) {
  std::string_view last = last_component_of(t.name);
  return (last == "weight" || last == "bias") && !is_buffer_name(t);
}

std::string count_of(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

struct Roles {
  std::vector<Role> roles;  // per unique tensor
  bool exact = false;
  std::string reason;
};

// Roles as recorded (whole modules, TorchScript: requires_grad says trainable) or, where not
// recorded, by name (state dicts hold detached tensors: all count as trainable).
Roles roles_by_name(const std::vector<const TensorRecord*>& unique, bool recorded, std::string why) {
  Roles out;
  for (const TensorRecord* t : unique) {
    bool buffer = t->role == TensorRecord::Role::kUnknown ? is_buffer_name(*t) : t->role == TensorRecord::Role::kBuffer;
    bool trainable = !recorded || t->requires_grad.value_or(true);
    out.roles.push_back(buffer ? Role::kBuffer : trainable ? Role::kTrainable : Role::kFrozen);
  }
  out.reason = std::move(why);
  return out;
}

// The optimizer's state has one moment per trained parameter, shaped like it: those tensors are
// the trainable parameters. The others are frozen parameters or buffers, told apart by names; when
// some are frozen and others have names that say neither, the split is not exact.
std::optional<Roles> roles_from_optimizer(const std::vector<const TensorRecord*>& unique, const OptimizerFacts& facts,
                                          std::string& why_not) {
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
  // a (16, 16) mask registered before the layers comes first in the state dict).
  auto priority = [&](const TensorRecord& t) { return is_parameter_name(t) ? 0 : is_buffer_name(t) ? 2 : 1; };
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t i = 0; i < unique.size(); ++i) {
      if (priority(*unique[i]) != pass) continue;
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
  std::size_t frozen = 0;
  std::size_t named_buffers = 0;
  std::vector<const TensorRecord*> unclear;
  for (std::size_t i = 0; i < unique.size(); ++i) {
    if (out.roles[i] == Role::kTrainable) continue;
    if (is_buffer_name(*unique[i])) {
      ++named_buffers;
    } else if (is_parameter_name(*unique[i])) {
      out.roles[i] = Role::kFrozen;
      ++frozen;
    } else {
      unclear.push_back(unique[i]);  // counted as a buffer
    }
  }
  bool stateless_ids = facts.param_ids > facts.trained_shapes.size();
  std::string trained = "the optimizer's state gives the " + count_of(facts.trained_shapes.size(), "trained parameter", "trained parameters");
  if (unclear.empty()) {
    out.exact = true;
    out.reason = trained;
    if (frozen > 0 || named_buffers > 0) {
      out.reason += "; the other tensors (" + (frozen > 0 ? count_of(frozen, "frozen parameter", "frozen parameters") : std::string()) +
                    (frozen > 0 && named_buffers > 0 ? ", " : "") +
                    (named_buffers > 0 ? count_of(named_buffers, "buffer", "buffers") : std::string()) + ") told apart by their names";
    }
  } else if (frozen == 0 && !stateless_ids) {
    // Nothing is frozen: every parameter is trained, so a tensor the optimizer does not train is a buffer.
    out.exact = true;
    out.reason = trained + "; nothing is frozen, so the other " + count_of(named_buffers + unclear.size(), "tensor is a buffer", "tensors are buffers") +
                 " (e.g. " + std::string(unclear.front()->name) + ")";
  } else {
    out.exact = false;
    out.reason = trained + ", but cannot tell whether " + std::string(unclear.front()->name) +
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
    roles = roles_by_name(unique, true, "the file records which tensors are parameters and buffers");
    roles.exact = true;
  } else if (contents.optimizer) {
    std::string why_not;
    std::optional<Roles> from_optimizer = roles_from_optimizer(unique, *contents.optimizer, why_not);
    roles = from_optimizer ? std::move(*from_optimizer)
                           : roles_by_name(unique, false, why_not + ": parameters and buffers told apart by their names");
  } else {
    roles = roles_by_name(unique, false, "no optimizer state or recorded roles: parameters and buffers told apart by their names");
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
    parameters.push_back(t);
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
  info.exact = roles.exact;
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
  info.architecture = contents.architecture;
  fill_missing(info.architecture, infer_from_keys(parameters));
  return info;
}

}  // namespace ct
