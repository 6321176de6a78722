#include "buffer_names.h"

#include <cstdint>
#include <cstring>

namespace ct {
namespace {

using Guard = BufferRule::Guard;

bool is_integer_dtype(const char* dtype) {
  for (const char* name : {"int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64"}) {
    if (std::strcmp(dtype, name) == 0) return true;
  }
  return false;
}

bool is_mask_dtype(const char* dtype) { return std::strcmp(dtype, "bool") == 0 || std::strcmp(dtype, "uint8") == 0; }

bool is_square_mask_4d(const Shape& s) { return s.size() == 4 && s[0] == 1 && s[1] == 1 && s[2] == s[3] && s[2] > 1; }

bool shape_fits(Guard guard, const TensorRecord& t) {
  const Shape& s = t.shape;
  switch (guard) {
    case Guard::kAny: return true;
    case Guard::kScalar: return s.empty();
    case Guard::kOneDim: return s.size() == 1;
    case Guard::kInteger: return is_integer_dtype(t.dtype);
    case Guard::kCausalMask: return is_square_mask_4d(s) || (is_mask_dtype(t.dtype) && s.size() >= 2);
    case Guard::kTril: return is_square_mask_4d(s) || (s.size() == 2 && s[0] == s[1] && s[0] > 1);
    case Guard::kWindowMask:
      return shape_fits(Guard::kCausalMask, t) || (s.size() == 3 && s[1] == s[2] && s[1] > 1);
    case Guard::kPositionalTable: return s.size() == 3 && (s[0] == 1 || s[1] == 1) && s[2] > 1;
    case Guard::kCoordsTable: return s.size() == 4 && s[0] == 1 && s[3] == 2;
    case Guard::kUntrackedBatchNorm:
    case Guard::kQuantizedScale: return true;  // decided by the neighbours
  }
  return false;
}

constexpr const char* kBatchNorm = "torch.nn BatchNorm and InstanceNorm layers with running statistics";
constexpr const char* kFrozenBatchNorm =
    "torchvision.ops.misc.FrozenBatchNorm2d (the backbones of torchvision's detection models)";
constexpr const char* kUntracked = "of BatchNorm layers without num_batches_tracked (FrozenBatchNorm2d)";
constexpr const char* kQuantized = "torch.ao.nn.quantized modules (Linear, Conv, ...: their state dict's scale and zero_point)";

// The rules, first match first.
const std::vector<BufferRule> kRules = {
      // A BatchNorm group (weight, bias, running_mean, running_var) with no num_batches_tracked is
      // torchvision's FrozenBatchNorm2d, whose four tensors are all buffers.
      {"weight", Guard::kUntrackedBatchNorm, kUntracked, kFrozenBatchNorm},
      {"bias", Guard::kUntrackedBatchNorm, kUntracked, kFrozenBatchNorm},
      {"running_mean", Guard::kUntrackedBatchNorm, kUntracked, kFrozenBatchNorm},
      {"running_var", Guard::kUntrackedBatchNorm, kUntracked, kFrozenBatchNorm},
      {"running_mean", Guard::kAny, "named `running_mean`", kBatchNorm},
      {"running_var", Guard::kAny, "named `running_var`", kBatchNorm},
      {"num_batches_tracked", Guard::kAny, "named `num_batches_tracked`", kBatchNorm},
      {"tril", Guard::kTril, "named `tril`", "Karpathy's \"Let's build GPT: from scratch\" lecture (gpt.py, Head.tril)"},
      {"bias", Guard::kCausalMask, "named `bias` shaped as a causal mask",
       "nanoGPT and minGPT (CausalSelfAttention.bias); transformers' GPT-2, GPT-Neo and GPT-J (attn.bias) while it was saved"},
      {"masked_bias", Guard::kScalar, "named `masked_bias`",
       "transformers' GPT-2, GPT-Neo and GPT-J (attn.masked_bias) while it was saved"},
      {"mask", Guard::kCausalMask, "named `mask`", "minGPT's first versions (CausalSelfAttention.mask)"},
      {"causal_mask", Guard::kCausalMask, "named `causal_mask`", "transformers' CodeGen (attn.causal_mask) while it was saved"},
      {"attn_mask", Guard::kWindowMask, "named `attn_mask`",
       "Swin Transformer (microsoft/Swin-Transformer and timm: the shifted windows' SwinTransformerBlock.attn_mask)"},
      {"pe", Guard::kPositionalTable, "named `pe`",
       "PyTorch's transformer tutorial (PositionalEncoding.pe, (max_len, 1, d_model)); The Annotated Transformer ((1, max_len, d_model))"},
      {"inv_freq", Guard::kOneDim, "named `inv_freq`",
       "rotary embeddings: EleutherAI's gpt-neox; transformers' Llama and GPT-NeoX (rotary_emb.inv_freq) while it was saved"},
      {"position_ids", Guard::kInteger, "named `position_ids`", "transformers' BERT, RoBERTa, CLIP, ... (embeddings.position_ids)"},
      {"token_type_ids", Guard::kInteger, "named `token_type_ids`", "transformers' BERT-style embeddings (embeddings.token_type_ids)"},
      {"relative_position_index", Guard::kInteger, "named `relative_position_index`",
       "Swin Transformer (official, timm, torchvision) and BEiT"},
      {"relative_coords_table", Guard::kCoordsTable, "named `relative_coords_table`", "Swin Transformer V2 (official, torchvision)"},
      {"_float_tensor", Guard::kAny, "named `_float_tensor`", "fairseq's SinusoidalPositionalEmbedding"},
      {"scale", Guard::kQuantizedScale, "named `scale` and `zero_point` in quantized modules", kQuantized},
      {"zero_point", Guard::kQuantizedScale, "named `scale` and `zero_point` in quantized modules", kQuantized},
};


}  // namespace

const std::vector<BufferRule>& buffer_rules() { return kRules; }

// The rules whose guard looks at no neighbour, and the lengths of their names, a bit each.
struct PlainRules {
  std::vector<const BufferRule*> rules;
  std::uint64_t lengths = 0;
};

const PlainRules& plain_rules() {
  static const PlainRules plain = [] {
    PlainRules p;
    for (const BufferRule& rule : kRules) {
      if (rule.guard == Guard::kUntrackedBatchNorm || rule.guard == Guard::kQuantizedScale) continue;
      p.rules.push_back(&rule);
      p.lengths |= std::uint64_t{1} << rule.name.size();
    }
    return p;
  }();
  return plain;
}

BufferNames::BufferNames(const std::vector<const TensorRecord*>& tensors) : rules_(tensors.size(), kNone) {
  // One pass over the names: the rules that need no neighbour, and the neighbours the others need.
  const PlainRules& plain = plain_rules();
  PrefixSet running_means;
  PrefixSet tracked;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorRecord& t = *tensors[i];
    std::size_t dot = t.name.rfind('.');
    std::string_view last = dot == std::string_view::npos ? t.name : t.name.substr(dot + 1);
    if (last.size() >= 64 || !(plain.lengths >> last.size() & 1 || last.size() == 5 || last.size() == 10)) continue;
    std::string_view prefix = dot == std::string_view::npos ? std::string_view() : t.name.substr(0, dot);
    if (last == "running_mean") running_means.insert(prefix);
    if (last == "num_batches_tracked") tracked.insert(prefix);
    if (t.shape.empty() && last == "scale") scalar_scales_.insert(prefix);
    if (t.shape.empty() && last == "zero_point") scalar_zero_points_.insert(prefix);
    for (const BufferRule* rule : plain.rules) {
      if (rule->name == last && shape_fits(rule->guard, t)) {
        rules_[i] = static_cast<std::uint8_t>(rule - kRules.data());
        break;
      }
    }
  }
  for (std::string_view prefix : running_means) {
    if (!tracked.count(prefix)) untracked_batch_norms_.insert(prefix);
  }
  // Rare: BatchNorm groups without num_batches_tracked, quantized scale and zero point. Only then
  // a second pass, with every rule in the table's order.
  if (untracked_batch_norms_.empty() && (scalar_scales_.empty() || scalar_zero_points_.empty())) return;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorRecord& t = *tensors[i];
    std::string_view last = last_component_of(t.name);
    rules_[i] = kNone;
    for (std::size_t r = 0; r < kRules.size(); ++r) {
      if (kRules[r].name == last && applies(kRules[r], t, prefix_of(t.name))) {
        rules_[i] = static_cast<std::uint8_t>(r);
        break;
      }
    }
  }
}

bool BufferNames::applies(const BufferRule& rule, const TensorRecord& t, std::string_view prefix) const {
  switch (rule.guard) {
    case Guard::kUntrackedBatchNorm: return untracked_batch_norms_.count(prefix) > 0;
    case Guard::kQuantizedScale:
      return t.shape.empty() && scalar_scales_.count(prefix) > 0 && scalar_zero_points_.count(prefix) > 0;
    default: return shape_fits(rule.guard, t);
  }
}

}  // namespace ct
