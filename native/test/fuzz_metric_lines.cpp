// libFuzzer target: any bytes as metrics.jsonl lines. The parser must answer (flat or not) and
// never read outside the input; when it says flat, the shapes and values must add up, and the
// same lines by metric (metric_columns) must hold three numbers per metric value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "metric_lines.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::FlatMetricLines out = ct::parse_flat_metric_lines(reinterpret_cast<const char*>(data), size);
  if (!out.flat) return 0;
  std::size_t expected = 0;
  std::size_t metric_values = 0;
  for (std::uint32_t shape : out.shape_of_line) {
    if (shape == ct::kBlankLine) continue;
    if (shape >= out.shapes.size()) std::abort();
    expected += out.shapes[shape].size();
    for (const std::string& key : out.shapes[shape]) metric_values += key != "step" && key != "time";
  }
  if (expected != out.values.size() || out.values.size() > size) std::abort();
  ct::MetricColumns columns = ct::metric_columns(out);
  std::size_t counted = 0;
  for (std::uint32_t count : columns.counts) counted += count;
  if (columns.keys.size() != columns.counts.size() || counted != metric_values || columns.data.size() != 3 * metric_values) std::abort();
  return 0;
}
