// What a format reader finds in a checkpoint, before the counting rules are applied
// (counting.cpp). Plain data: no pickle values, no file handles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ct {

struct TensorRecord {
  enum class Role { kUnknown, kParameter, kBuffer };
  std::string name;                 // state-dict key as stored
  const char* dtype = "";           // torch's name ("float32", "bfloat16", ...): a static string
  std::vector<std::int64_t> shape;
  std::uint64_t numel = 0;
  std::uint32_t element_bits = 0;
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

// What torch.optim state dicts say about the parameters: param_groups[*].params lists ids in
// model.parameters() order, state[id] holds moments shaped like the parameter.
struct OptimizerFacts {
  std::uint64_t param_ids = 0;                            // ids listed in param_groups
  std::vector<std::vector<std::int64_t>> trained_shapes;  // one per id with a moment tensor in state
  std::uint64_t states_without_moment = 0;                // state entries with no moment we know
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
  // Rebuild calls that could not be decoded ("name (function)"): their tensors are not counted,
  // so the counts are not exact.
  std::vector<std::string> not_understood;
  // Classes outside torch's weights_only allow list that the pickle instantiates (whole pickled
  // modules): torch.load(weights_only=True) refuses the file until they are allowed.
  std::vector<std::string> classes_needed;
  std::uint64_t bytes_read = 0;
};

}  // namespace ct
