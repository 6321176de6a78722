#include "architecture.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "../common/text.h"
#include "../common/text_hash.h"

namespace ct {
namespace {

// DDP's "module.", Lightning's "model.", torch.compile's "_orig_mod.": shared prefixes that say
// nothing about the architecture.
std::vector<std::string_view> strip_wrappers(std::vector<std::string_view> names) {
  for (bool stripped = true; stripped && !names.empty();) {
    stripped = false;
    for (std::string_view prefix : {"module.", "model.", "_orig_mod."}) {
      bool all = std::all_of(names.begin(), names.end(), [&](std::string_view n) { return n.substr(0, prefix.size()) == prefix; });
      if (all) {
        for (std::string_view& n : names) n.remove_prefix(prefix.size());
        stripped = true;
      }
    }
  }
  return names;
}

bool is_block_index(std::string_view part) {
  return !part.empty() && part.size() < 7 && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> first_positive(const IntField& field, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    std::optional<std::int64_t> v = field(name);
    if (v && *v > 0) return v;
  }
  return std::nullopt;
}

}  // namespace

ArchitectureFields architecture_from_config(const IntField& field) {
  ArchitectureFields a;
  a.d_model = first_positive(field, {"hidden_size", "n_embd", "d_model", "dim", "embed_dim", "n_embed", "d_embed", "emb_dim", "hidden_dim"});
  a.num_layers = first_positive(field, {"num_hidden_layers", "n_layer", "num_layers", "n_layers", "depth"});
  a.num_heads = first_positive(field, {"num_attention_heads", "n_head", "num_heads", "n_heads"});
  a.vocab_size = first_positive(field, {"vocab_size", "padded_vocab_size", "n_vocab"});
  a.max_seq_len = first_positive(field, {"max_position_embeddings", "n_positions", "n_ctx", "block_size", "max_seq_len",
                                         "seq_length", "seq_len", "context_length", "max_seq_length", "max_len"});
  return a;
}

namespace {

// The one tensor a name pattern picks out, or none when two do.
struct Unique {
  const TensorRecord* found = nullptr;
  bool ambiguous = false;
  void offer(const TensorRecord* t) {
    if (found != nullptr && found != t) ambiguous = true;
    found = t;
  }
  const TensorRecord* get() const { return ambiguous ? nullptr : found; }
};

// "<i>" or, as torchvision's VisionTransformer names its blocks, "encoder_layer_<i>": the block
// index, or -1; `stem` gets the length of what comes before the number.
long block_index(std::string_view part, std::size_t* stem = nullptr) {
  constexpr std::string_view kVitBlock = "encoder_layer_";
  if (part.empty()) return -1;
  std::size_t before = 0;
  if (part[0] == 'e' && part.substr(0, kVitBlock.size()) == kVitBlock) {
    part.remove_prefix(kVitBlock.size());
    before = kVitBlock.size();
  }
  if (part.empty() || part[0] < '0' || part[0] > '9' || !is_block_index(part)) return -1;
  if (stem != nullptr) *stem = before;
  long index = 0;
  for (char c : part) index = index * 10 + (c - '0');
  return index;
}

// Repeated blocks: "<prefix>.<i>.<suffix>" with i = 0..N-1, every block holding the same
// (non-trivial) set of suffixes. Only a model with one list of blocks has an unambiguous layer
// count: where several lists hold blocks of four tensors or more (ResNet's layer1..layer4, an
// encoder and a decoder), the count is left unknown. `lists_of_blocks` says how many there are. A block's suffix set is compared by its size
// and the sum of its suffixes' hashes (names are distinct, so no suffix repeats within a block):
// no per-block sets or sorts.
std::optional<std::int64_t> repeated_blocks(const std::vector<std::string_view>& names, int& lists_of_blocks) {
  struct Block {
    std::size_t suffixes = 0;
    std::uint64_t hash_sum = 0;
  };
  std::map<std::string_view, std::map<long, Block>> lists;
  // State dicts list a block's entries together: the last block found is usually the next one's.
  std::string_view last_prefix;
  long last_index = -1;
  Block* last_block = nullptr;
  for (std::string_view name : names) {
    std::size_t start = 0;
    while (start < name.size()) {
      std::size_t end = name.find('.', start);
      if (end == std::string_view::npos) break;
      std::string_view part = name.substr(start, end - start);
      std::size_t stem = 0;
      long index = block_index(part, &stem);
      if (index >= 0) {
        std::string_view prefix = name.substr(0, start + stem);  // "transformer.h.", "encoder.layers.encoder_layer_"
        if (last_block == nullptr || index != last_index || prefix != last_prefix) {
          last_block = &lists[prefix][index];  // std::map nodes stay put as others are added
          last_prefix = prefix;
          last_index = index;
        }
        Block& block = *last_block;
        block.suffixes += 1;
        block.hash_sum += text_hash(name.substr(end + 1));
        break;
      }
      start = end + 1;
    }
  }
  std::optional<std::int64_t> layers;
  lists_of_blocks = 0;
  for (const auto& [prefix, blocks] : lists) {
    bool substantial = std::any_of(blocks.begin(), blocks.end(), [](const auto& b) { return b.second.suffixes >= 4; });
    if (!substantial) continue;
    ++lists_of_blocks;
    bool contiguous = blocks.begin()->first == 0 && blocks.rbegin()->first == static_cast<long>(blocks.size()) - 1;
    const Block& first = blocks.begin()->second;
    bool same = std::all_of(blocks.begin(), blocks.end(), [&](const auto& b) {
      return b.second.suffixes == first.suffixes && b.second.hash_sum == first.hash_sum;
    });
    if (contiguous && same) layers = static_cast<std::int64_t>(blocks.size());
  }
  if (lists_of_blocks != 1) return std::nullopt;
  return layers;
}

// torchvision's ResNet (and ResNeXt, Wide ResNet; timm's plain ResNets name theirs alike): conv1,
// then layer1..layer4 of BasicBlocks (conv1, conv2) or Bottlenecks (conv1, conv2, conv3). Its
// depth as the family counts it: the convolutions of the blocks, plus the stem and the classifier
// (resnet18: 2 x (2 + 2 + 2 + 2) + 2; resnet50: 3 x (3 + 4 + 6 + 3) + 2). Only at the top of the
// names: a detection or segmentation model with a ResNet backbone is not a ResNet.
std::optional<std::int64_t> resnet_depth(const std::vector<std::string_view>& names) {
  bool stem = false;
  std::map<std::pair<int, long>, unsigned> convs;  // (stage, block) -> bit per conv1..conv3
  for (std::string_view name : names) {
    if (name == "conv1.weight") stem = true;
    if (name.size() < 20 || name.substr(0, 5) != "layer" || name.compare(name.size() - 7, 7, ".weight") != 0) continue;
    // layer<s>.<i>.conv<c>.weight
    std::string_view rest = name.substr(5, name.size() - 12);
    if (rest.size() < 9 || rest[0] < '1' || rest[0] > '4' || rest[1] != '.') continue;
    std::size_t dot = rest.find('.', 2);
    if (dot == std::string_view::npos || !is_block_index(rest.substr(2, dot - 2))) continue;
    long block = block_index(rest.substr(2, dot - 2));
    std::string_view conv = rest.substr(dot + 1);
    if (conv.size() != 5 || conv.substr(0, 4) != "conv" || conv[4] < '1' || conv[4] > '3') continue;
    convs[{rest[0] - '0', block}] |= 1u << (conv[4] - '1');
  }
  if (!stem || convs.empty()) return std::nullopt;
  unsigned kind = convs.begin()->second;
  if (kind != 0b011 && kind != 0b111) return std::nullopt;
  std::int64_t blocks = 0;
  for (int stage = 1; stage <= 4; ++stage) {
    long count = 0;
    for (const auto& [key, bits] : convs) {
      if (key.first != stage) continue;
      if (bits != kind || key.second != count) return std::nullopt;  // blocks 0..n-1, all of one kind
      ++count;
    }
    if (count == 0) return std::nullopt;
    blocks += count;
  }
  return blocks * (kind == 0b011 ? 2 : 3) + 2;
}

}  // namespace

ArchitectureFields architecture_from_configs(const std::vector<EmbeddedConfig>& configs) {
  for (const EmbeddedConfig& config : configs) {
    ArchitectureFields a = architecture_from_config([&](std::string_view name) -> std::optional<std::int64_t> {
      for (const auto& [key, value] : config.integers) {
        if (key == name) return value;  // the first, as a dict lookup in the pickle finds it
      }
      return std::nullopt;
    });
    if (a.any()) {
      a.source = config.source;
      return a;
    }
  }
  return {};
}

ArchitectureFields infer_from_keys(const std::vector<const TensorRecord*>& tensors) {
  ArchitectureFields a;
  std::vector<std::string_view> names;
  names.reserve(tensors.size());
  for (const TensorRecord* t : tensors) names.push_back(t->name);
  names = strip_wrappers(std::move(names));

  // The token and position embeddings: the one 2-D tensor whose name ends in one of each list's
  // suffixes ("<module>.weight", one dot each). A name's last two components are compared whole
  // (most differ by length at once), both lists in one pass over the names.
  static constexpr std::string_view kTokens[] = {"wte.weight", "embed_tokens.weight", "word_embeddings.weight",
                                                 "tok_embeddings.weight", "token_embedding.weight", "tok_emb.weight",
                                                 "token_embedding_table.weight"};
  // Not embed_positions: OPT's and BART's tables hold two rows more than their context.
  static constexpr std::string_view kPositions[] = {"wpe.weight", "position_embeddings.weight", "pos_emb.weight",
                                                    "position_embedding_table.weight"};
  Unique token, position, class_token;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Shape& shape = tensors[i]->shape;
    std::string_view n = names[i];
    // torchvision's VisionTransformer: class_token (1, 1, d_model).
    if (n == "class_token" && shape.size() == 3 && shape[0] == 1 && shape[1] == 1) class_token.offer(tensors[i]);
    if (shape.size() != 2) continue;
    // PyTorch's transformer tutorial: the model's own embedding, at the top.
    if (n == "embedding.weight") token.offer(tensors[i]);
    std::size_t last_dot = n.rfind('.');
    if (last_dot == std::string_view::npos || last_dot == 0) continue;
    std::size_t dot = n.rfind('.', last_dot - 1);
    std::string_view tail = dot == std::string_view::npos ? n : n.substr(dot + 1);
    for (std::string_view s : kTokens) {
      if (tail == s) token.offer(tensors[i]);
    }
    for (std::string_view s : kPositions) {
      if (tail == s) position.offer(tensors[i]);
    }
  }
  if (const TensorRecord* tok = token.get()) {
    a.vocab_size = tok->shape[0];
    a.d_model = tok->shape[1];
  } else if (const TensorRecord* cls = class_token.get()) {
    a.d_model = cls->shape[2];
  }
  if (const TensorRecord* pos = position.get()) {
    a.max_seq_len = pos->shape[0];
  }
  int lists_of_blocks = 0;
  a.num_layers = repeated_blocks(names, lists_of_blocks);
  if (lists_of_blocks >= 4) a.num_layers = resnet_depth(names);  // layer1..layer4, and maybe more
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

}  // namespace ct
