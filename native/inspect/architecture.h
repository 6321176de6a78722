// Architecture from names and shapes: d_model, layers, heads, vocabulary, inferred from the
// parameters' keys when no config says them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../checkpoint/checkpoint_contents.h"

namespace ct {

struct ArchitectureFields {
  std::optional<std::int64_t> d_model;
  std::optional<std::int64_t> num_layers;
  std::optional<std::int64_t> num_heads;
  std::optional<std::int64_t> vocab_size;
  std::optional<std::int64_t> max_seq_len;
  std::string source;  // "model_args", "hyper_parameters", "config.json", "key_patterns", ...
  bool any() const { return d_model || num_layers || num_heads || vocab_size || max_seq_len; }
};

// The one table of config field synonyms (nanoGPT model_args, Lightning hyper_parameters, Hugging
// Face config.json, ...): each field is read from the first of its names that `field` finds with a
// positive integer. `field(name)` returns the integer stored under `name`, if any.
using IntField = std::function<std::optional<std::int64_t>(std::string_view name)>;
ArchitectureFields architecture_from_config(const IntField& field);

// The first of the configs a pickled checkpoint holds that names any field, read as above.
ArchitectureFields architecture_from_configs(const std::vector<EmbeddedConfig>& configs);

ArchitectureFields infer_from_keys(const std::vector<const TensorRecord*>& tensors);

// Fields of `from` fill the ones `into` lacks.
void fill_missing(ArchitectureFields& into, const ArchitectureFields& from);

}  // namespace ct
