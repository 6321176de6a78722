// What one inspection may spend: bytes of each kind of metadata, and a budget of work units shared
// by every file it reads (see work_budget.h). Readers call charge() as they go.
#pragma once

#include <cstdint>

#include "work_budget.h"

namespace ct {

struct ReadLimits {
  std::uint64_t max_pickle_bytes = 256ull << 20;  // data.pkl / .metadata
  std::uint64_t max_code_bytes = 64ull << 20;     // TorchScript code/ files read, in total
  std::uint64_t max_json_bytes = 100ull << 20;    // safetensors header (its reference limit), index.json
  std::uint64_t legacy_first_read = 1ull << 20;   // legacy format: the head read first, grown x4 as needed
  WorkBudget* budget = nullptr;                   // null: unlimited (unit tests); inspect_checkpoint sets one
};

inline void charge(const ReadLimits& limits, std::uint64_t units = 1) {
  if (limits.budget != nullptr) limits.budget->charge(units);
}

}  // namespace ct
