// libFuzzer target: any bytes as a checkpoint file (zip, legacy, safetensors, ...).
#include <cstddef>
#include <cstdint>
#include <string>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "model_info.h"
#include "work_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::MemorySource source(std::string(reinterpret_cast<const char*>(data), size));
  ct::WorkBudget budget(50'000'000);
  ct::ReadLimits limits;
  limits.max_pickle_bytes = 16u << 20;
  limits.budget = &budget;
  try {
    ct::summarize(ct::read_checkpoint_bytes(source, limits));
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
