#include "call_policy.h"

#include <algorithm>
#include <iterator>

namespace ct {
namespace {

// torch/_weights_only_unpickler.py, _get_allowed_globals(): callables and classes by full name.
constexpr std::string_view kAllowed[] = {
    "collections.OrderedDict",
    "collections.Counter",
    "torch.nn.parameter.Parameter",
    "torch.serialization._get_layout",
    "torch.Size",
    "torch.Tensor",
    "torch.device",
    "_codecs.encode",
    "builtins.bytearray",
    "builtins.set",
    "builtins.complex",
    // Not in torch's list, but inert containers the machine builds itself.
    "builtins.frozenset",
    "builtins.dict",
    // _tensor_rebuild_functions() and _rebuild_from_type_v2.
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    "torch._tensor._rebuild_from_type_v2",
    // TorchScript's data.pkl (torch.jit.load's unpickler): inert list builders and type tags.
    "torch.jit._pickle.build_intlist",
    "torch.jit._pickle.build_tensorlist",
    "torch.jit._pickle.build_doublelist",
    "torch.jit._pickle.build_boollist",
    "torch.jit._pickle.build_tensor_from_id",
    "torch.jit._pickle.restore_type_tag",
};

// torch.distributed.checkpoint's .metadata: an enum member pickled as Enum(value) (as most Python
// versions reduce enums; early 3.11 releases write getattr(Enum, name), which PickleMachine reads
// as an attribute value), and StorageMeta's checkpoint_id, a pathlib path made from its parts.
// Neither runs anything.
constexpr std::string_view kDistributedCheckpointAllowed[] = {
    "torch.distributed.checkpoint.metadata._MEM_FORMAT_ENCODING",
    "torch.distributed._shard.sharded_tensor.metadata.MEM_FORMAT_ENCODING",
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
};

template <std::size_t N>
bool listed(const std::string_view (&list)[N], std::string_view module, std::string_view name) {
  for (std::string_view full : list) {
    if (full.size() == module.size() + 1 + name.size() && full.compare(0, module.size(), module) == 0 &&
        full[module.size()] == '.' && full.compare(module.size() + 1, name.size(), name) == 0) {
      return true;
    }
  }
  return false;
}

// Storage classes (torch.FloatStorage, torch.cuda.HalfStorage, torch.UntypedStorage, ...) and
// tensor classes (torch.FloatTensor, torch.cuda.LongTensor, ...) are allowed by pattern, as torch
// enumerates torch._storage_classes and torch._tensor_classes.
bool is_storage_or_tensor_class(std::string_view module, std::string_view name) {
  if (module != "torch" && module != "torch.cuda" && module != "torch.storage") return false;
  auto ends = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends("Storage") || ends("Tensor");
}

// torch.storage._dtype_to_storage_type_map(), _new_dtypes(), torch.int1..7 / uint1..7, and the
// quantization schemes, as _get_allowed_globals() lists them.
constexpr std::string_view kAllowedTorchValues[] = {
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool", "complex128",
    "complex64", "complex32", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "uint16", "uint32", "uint64", "bits8",
    "bits16", "bits1x8", "bits2x4", "bits4x2", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1",
    "int2", "int3", "int4", "int5", "int6", "int7", "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine",
    "per_channel_symmetric", "per_channel_affine_float_qparams",
};

constexpr std::string_view kBlockedModules[] = {
    "sys", "os", "posix", "nt", "subprocess", "shutil", "socket", "pty", "runpy", "importlib", "ctypes",
    "pickle", "_pickle", "marshal", "code", "codeop", "webbrowser", "multiprocessing", "asyncio", "pdb",
    "commands", "popen2", "urllib", "http", "requests", "ftplib", "smtplib", "telnetlib", "fileinput",
    "builtins", "io", "_io", "functools", "operator", "timeit", "cProfile", "profile", "pydoc", "tempfile",
    "glob", "pathlib", "types", "inspect", "threading", "signal", "platform", "ssl", "zipimport", "_posixsubprocess",
};

}  // namespace

std::string_view python3_module(std::string_view module) {
  if (module == "__builtin__") return "builtins";
  if (module == "copy_reg") return "copyreg";
  return module;
}

bool is_allowed_callable(std::string_view module, std::string_view name, PickleDialect dialect) {
  module = python3_module(module);
  if (is_storage_or_tensor_class(module, name) || listed(kAllowed, module, name)) return true;
  return dialect == PickleDialect::kDistributedCheckpoint && listed(kDistributedCheckpointAllowed, module, name);
}

bool is_allowed_value(std::string_view module, std::string_view name) {
  return module == "torch" && std::find(std::begin(kAllowedTorchValues), std::end(kAllowedTorchValues), name) !=
                                  std::end(kAllowedTorchValues);
}

bool is_blocked_module(std::string_view module) {
  module = python3_module(module);
  std::string_view root = module.substr(0, module.find('.'));
  return std::find(std::begin(kBlockedModules), std::end(kBlockedModules), root) != std::end(kBlockedModules);
}

}  // namespace ct
