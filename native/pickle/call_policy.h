// Which callables a pickle may name in a call: the allow list of torch.load(weights_only=True)
// (torch/_weights_only_unpickler.py, _get_allowed_globals and _tensor_rebuild_functions), plus
// frozenset and dict, which build inert containers. Everything else a pickle calls is refused.
#pragma once

#include <string>
#include <string_view>

namespace ct {

// Python 2 names pickle maps to Python 3 ones (__builtin__ -> builtins, copy_reg -> copyreg).
std::string_view python3_module(std::string_view module);

// True when calling module.name is allowed (REDUCE, INST, OBJ, NEWOBJ of an allowed class).
bool is_allowed_callable(std::string_view module, std::string_view name);

// True for modules whose classes are never instantiated as plain objects either, even through
// NEWOBJ (torch blocks sys, os, posix and nt outright; the rest run programs, open files, import
// code or reach the network when their objects are used).
bool is_blocked_module(std::string_view module);

}  // namespace ct
