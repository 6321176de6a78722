#pragma once

#include <napi.h>

namespace ct::binding {

// parseMetricLines(bytes: Uint8Array) -> { shapes, shapeOfLine, values } | null
Napi::Value ParseMetricLines(const Napi::CallbackInfo& info);

// metricColumns(bytes: Uint8Array, into?: Float64Array) -> { keys, counts, data, length } | null
// (native/metrics/metric_lines.h); data is `into` when it holds `length` doubles.
Napi::Value MetricColumnsOf(const Napi::CallbackInfo& info);

}  // namespace ct::binding
