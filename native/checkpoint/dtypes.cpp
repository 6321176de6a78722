#include "dtypes.h"

namespace ct {
namespace {

struct Alias {
  const char* alias;
  DtypeInfo info;
};

// Storage class names (torch/storage.py, torch/_utils.py) for every dtype torch has written.
const Alias kStorageClasses[] = {
    {"FloatStorage", {"float32", 32}},          {"DoubleStorage", {"float64", 64}},
    {"HalfStorage", {"float16", 16}},           {"BFloat16Storage", {"bfloat16", 16}},
    {"LongStorage", {"int64", 64}},             {"IntStorage", {"int32", 32}},
    {"ShortStorage", {"int16", 16}},            {"CharStorage", {"int8", 8}},
    {"ByteStorage", {"uint8", 8}},              {"BoolStorage", {"bool", 8}},
    {"ComplexFloatStorage", {"complex64", 64}}, {"ComplexDoubleStorage", {"complex128", 128}},
    {"ComplexHalfStorage", {"complex32", 32}},  {"QInt8Storage", {"qint8", 8}},
    {"QUInt8Storage", {"quint8", 8}},           {"QInt32Storage", {"qint32", 32}},
    {"QUInt4x2Storage", {"quint4x2", 8}},       {"QUInt2x4Storage", {"quint2x4", 8}},
    {"Float8_e4m3fnStorage", {"float8_e4m3fn", 8}}, {"Float8_e5m2Storage", {"float8_e5m2", 8}},
    {"Float8_e4m3fnuzStorage", {"float8_e4m3fnuz", 8}}, {"Float8_e5m2fnuzStorage", {"float8_e5m2fnuz", 8}},
    {"UInt16Storage", {"uint16", 16}},          {"UInt32Storage", {"uint32", 32}},
    {"UInt64Storage", {"uint64", 64}},          {"UntypedStorage", {"", 8}},
};

const Alias kTorchNames[] = {
    {"float32", {"float32", 32}},   {"float", {"float32", 32}},     {"float64", {"float64", 64}},
    {"double", {"float64", 64}},    {"float16", {"float16", 16}},   {"half", {"float16", 16}},
    {"bfloat16", {"bfloat16", 16}}, {"int64", {"int64", 64}},       {"long", {"int64", 64}},
    {"int32", {"int32", 32}},       {"int", {"int32", 32}},         {"int16", {"int16", 16}},
    {"short", {"int16", 16}},       {"int8", {"int8", 8}},          {"uint8", {"uint8", 8}},
    {"bool", {"bool", 8}},          {"complex64", {"complex64", 64}}, {"cfloat", {"complex64", 64}},
    {"complex128", {"complex128", 128}}, {"cdouble", {"complex128", 128}}, {"complex32", {"complex32", 32}},
    {"chalf", {"complex32", 32}},   {"qint8", {"qint8", 8}},        {"quint8", {"quint8", 8}},
    {"qint32", {"qint32", 32}},     {"quint4x2", {"quint4x2", 8}},  {"quint2x4", {"quint2x4", 8}},
    {"float8_e4m3fn", {"float8_e4m3fn", 8}}, {"float8_e5m2", {"float8_e5m2", 8}},
    {"float8_e4m3fnuz", {"float8_e4m3fnuz", 8}}, {"float8_e5m2fnuz", {"float8_e5m2fnuz", 8}},
    {"float8_e8m0fnu", {"float8_e8m0fnu", 8}}, {"float4_e2m1fn_x2", {"float4_e2m1fn_x2", 8}},
    {"uint16", {"uint16", 16}},     {"uint32", {"uint32", 32}},     {"uint64", {"uint64", 64}},
};

// safetensors' Dtype enum (safetensors/src/tensor.rs).
const Alias kSafetensors[] = {
    {"BOOL", {"bool", 8}},       {"U8", {"uint8", 8}},         {"I8", {"int8", 8}},
    {"I16", {"int16", 16}},      {"U16", {"uint16", 16}},      {"F16", {"float16", 16}},
    {"BF16", {"bfloat16", 16}},  {"I32", {"int32", 32}},       {"U32", {"uint32", 32}},
    {"F32", {"float32", 32}},    {"F64", {"float64", 64}},     {"I64", {"int64", 64}},
    {"U64", {"uint64", 64}},     {"F8_E5M2", {"float8_e5m2", 8}}, {"F8_E4M3", {"float8_e4m3fn", 8}},
    {"F8_E8M0", {"float8_e8m0fnu", 8}}, {"F4", {"float4_e2m1fn", 4}}, {"F6_E2M3", {"float6_e2m3fn", 6}},
    {"F6_E3M2", {"float6_e3m2fn", 6}}, {"C64", {"complex64", 64}},
    {"F8_E4M3FNUZ", {"float8_e4m3fnuz", 8}}, {"F8_E5M2FNUZ", {"float8_e5m2fnuz", 8}},
};

template <std::size_t N>
const DtypeInfo* find(const Alias (&table)[N], std::string_view name) {
  for (const Alias& entry : table) {
    if (name == entry.alias) return &entry.info;
  }
  return nullptr;
}

}  // namespace

const DtypeInfo* dtype_from_storage_class(std::string_view class_name) { return find(kStorageClasses, class_name); }
const DtypeInfo* dtype_from_torch_name(std::string_view name) { return find(kTorchNames, name); }
const DtypeInfo* dtype_from_safetensors(std::string_view code) { return find(kSafetensors, code); }

}  // namespace ct
