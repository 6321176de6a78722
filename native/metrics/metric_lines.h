// The addon's side of the metrics line codec (src/experiment/metrics-line.ts defines the line):
// metrics.jsonl lines of the flat shape the tracker writes, {"step": 1, "time": 2.5, "loss": NaN},
// read into numbers on the reader's hot path. JSON.parse spends most of its time building objects
// and converting digits; here digits go through std::from_chars (correctly rounded, as JSON.parse
// is) and the reader builds each record with one object literal per key set.
//
// Anything else (a string or nested value, an escape or a non-ASCII byte in a key, a duplicate
// key, "__proto__", no finite "step", a BOM) makes the whole chunk `flat = false`: the caller
// parses it with the codec instead. So this parser only ever says "these are exactly the numbers
// the codec would give", or "ask the codec"; test/metrics-line.test.ts holds it to that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ct {

struct FlatMetricLines {
  bool flat = false;
  // Distinct key lists, in the order their first line had them.
  std::vector<std::vector<std::string>> shapes;
  // Per line: an index into shapes, or kBlankLine for a line of only whitespace.
  std::vector<std::uint32_t> shape_of_line;
  // The values of every non-blank line, one after the other, in key order.
  std::vector<double> values;
};

inline constexpr std::uint32_t kBlankLine = 0xffffffffu;

struct FlatMetricLimits {
  std::size_t max_shapes = 64;
  std::size_t max_keys_per_line = 4096;
};

// `data` holds whole lines separated by '\n' (no trailing newline needed). Never reads outside
// [data, data + size); memory is bounded by the input (values <= size / 2).
FlatMetricLines parse_flat_metric_lines(const char* data, std::size_t size, FlatMetricLimits limits = {});

// The same lines by metric, for readers that want series rather than records (the dashboard's
// charts): for each key other than "step" and "time", in the order the keys first appear, the
// step, time (NaN for a line without one) and value of every line that has it, in line order.
struct MetricColumns {
  std::vector<std::string> keys;
  std::vector<std::uint32_t> counts;  // points per key
  // Per key, one after the other: its counts[k] steps, then as many times, then as many values.
  std::vector<double> data;
};

// `lines` must be flat (parse_flat_metric_lines said so). data.size() is 3 * the values of lines
// that are metrics, so at most 1.5 * lines.values.size().
MetricColumns metric_columns(const FlatMetricLines& lines);

}  // namespace ct
