#include "torch_rebuild.h"

#include <algorithm>
#include <charconv>

#include "../common/checked_math.h"
#include "../common/checkpoint_error.h"

namespace ct {
namespace {

using Kind = PickleKind;
constexpr int kMaxNesting = 16;  // _rebuild_parameter(_rebuild_from_type_v2(...)) is 2 deep

}  // namespace

namespace {

// storage_ref with the storage class's dtype found by `dtype_of` (the decoder keeps its last answer).
template <typename DtypeOf>
std::optional<StorageRef> read_storage_ref(PickleRef v, DtypeOf&& dtype_of) {
  if (!v.is(Kind::kPersistentId)) return std::nullopt;
  PickleRef pid = v.pid();
  if (!pid.is(Kind::kTuple)) return std::nullopt;
  PickleItems fields = pid.sequence();
  std::optional<std::string_view> tag = fields[0].string();
  if (!tag || *tag != "storage" || fields.size() < 5) fail(ErrorCode::kCorrupt, "malformed storage reference");
  PickleRef cls = fields[1];
  StorageRef ref;
  if (cls.is(Kind::kGlobal)) ref.dtype = dtype_of(cls);
  if (ref.dtype == nullptr) {
    fail(ErrorCode::kUnsupportedFormat, "unknown storage type " + (cls.is(Kind::kGlobal) ? cls.qualified_name() : std::string("?")));
  }
  std::optional<std::string_view> key = fields[2].string();
  std::optional<std::int64_t> numel = fields[4].as_int();
  if (!key || !numel || *numel < 0) fail(ErrorCode::kCorrupt, "malformed storage reference");
  ref.key = *key;
  ref.numel = static_cast<std::uint64_t>(*numel);
  // Legacy views: (view_key, offset, view_size) into the root storage.
  PickleItems view = fields[5].is(Kind::kTuple) ? fields[5].sequence() : PickleItems();
  if (view.size() >= 3) {
    std::optional<std::int64_t> offset = view[1].as_int();
    std::optional<std::int64_t> size = view[2].as_int();
    if (!offset || !size || *offset < 0 || *size < 0) fail(ErrorCode::kCorrupt, "malformed storage view");
    ref.view_offset = static_cast<std::uint64_t>(*offset);
    if (checked_add(ref.view_offset, static_cast<std::uint64_t>(*size), "storage view") > ref.numel) {
      fail(ErrorCode::kCorrupt, "storage view runs past its storage " + std::string(ref.key));
    }
  }
  return ref;
}

}  // namespace

std::optional<StorageRef> storage_ref(PickleRef v) {
  return read_storage_ref(v, [](PickleRef cls) { return dtype_from_storage_class(cls.name()); });
}

const DtypeInfo* TensorDecoder::storage_dtype(PickleRef cls) {
  if (cls != storage_class_) {
    storage_class_ = cls;
    storage_class_dtype_ = dtype_from_storage_class(cls.name());
  }
  return storage_class_dtype_;
}

bool int_list(PickleRef v, Shape& out) {
  if (v.is(Kind::kCall)) {
    PickleRef g = v.call_target();
    if (!g || !g.is_global("torch", "Size")) return false;
    v = v.arg(0);
  }
  if (!v.is(Kind::kTuple) && !v.is(Kind::kList)) return false;
  PickleItems items = v.sequence();
  out.clear();
  out.reserve(items.size());
  for (std::size_t i = 0, n = items.size(); i < n; ++i) {
    std::optional<std::int64_t> d = items.int_at(i);
    if (!d) return false;
    out.push_back(*d);
  }
  return true;
}

std::optional<Shape> int_list(PickleRef v) {
  Shape out;
  if (!int_list(v, out)) return std::nullopt;
  return out;
}

std::uint64_t numel_of(const Shape& shape) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) fail(ErrorCode::kCorrupt, "negative tensor dimension");
    n = checked_mul(n, static_cast<std::uint64_t>(d), "tensor size");
  }
  return n;
}

PickleRef object_state(PickleRef v) {
  PickleRef state = v.state();
  if (state.is(Kind::kTuple) && state.size() > 0) state = state.item(0);
  return state.as_dict();
}

TensorDecoder::Rebuild TensorDecoder::classify(PickleRef fn) {
  if (fn && fn == classified_) return classified_as_;
  Rebuild kind = Rebuild::kNotRebuild;
  if (fn.is_global("torch._tensor", "_rebuild_from_type_v2")) {
    kind = Rebuild::kFromTypeV2;
  } else if (fn.module() == "torch._utils" && fn.name().substr(0, 9) == "_rebuild_") {
    static constexpr std::pair<std::string_view, Rebuild> kKnown[] = {
        {"_rebuild_tensor", Rebuild::kTensor},
        {"_rebuild_tensor_v2", Rebuild::kTensorV2},
        {"_rebuild_tensor_v3", Rebuild::kTensorV3},
        {"_rebuild_qtensor", Rebuild::kQTensor},
        {"_rebuild_parameter", Rebuild::kParameter},
        {"_rebuild_parameter_with_state", Rebuild::kParameter},
        {"_rebuild_meta_tensor_no_storage", Rebuild::kMetaNoStorage},
        {"_rebuild_wrapper_subclass", Rebuild::kWrapperSubclass},
        {"_rebuild_sparse_tensor", Rebuild::kSparse},
        {"_rebuild_sparse_csr_tensor", Rebuild::kSparse},
    };
    kind = Rebuild::kUnknownRebuild;
    for (const auto& [name, known] : kKnown) {
      if (fn.name() == name) kind = known;
    }
  }
  if (fn) {
    classified_ = fn;
    classified_as_ = kind;
  }
  return kind;
}

bool TensorDecoder::tensor(PickleRef v, std::string_view name, TensorRecord& out) {
  if (classify(v.call_target()) == Rebuild::kNotRebuild) return false;  // is_rebuild_call(v)
  unknown_function_.clear();
  current_name_ = name;
  if (decode(v, 0, out)) return true;
  std::string fn = unknown_function_.empty() ? v.call_target().qualified_name() : unknown_function_;
  not_understood_.push_back((name.empty() ? std::string("a tensor") : std::string(name)) + " (" + fn + ")");
  return false;
}

std::optional<TensorRecord> TensorDecoder::tensor(PickleRef v, std::string_view name) {
  TensorRecord t;
  if (!tensor(v, name, t)) return std::nullopt;
  return t;
}

bool TensorDecoder::decode(PickleRef v, int depth, TensorRecord& out) {
  charge(limits_);
  if (depth > kMaxNesting) fail(ErrorCode::kLimitExceeded, "tensor rebuild calls nested too deeply");
  PickleRef fn = v.call_target();
  if (!fn) return false;
  if (depth == 0) return decode_call(fn, v.args(), depth, out);
  auto found = nested_.find(v.id());
  if (found != nested_.end()) {
    if (!found->second) return false;
    out = *found->second;
    return true;
  }
  bool decoded = decode_call(fn, v.args(), depth, out);
  nested_.emplace(v.id(), decoded ? std::optional<TensorRecord>(out) : std::nullopt);
  return decoded;
}

bool TensorDecoder::decode_call(PickleRef fn, PickleRef args, int depth, TensorRecord& out) {
  Rebuild kind = classify(fn);
  switch (kind) {
    case Rebuild::kFromTypeV2: {
      // (func, new_type, args, state): the tensor is func(*args).
      PickleRef func = args.item(0);
      PickleRef inner = args.item(2);
      if (!func.is(Kind::kGlobal) || !inner.is(Kind::kTuple)) {
        unknown_function_ = "torch._tensor._rebuild_from_type_v2 of an unreadable call";
        return false;
      }
      if (depth + 1 > kMaxNesting) fail(ErrorCode::kLimitExceeded, "tensor rebuild calls nested too deeply");
      return decode_call(func, inner, depth + 1, out);
    }
    case Rebuild::kTensor:
    case Rebuild::kTensorV2:
    case Rebuild::kTensorV3:
      strided(kind, args, out);
      return true;
    case Rebuild::kQTensor:
      // (storage, offset, size, stride, quantizer params, requires_grad, hooks)
      strided(kind, args, out);
      out.packed = true;
      quantizer_tensors(args.item(4), depth);
      return true;
    case Rebuild::kParameter: {
      if (!decode(args.item(0), depth + 1, out)) return false;
      out.role = TensorRecord::Role::kParameter;
      out.requires_grad = args.item(1).as_bool().value_or(true);
      return true;
    }
    case Rebuild::kMetaNoStorage:
    case Rebuild::kWrapperSubclass:
      storage_less(kind, args, out);
      return true;
    case Rebuild::kSparse:
      return sparse(args, depth, out);
    case Rebuild::kNotRebuild:
    case Rebuild::kUnknownRebuild:
      break;
  }
  if (unknown_function_.empty()) unknown_function_ = fn.qualified_name();
  return false;
}

void TensorDecoder::strided(Rebuild kind, PickleRef args, TensorRecord& out) {
  PickleItems items = args.sequence();
  std::optional<StorageRef> ref = read_storage_ref(items[0], [this](PickleRef cls) { return storage_dtype(cls); });
  if (!ref) fail(ErrorCode::kCorrupt, "tensor without a storage reference");
  const DtypeInfo* dtype = ref->dtype;
  if (kind == Rebuild::kTensorV3) {
    PickleRef d = items[6];
    if (d.is(Kind::kGlobal)) dtype = dtype_from_torch_name(d.name());
  }
  strided_over(*ref, items[1], items[2], items[3], dtype, out);
  std::size_t grad_index = kind == Rebuild::kQTensor ? 5 : 4;
  if (kind != Rebuild::kTensor) out.requires_grad = items[grad_index].as_bool();
}

// Per-channel quantizer parameters (scheme, scales, zero points, axis) hold two tensors; per-tensor
// ones (scheme, scale, zero point) two numbers.
void TensorDecoder::quantizer_tensors(PickleRef params, int depth) {
  PickleRef scheme = params.item(0);
  if (!scheme.is(Kind::kGlobal) || scheme.name().rfind("per_channel", 0) != 0) return;
  static constexpr std::string_view kFields[] = {".q_per_channel_scales", ".q_per_channel_zero_points"};
  for (std::size_t i = 0; i < 2; ++i) {
    PickleRef value = params.item(1 + i);
    if (!is_rebuild_call(value)) continue;
    std::string name = std::string(current_name_) + std::string(kFields[i]);
    TensorRecord t;
    if (!decode(value, depth + 1, t)) {
      not_understood_.push_back(name + " (" + (unknown_function_.empty() ? value.call_target().qualified_name() : unknown_function_) + ")");
      continue;
    }
    t.role = TensorRecord::Role::kBuffer;
    t.packed = false;
    t.name = text_.copy(name);
    quantizer_tensors_.push_back(std::move(t));
  }
}

void TensorDecoder::take_quantizer_tensors(std::vector<TensorRecord>& out) {
  for (TensorRecord& t : quantizer_tensors_) out.push_back(std::move(t));
  quantizer_tensors_.clear();
}

// A strided tensor over a storage: size x stride must stay inside the storage.
void TensorDecoder::strided_over(const StorageRef& ref, PickleRef offset_value, PickleRef size_value,
                                 PickleRef stride_value, const DtypeInfo* dtype, TensorRecord& t) {
  std::optional<std::int64_t> offset = offset_value.as_int();
  Shape& size = t.shape;  // decoded in place
  Shape strides;          // inline dims: no allocation
  bool size_ok = int_list(size_value, size);
  bool strides_ok = size_ok && int_list(stride_value, strides) && strides.size() == size.size() &&
                    std::all_of(strides.begin(), strides.end(), [](std::int64_t s) { return s >= 0; });
  auto key = [&] { return std::string(ref.key); };
  if (!offset || *offset < 0 || !size_ok || !strides_ok) fail(ErrorCode::kCorrupt, "malformed tensor in storage " + key());
  if (dtype == nullptr || dtype->name[0] == '\0') fail(ErrorCode::kCorrupt, "tensor without a dtype in storage " + key());
  t.dtype = dtype->name;
  t.element_bits = dtype->bits;
  t.numel = numel_of(size);
  std::uint64_t start = checked_add(static_cast<std::uint64_t>(*offset), ref.view_offset, "storage offset");
  std::uint64_t extent = start;  // elements needed
  if (t.numel > 0) {
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < size.size(); ++i) {
      auto stride = static_cast<std::uint64_t>(strides[i]);
      last = checked_add(last, checked_mul(static_cast<std::uint64_t>(size[i] - 1), stride, "tensor extent"), "tensor extent");
    }
    extent = checked_add(checked_add(start, last, "tensor extent"), 1, "tensor extent");
  }
  std::uint64_t needed_bytes = checked_mul(extent, dtype->bits, "tensor bytes") / 8;
  std::uint64_t storage_bytes = checked_mul(ref.numel, ref.dtype->bits, "storage bytes") / 8;
  if (needed_bytes > storage_bytes) {
    fail(ErrorCode::kCorrupt, "a tensor of storage " + key() + " needs " + std::to_string(needed_bytes) +
                                  " bytes but the storage holds " + std::to_string(storage_bytes));
  }
  check_(ref, storage_bytes);
  // Identity: key@offset:sizes:strides (as many strides as sizes; what makes two entries one
  // tensor), written with to_chars into a stack buffer (or the scratch string when long) and
  // stored once.
  std::size_t longest = ref.key.size() + 21 * (1 + 2 * size.size());
  char local[256];
  char* begin = local;
  if (longest > sizeof(local)) {
    identity_scratch_.resize(longest);
    begin = identity_scratch_.data();
  }
  char* at = std::copy(ref.key.begin(), ref.key.end(), begin);
  auto put = [&](char sep, std::uint64_t n) {
    *at++ = sep;
    at = std::to_chars(at, begin + longest, n).ptr;
  };
  put('@', start);
  for (std::size_t i = 0; i < size.size(); ++i) put(i == 0 ? ':' : ',', static_cast<std::uint64_t>(size[i]));
  for (std::size_t i = 0; i < size.size(); ++i) put(i == 0 ? ':' : ',', static_cast<std::uint64_t>(strides[i]));
  t.identity = text_.copy(std::string_view(begin, static_cast<std::size_t>(at - begin)));
}

// No storage: dtype, size and stride are all there is. Each one is its own tensor.
void TensorDecoder::storage_less(Rebuild kind, PickleRef args, TensorRecord& t) {
  bool wrapper = kind == Rebuild::kWrapperSubclass;
  PickleRef d = args.item(wrapper ? 1 : 0);
  std::optional<Shape> size = int_list(args.item(wrapper ? 2 : 1));
  const DtypeInfo* dtype = d.is(Kind::kGlobal) ? dtype_from_torch_name(d.name()) : nullptr;
  if (!size || dtype == nullptr) fail(ErrorCode::kCorrupt, "malformed storage-less tensor");
  t.dtype = dtype->name;
  t.element_bits = dtype->bits;
  t.numel = numel_of(*size);
  t.shape = std::move(*size);
  t.identity = {};
  t.requires_grad = args.item(wrapper ? 7 : 3).as_bool();
}

// (layout, data): data holds index and value tensors and the dense size.
bool TensorDecoder::sparse(PickleRef args, int depth, TensorRecord& out) {
  PickleRef data = args.item(1);
  if (!data.is(Kind::kTuple)) {
    unknown_function_ = "torch._utils._rebuild_sparse_tensor with unreadable data";
    return false;
  }
  bool values = false;
  std::optional<Shape> size;
  for (std::size_t i = 0, n = data.size(); i < n; ++i) {
    PickleRef item = data.item(i);
    if (is_rebuild_call(item)) {
      TensorRecord t;
      if (decode(item, depth + 1, t)) {  // the last tensor is the values
        out = std::move(t);
        values = true;
      }
    } else if (auto s = int_list(item)) {
      size = std::move(s);
    }
  }
  if (!values || !size) {
    if (unknown_function_.empty()) unknown_function_ = "torch._utils._rebuild_sparse_tensor without values or size";
    return false;
  }
  out.numel = numel_of(*size);
  out.shape = std::move(*size);
  out.identity = {};
  return true;
}

}  // namespace ct
