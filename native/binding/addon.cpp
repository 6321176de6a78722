// The addon's entry point: registers the binding functions. The work is done by the pure C++
// beside native/binding/ (checkpoint readers, GPU probe and sampler, metrics lines, file stats); this folder
// only converts to and from JS.
#include <napi.h>

#include "checkpoint_binding.h"
#include "errors.h"
#include "file_stats_binding.h"
#include "gpu_binding.h"
#include "metrics_binding.h"
#include "sampler_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("setErrorConstructor", Napi::Function::New(env, ct::binding::SetErrorConstructor, "setErrorConstructor"));
  exports.Set("errorCodes", ct::binding::ErrorCodes(env));
  exports.Set("probeGpus", Napi::Function::New(env, ct::binding::ProbeGpus, "probeGpus"));
  exports.Set("inspectCheckpoint", Napi::Function::New(env, ct::binding::InspectCheckpoint, "inspectCheckpoint"));
  exports.Set("lstatFolderEntries", Napi::Function::New(env, ct::binding::LstatFolderEntries, "lstatFolderEntries"));
  exports.Set("parseMetricLines", Napi::Function::New(env, ct::binding::ParseMetricLines, "parseMetricLines"));
  exports.Set("metricColumns", Napi::Function::New(env, ct::binding::MetricColumnsOf, "metricColumns"));
  ct::binding::InitSampler(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(config_tracker, Init)
