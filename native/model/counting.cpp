// summarize: the counting rules applied to what a format reader found (tied weights once, buffers
// apart, trainability from recorded roles or the optimizer's state).
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "../common/text.h"
#include "architecture.h"
#include "model_info.h"

namespace ct {
namespace {

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

}  // namespace

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

}  // namespace ct
