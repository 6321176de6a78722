// probeGpus(options): the GPU probe on the libuv pool. Options are copied into a plain struct
// before the work starts; Execute never touches N-API.
#include "gpu_binding.h"

#include "../gpu/nvidia/gpu_probe.h"
#include "convert.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

Napi::Object gpu_to_js(Napi::Env env, const GpuInfo& gpu) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("nvml_index", to_js(env, gpu.nvml_index));
  out.Set("mig_slot", to_js(env, gpu.mig_slot));
  out.Set("name", to_js(env, gpu.name));
  out.Set("uuid", to_js(env, gpu.uuid));
  out.Set("memory_total_bytes", to_js(env, gpu.memory_total_bytes));
  out.Set("compute_capability_major", to_js(env, gpu.compute_capability_major));
  out.Set("compute_capability_minor", to_js(env, gpu.compute_capability_minor));
  out.Set("pci_bus_id", to_js(env, gpu.pci_bus_id));
  out.Set("mig_mode", to_js(env, gpu.mig_mode));
  out.Set("parent_uuid", to_js(env, gpu.parent_uuid));
  out.Set("error", nullable_string(env, gpu.error));
  Napi::Array migs = Napi::Array::New(env, gpu.mig_devices.size());
  for (std::size_t i = 0; i < gpu.mig_devices.size(); ++i) {
    migs.Set(static_cast<uint32_t>(i), gpu_to_js(env, gpu.mig_devices[i]));
  }
  out.Set("mig_devices", migs);
  return out;
}

Napi::Object report_to_js(Napi::Env env, const GpuReport& report) {
  const HostGpus& host = report.host;
  Napi::Object out = Napi::Object::New(env);
  out.Set("library_path", to_js(env, host.library_path));
  out.Set("library_loaded", to_js(env, host.library_loaded));
  out.Set("init_result", to_js(env, host.init_result));
  out.Set("unavailable_code", nullable_string(env, report.unavailable_code));
  out.Set("unavailable_reason", nullable_string(env, report.unavailable_reason));
  out.Set("driver_version", to_js(env, host.driver_version));
  out.Set("cuda_driver_version", to_js(env, host.cuda_driver_version));
  out.Set("host_gpu_count", to_js(env, host.host_gpu_count));
  Napi::Array host_gpus = Napi::Array::New(env, host.gpus.size());
  for (std::size_t i = 0; i < host.gpus.size(); ++i) {
    host_gpus.Set(static_cast<uint32_t>(i), gpu_to_js(env, host.gpus[i]));
  }
  out.Set("host_gpus", host_gpus);
  Napi::Array visible = Napi::Array::New(env, report.visible.size());
  for (std::size_t i = 0; i < report.visible.size(); ++i) {
    Napi::Object gpu = gpu_to_js(env, report.visible[i].info);
    gpu.Set("cuda_index", to_js(env, report.visible[i].cuda_index));
    visible.Set(static_cast<uint32_t>(i), gpu);
  }
  out.Set("visible_gpus", visible);
  return out;
}

class ProbeGpusWorker : public PromiseWorker {
 public:
  ProbeGpusWorker(Napi::Env env, ProbeOptions options)
      : PromiseWorker(env, "config-tracker:probeGpus"), options_(std::move(options)) {}

  void Execute() override { report_ = probe_gpus(options_); }

  Napi::Value Result(Napi::Env env) override { return report_to_js(env, report_); }

 private:
  ProbeOptions options_;
  GpuReport report_;
};

std::string string_option(const Napi::Object& options, const char* key, std::string fallback) {
  Napi::Value value = options.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : fallback;
}

}  // namespace

Napi::Value ProbeGpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "probeGpus(options): options must be an object");
  }
  Napi::Object js_options = info[0].As<Napi::Object>();
  ProbeOptions options;
  options.nvml_library = string_option(js_options, "nvmlLibrary", options.nvml_library);
  options.cuda_library = string_option(js_options, "cudaLibrary", options.cuda_library);
  Napi::Value visible = js_options.Get("cudaVisibleDevices");
  if (visible.IsString()) options.cuda_visible_devices = visible.As<Napi::String>().Utf8Value();
  Napi::Value timeout = js_options.Get("timeoutMs");
  if (timeout.IsNumber()) {
    double ms = timeout.As<Napi::Number>().DoubleValue();
    options.timeout_ms = ms < 0 ? 0u : ms > 3600000 ? 3600000u : static_cast<unsigned>(ms);
  }
  return PromiseWorker::Start(new ProbeGpusWorker(env, std::move(options)));
}

}  // namespace ct::binding
