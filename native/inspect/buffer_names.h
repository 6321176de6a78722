// The one table of buffer names: a state dict holds detached tensors and does not say which are
// buffers, so the names (and shapes, dtypes and neighbours) that libraries and tutorials give the
// buffers they register say it instead. Each rule names where it comes from; docs/checkpoints.md
// lists the same table.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "../common/text_hash.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

struct BufferRule {
  enum class Guard : unsigned char {
    kAny,
    kScalar,             // a 0-D tensor
    kOneDim,             // a 1-D tensor
    kInteger,            // an integer dtype (indices, ids): never a trained parameter
    kCausalMask,         // (1, 1, n, n) with n > 1, or bool / uint8 of two dims or more
    kTril,               // (n, n) or (1, 1, n, n)
    kWindowMask,         // a causal mask, or (windows, n, n)
    kPositionalTable,    // (max_len, 1, d) or (1, max_len, d)
    kCoordsTable,        // (1, a, b, 2)
    kUntrackedBatchNorm, // in a BatchNorm group (running_mean beside it) with no num_batches_tracked
    kQuantizedScale,     // a 0-D scale beside a 0-D zero_point, or the other way round
  };
  std::string_view name;  // the last component of the tensor's name
  Guard guard;
  const char* what;       // how exact_reason names what the rule decided
  const char* source;     // the library or tutorial that registers the buffer so
};

// The rules, first match first.
const std::vector<BufferRule>& buffer_rules();

// The rule that makes each of a set of tensors a buffer (or none), found in one pass over their
// names: the rules that look at neighbours (BatchNorm groups, quantized scale and zero point) see
// the whole set.
class BufferNames {
 public:
  explicit BufferNames(const std::vector<const TensorRecord*>& tensors);
  // The rule for tensors[i], or nullptr.
  const BufferRule* rule(std::size_t i) const { return rules_[i] == kNone ? nullptr : &buffer_rules()[rules_[i]]; }

 private:
  bool applies(const BufferRule& rule, const TensorRecord& t, std::string_view prefix) const;
  using PrefixSet = std::unordered_set<std::string_view, TextHash>;
  static constexpr std::uint8_t kNone = 0xFF;
  std::vector<std::uint8_t> rules_;  // an index into buffer_rules() per tensor (a byte: 100,000 tensors, 100 KB)
  PrefixSet untracked_batch_norms_;  // prefixes with running_mean and no num_batches_tracked
  PrefixSet scalar_scales_;          // prefixes with a 0-D scale
  PrefixSet scalar_zero_points_;     // prefixes with a 0-D zero_point
};

// The last component of a dotted name ("layer1.0.bn1.weight" -> "weight"), and what comes before it
// ("layer1.0.bn1", or "" for a name without a dot).
inline std::string_view last_component_of(std::string_view name) {
  std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}
inline std::string_view prefix_of(std::string_view name) {
  std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
}

}  // namespace ct
