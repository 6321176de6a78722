// libFuzzer target: any bytes as a safetensors file (header length, JSON header, data), read both
// ways (the direct pass over writer-laid-out headers, and the JSON reader alone): they must agree,
// record for record or refusal for refusal, on every input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "model_info.h"
#include "safetensors.h"
#include "support/safetensors_outcome.h"
#include "work_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::MemorySource source(std::string(reinterpret_cast<const char*>(data), size));
  std::string direct = ct::test::safetensors_outcome(source, ct::HeaderReading::kLaidOutFirst);
  std::string general = ct::test::safetensors_outcome(source, ct::HeaderReading::kGeneralOnly);
  if (direct != general) {
    std::fprintf(stderr, "the two header readings disagree:\n  direct:  %s\n  general: %s\n", direct.c_str(), general.c_str());
    std::abort();
  }
  ct::WorkBudget budget(50'000'000);
  ct::ReadLimits limits;
  limits.budget = &budget;
  try {
    ct::summarize(ct::read_safetensors(source, limits));
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
