// parseMetricLines(bytes) and metricColumns(bytes): the metrics.jsonl fast path, by line and by
// metric. Synchronous on purpose: each is called for one 1 MiB chunk at a time from a reader's
// loop (about a millisecond of work, less than a round trip through the thread pool), and the
// readers yield to the event loop between chunks (or run in a worker thread).
#include "metrics_binding.h"

#include <cstring>

#include "../metrics/metric_lines.h"
#include "convert.h"

namespace ct::binding {

namespace {

FlatMetricLines parse_argument(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), usage);
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  return parse_flat_metric_lines(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
}

Napi::Float64Array float64_array(Napi::Env env, const std::vector<double>& values) {
  Napi::Float64Array out = Napi::Float64Array::New(env, values.size());
  if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(double));
  return out;
}

}  // namespace

Napi::Value ParseMetricLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FlatMetricLines parsed = parse_argument(info, "parseMetricLines(bytes): bytes must be a Uint8Array");
  if (!parsed.flat) return env.Null();

  Napi::Array shapes = to_js_array(env, parsed.shapes, [](Napi::Env e, const std::vector<std::string>& keys) { return to_js_array(e, keys); });
  Napi::Uint32Array shape_of_line = Napi::Uint32Array::New(env, parsed.shape_of_line.size());
  if (!parsed.shape_of_line.empty()) {
    std::memcpy(shape_of_line.Data(), parsed.shape_of_line.data(), parsed.shape_of_line.size() * sizeof(std::uint32_t));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("shapes", shapes);
  out.Set("shapeOfLine", shape_of_line);
  out.Set("values", float64_array(env, parsed.values));
  return out;
}

Napi::Value MetricColumnsOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FlatMetricLines parsed = parse_argument(info, "metricColumns(bytes): bytes must be a Uint8Array");
  if (!parsed.flat) return env.Null();
  MetricColumns columns = metric_columns(parsed);
  Napi::Uint32Array counts = Napi::Uint32Array::New(env, columns.counts.size());
  if (!columns.counts.empty()) std::memcpy(counts.Data(), columns.counts.data(), columns.counts.size() * sizeof(std::uint32_t));
  // The caller's array when it is large enough: a reader reuses one for every chunk (fresh
  // memory costs more than the parse on some machines).
  Napi::Float64Array data;
  if (info.Length() >= 2 && info[1].IsTypedArray() && info[1].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array &&
      info[1].As<Napi::Float64Array>().ElementLength() >= columns.data.size()) {
    data = info[1].As<Napi::Float64Array>();
    if (!columns.data.empty()) std::memcpy(data.Data(), columns.data.data(), columns.data.size() * sizeof(double));
  } else {
    data = float64_array(env, columns.data);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", to_js_array(env, columns.keys));
  out.Set("counts", counts);
  out.Set("data", data);
  out.Set("length", Napi::Number::New(env, static_cast<double>(columns.data.size())));
  return out;
}

}  // namespace ct::binding
