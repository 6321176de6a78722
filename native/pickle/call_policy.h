// Which callables a pickle may name in a call: the allow list of torch.load(weights_only=True)
// (torch/_weights_only_unpickler.py, _get_allowed_globals and _tensor_rebuild_functions), plus
// frozenset and dict, which build inert containers, plus what the loader of the file's format
// accepts besides (PickleDialect). Everything else a pickle calls is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ct {

// The format a pickle comes from: what torch's own loader for it reads beyond the allow list.
enum class PickleDialect : std::uint8_t {
  // torch.save zip archives and TorchScript's data.pkl.
  kTorchSave,
  // The legacy torch.save stream: a module's class is written as the persistent id
  // ('module', <class>, <source file>, <source>), which torch.load reads back as the class.
  kTorchLegacy,
  // torch.distributed.checkpoint's .metadata (read by torch with a plain pickle.load): its
  // memory-format enum called with a member's value, and the pathlib path of the checkpoint.
  kDistributedCheckpoint,
};

// Python 2 names pickle maps to Python 3 ones (__builtin__ -> builtins, copy_reg -> copyreg).
std::string_view python3_module(std::string_view module);

// True when calling module.name is allowed (REDUCE, INST, OBJ, NEWOBJ of an allowed class).
bool is_allowed_callable(std::string_view module, std::string_view name, PickleDialect dialect = PickleDialect::kTorchSave);

// True for the inert values torch.load(weights_only=True) allows as globals besides its callables:
// dtypes (torch.float32, ...) and quantization schemes (torch.per_tensor_affine, ...).
bool is_allowed_value(std::string_view module, std::string_view name);

// True for modules whose classes are never instantiated as plain objects either, even through
// NEWOBJ (torch blocks sys, os, posix and nt outright; the rest run programs, open files, import
// code or reach the network when their objects are used).
bool is_blocked_module(std::string_view module);

}  // namespace ct
