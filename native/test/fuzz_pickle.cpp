// libFuzzer target: any bytes as a pickle, run on the symbolic machine with small limits, in each
// dialect (torch.save, the legacy stream's module ids, a distributed checkpoint's constructors).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checkpoint_error.h"
#include "pickle_machine.h"
#include "work_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::WorkBudget budget(50'000'000);
  ct::PickleLimits limits;
  limits.max_values = 1u << 20;
  limits.max_string = 1u << 20;
  limits.budget = &budget;
  for (ct::PickleDialect dialect :
       {ct::PickleDialect::kTorchSave, ct::PickleDialect::kTorchLegacy, ct::PickleDialect::kDistributedCheckpoint}) {
    try {
      ct::PickleMachine machine(limits, dialect);
      machine.load(std::string_view(reinterpret_cast<const char*>(data), size));
      (void)machine.classes_needed();
    } catch (const ct::CheckpointError&) {
    }
  }
  return 0;
}
