// What a format reader finds in a checkpoint, before the counting rules are applied
// (counting.cpp). Plain data: no pickle values, no file handles.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ct {

// A tensor's sizes. Up to four dims (nearly every tensor) sit inline, so 100,000 records cost no
// allocation each; more move to the heap (capacity doubling).
class Shape {
  static constexpr std::uint32_t kInline = 4;

 public:
  Shape() = default;
  Shape(const Shape& other) { *this = other; }
  Shape& operator=(const Shape& other) {
    if (this != &other) {
      size_ = 0;
      reserve(other.size_);
      for (std::int64_t d : other) push_back(d);
    }
    return *this;
  }
  Shape(Shape&& other) noexcept { *this = std::move(other); }
  Shape& operator=(Shape&& other) noexcept {
    std::copy(other.dims_, other.dims_ + kInline, dims_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, kInline);
    heap_ = std::move(other.heap_);
    return *this;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  const std::int64_t* begin() const { return heap_ ? heap_.get() : dims_; }
  const std::int64_t* end() const { return begin() + size_; }
  std::int64_t operator[](std::size_t i) const { return begin()[i]; }
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    if (n > 0xFFFFFFFFu) throw std::bad_alloc();
    std::unique_ptr<std::int64_t[]> grown(new std::int64_t[n]);
    std::copy(begin(), end(), grown.get());
    heap_ = std::move(grown);
    capacity_ = static_cast<std::uint32_t>(n);
  }
  void push_back(std::int64_t d) {
    if (size_ == capacity_) reserve(std::size_t{capacity_} * 2);
    (heap_ ? heap_.get() : dims_)[size_++] = d;
  }
  friend bool operator==(const Shape& a, const Shape& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }
  friend bool operator<(const Shape& a, const Shape& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::int64_t dims_[kInline] = {};
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;
  std::unique_ptr<std::int64_t[]> heap_;  // all dims once there are more than kInline
};

// The text tensor records view: buffers a reader kept whole (data.pkl, a safetensors header), and
// blocks of names it had to build (module prefixes, decoded escapes). Nothing moves once stored,
// so 100,000 names cost no allocation each.
class TextStore {
 public:
  // Keeps `owner` alive with the store; views into [bytes) need no copy.
  void keep(std::shared_ptr<const void> owner, std::string_view bytes) {
    kept_.push_back(Kept{std::move(owner), bytes.data(), bytes.data() + bytes.size()});
  }
  // Whether `text` lies in a kept buffer (a view that needs no copy).
  bool in_kept(std::string_view text) const {
    for (const Kept& k : kept_) {
      if (text.data() >= k.begin && text.data() + text.size() <= k.end) return true;
    }
    return false;
  }
  // `text` as a stored view: as it is when it lies in a kept buffer, else copied into a block.
  std::string_view view(std::string_view text) { return in_kept(text) ? text : copy(text); }
  std::string_view copy(std::string_view text) {
    if (text.empty()) return {};
    if (text.size() > left_) {
      std::size_t size = std::max<std::size_t>(text.size(), kBlock);
      blocks_.emplace_back(new char[size]);
      free_ = blocks_.back().get();
      left_ = size;
    }
    char* at = free_;
    std::copy(text.begin(), text.end(), at);
    free_ += text.size();
    left_ -= text.size();
    return std::string_view(at, text.size());
  }
  // Takes over another store's text (a shard's records moving into the merged contents).
  void absorb(TextStore&& other) {
    for (Kept& k : other.kept_) kept_.push_back(std::move(k));
    for (auto& b : other.blocks_) blocks_.push_back(std::move(b));
    other.kept_.clear();
    other.blocks_.clear();
    other.left_ = 0;
  }

 private:
  static constexpr std::size_t kBlock = 64 * 1024;
  struct Kept {
    std::shared_ptr<const void> owner;
    const char* begin;
    const char* end;
  };
  std::vector<Kept> kept_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* free_ = nullptr;
  std::size_t left_ = 0;
};

struct TensorRecord {
  enum class Role { kUnknown, kParameter, kBuffer };
  std::string_view name;            // state-dict key as stored (in the contents' TextStore)
  const char* dtype = "";           // torch's name ("float32", "bfloat16", ...): a static string
  Shape shape;
  std::uint64_t numel = 0;
  std::uint32_t element_bits = 0;
  // Two records with the same non-empty identity are one tensor (tied weights): same storage,
  // offset, size and stride. In the contents' TextStore.
  std::string_view identity;
  Role role = Role::kUnknown;
  std::optional<bool> requires_grad;
  // A quantized tensor, or a tensor packed in a quantized module's parameters (the int8 weight
  // and float bias of a dynamically quantized Linear or LSTM): a parameter torch does not train.
  bool packed = false;
};

// A config found inside the file (nanoGPT's model_args, Lightning's hyper_parameters, an argparse
// Namespace, or one nested in them under model / model_config / model_args / config): its integer
// entries in the file's order (the first 4,096), for inspection to read an architecture from.
struct EmbeddedConfig {
  std::string source;  // the top-level key it was found under
  std::vector<std::pair<std::string, std::int64_t>> integers;
};

// What torch.optim state dicts say about the parameters: param_groups[*].params lists ids in
// model.parameters() order, state[id] holds moments shaped like the parameter.
struct OptimizerFacts {
  std::uint64_t param_ids = 0;                            // ids listed in param_groups
  std::vector<Shape> trained_shapes;  // one per id with a moment tensor in state
  std::uint64_t states_without_moment = 0;                // state entries with no moment we know
};

struct CheckpointContents {
  TextStore text;                        // what the records' names and identities view
  std::string format;                    // "torch-zip", "torch-legacy", "torchscript", "safetensors", ...
  std::string type;                      // class name when recorded, else empty
  std::vector<TensorRecord> tensors;
  bool roles_recorded = false;           // parameter/buffer roles come from the file, not names
  std::optional<std::string> state_dict_key;
  std::optional<OptimizerFacts> optimizer;
  std::vector<EmbeddedConfig> configs;   // in the order they are to be read
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
