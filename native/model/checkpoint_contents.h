// What a format reader finds in a checkpoint, before the counting rules are applied
// (model_info.cpp). Plain data: no pickle values, no file handles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ct {

struct TensorRecord {
  enum class Role { kUnknown, kParameter, kBuffer };
  std::string name;                 // state-dict key as stored
  std::string dtype;                // torch's name: "float32", "bfloat16", ...
  std::vector<std::int64_t> shape;
  std::uint64_t numel = 0;
  std::uint64_t element_bits = 0;
  // Two records with the same non-empty identity are one tensor (tied weights): same storage,
  // offset, size and stride.
  std::string identity;
  Role role = Role::kUnknown;
  std::optional<bool> requires_grad;
};

struct ArchitectureFields {
  std::optional<std::int64_t> d_model;
  std::optional<std::int64_t> num_layers;
  std::optional<std::int64_t> num_heads;
  std::optional<std::int64_t> vocab_size;
  std::optional<std::int64_t> max_seq_len;
  std::string source;  // "model_args", "hyper_parameters", "config.json", "key_patterns", ...
  bool any() const { return d_model || num_layers || num_heads || vocab_size || max_seq_len; }
};

struct OptimizerFacts {
  std::uint64_t param_ids = 0;           // parameters listed in param_groups
  std::uint64_t tensors_with_state = 0;  // of those, with a moment tensor in state
  std::uint64_t moment_elements = 0;     // elements of those moment tensors
};

struct CheckpointContents {
  std::string format;                    // "torch-zip", "torch-legacy", "torchscript", "safetensors", ...
  std::string type;                      // class name when recorded, else empty
  std::vector<TensorRecord> tensors;
  bool roles_recorded = false;           // parameter/buffer roles come from the file, not names
  std::optional<std::string> state_dict_key;
  std::optional<OptimizerFacts> optimizer;
  ArchitectureFields architecture;       // from config dicts inside the file
  std::vector<std::string> files;       // set by the caller that opened them
  std::uint64_t bytes_read = 0;
};

}  // namespace ct
