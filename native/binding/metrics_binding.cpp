// parseMetricLines(bytes): the metrics.jsonl fast path. Synchronous on purpose: it is called for
// one 1 MiB chunk at a time from the reader's loop (about a millisecond of work, less than a
// round trip through the thread pool), and the reader yields to the event loop between chunks.
#include "metrics_binding.h"

#include <cstring>

#include "../metrics/metric_lines.h"
#include "convert.h"

namespace ct::binding {

Napi::Value ParseMetricLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "parseMetricLines(bytes): bytes must be a Uint8Array");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  FlatMetricLines parsed =
      parse_flat_metric_lines(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  if (!parsed.flat) return env.Null();

  Napi::Array shapes = to_js_array(env, parsed.shapes, [](Napi::Env e, const std::vector<std::string>& keys) { return to_js_array(e, keys); });
  Napi::Uint32Array shape_of_line = Napi::Uint32Array::New(env, parsed.shape_of_line.size());
  if (!parsed.shape_of_line.empty()) {
    std::memcpy(shape_of_line.Data(), parsed.shape_of_line.data(), parsed.shape_of_line.size() * sizeof(std::uint32_t));
  }
  Napi::Float64Array values = Napi::Float64Array::New(env, parsed.values.size());
  if (!parsed.values.empty()) std::memcpy(values.Data(), parsed.values.data(), parsed.values.size() * sizeof(double));

  Napi::Object out = Napi::Object::New(env);
  out.Set("shapes", shapes);
  out.Set("shapeOfLine", shape_of_line);
  out.Set("values", values);
  return out;
}

}  // namespace ct::binding
