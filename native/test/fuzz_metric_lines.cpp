// libFuzzer target: any bytes as metrics.jsonl lines. The parser must answer (flat or not) and
// never read outside the input; when it says flat, the shapes and values must add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "metric_lines.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::FlatMetricLines out = ct::parse_flat_metric_lines(reinterpret_cast<const char*>(data), size);
  if (!out.flat) return 0;
  std::size_t expected = 0;
  for (std::uint32_t shape : out.shape_of_line) {
    if (shape == ct::kBlankLine) continue;
    if (shape >= out.shapes.size()) std::abort();
    expected += out.shapes[shape].size();
  }
  if (expected != out.values.size() || out.values.size() > size) std::abort();
  return 0;
}
