// Rebuild decoding: torch's tensor rebuild calls (torch._utils._rebuild_tensor_v2 and friends, as
// data.pkl records them) to TensorRecords, with every size checked against the storage it reads.
// Walks are bounded in depth, memoised for nested calls (a graph whose levels share children is
// walked once per node, never as a tree) and charged to the work budget.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../common/read_limits.h"
#include "../pickle/pickle_machine.h"
#include "checkpoint_contents.h"
#include "dtypes.h"

namespace ct {

struct StorageRef {
  std::string_view key;
  const DtypeInfo* dtype = nullptr;  // storage class dtype ("" name for untyped)
  std::uint64_t numel = 0;           // in the storage's own elements (bytes when untyped)
  std::uint64_t view_offset = 0;     // legacy views: offset into the root storage
};

// A persistent id ('storage', StorageClass, key, location, numel[, view]) as a StorageRef; nullopt
// when `v` is not a persistent id. Throws on a malformed one.
std::optional<StorageRef> storage_ref(PickleRef v);

// A tuple/list of ints, or torch.Size(tuple) (unwrapped once: a Size is never nested).
std::optional<Shape> int_list(PickleRef v);
// The same into `out` (false, and `out` unspecified, when `v` is no such list).
bool int_list(PickleRef v, Shape& out);

// Product of a shape's sizes, checked (a scalar is 1).
std::uint64_t numel_of(const Shape& shape);

// The attribute dict of an object: BUILD state that is a dict, or the dict of a (dict, slots) tuple.
PickleRef object_state(PickleRef v);

// Called for every tensor with the storage it reads and how many bytes the storage must hold.
using StorageCheck = std::function<void(const StorageRef&, std::uint64_t storage_bytes)>;

class TensorDecoder {
 public:
  // Identities go into `text` (the contents the records will belong to).
  TensorDecoder(StorageCheck check, const ReadLimits& limits, TextStore& text)
      : check_(std::move(check)), limits_(limits), text_(text) {}

  // A call of a torch rebuild function (it may still be one this decoder does not understand).
  bool is_rebuild_call(PickleRef v) { return classify(v.call_target()) != Rebuild::kNotRebuild; }

  // The tensor `v` rebuilds, written into `out`; false when `v` is no rebuild call. A rebuild call
  // this decoder does not understand gives false and a note in not_understood() naming `name` and
  // the function.
  bool tensor(PickleRef v, std::string_view name, TensorRecord& out);
  std::optional<TensorRecord> tensor(PickleRef v, std::string_view name = {});

  // "name (torch._utils._rebuild_x)" for each rebuild call that could not be decoded.
  const std::vector<std::string>& not_understood() const { return not_understood_; }

  // Moves into `out` the tensors decoded besides the ones asked for: the scales and zero points of
  // per-channel quantized tensors (buffers, named "<name>.q_per_channel_scales" and
  // "<name>.q_per_channel_zero_points").
  void take_quantizer_tensors(std::vector<TensorRecord>& out);

 private:
  // Which rebuild function a global names. A pickle memoises each global once, so 100,000 tensors
  // name the same value: the last answer is kept for it.
  enum class Rebuild : std::uint8_t {
    kNotRebuild, kFromTypeV2, kTensor, kTensorV2, kTensorV3, kQTensor, kParameter, kMetaNoStorage,
    kWrapperSubclass, kSparse, kUnknownRebuild
  };
  Rebuild classify(PickleRef fn);

  // Each fills `out` and returns true, or returns false for a call it cannot read (records which).
  bool decode(PickleRef v, int depth, TensorRecord& out);
  bool decode_call(PickleRef fn, PickleRef args, int depth, TensorRecord& out);
  void strided(Rebuild kind, PickleRef args, TensorRecord& out);
  void quantizer_tensors(PickleRef params, int depth);
  void storage_less(Rebuild kind, PickleRef args, TensorRecord& out);
  bool sparse(PickleRef args, int depth, TensorRecord& out);
  void strided_over(const StorageRef& ref, PickleRef offset, PickleRef size, PickleRef stride, const DtypeInfo* dtype,
                    TensorRecord& out);
  const DtypeInfo* storage_dtype(PickleRef cls);

  StorageCheck check_;
  const ReadLimits& limits_;
  TextStore& text_;
  std::unordered_map<ValueId, std::optional<TensorRecord>> nested_;  // memo of nested decodes
  std::vector<std::string> not_understood_;
  std::vector<TensorRecord> quantizer_tensors_;
  std::string_view current_name_;  // the name tensor() was given, while it runs
  std::string unknown_function_;  // set by decode_call when it meets a function it cannot read
  PickleRef classified_;  // the global classify() answered last, and its answer
  Rebuild classified_as_ = Rebuild::kNotRebuild;
  std::string identity_scratch_;  // strided_over's identity when it is too long for its stack buffer
  PickleRef storage_class_;       // the storage class storage_dtype() answered last, and its answer
  const DtypeInfo* storage_class_dtype_ = nullptr;
};

}  // namespace ct
