// probeGpus(options): the GPU probe (every vendor) on the libuv pool. Options are copied into a
// plain struct before the work starts; Execute never touches N-API.
#include "gpu_binding.h"

#include "../gpu/probe.h"
#include "convert.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

Napi::Object gpu_to_js(Napi::Env env, const std::string& vendor, const gpu::GpuInfo& gpu) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("vendor", to_js(env, vendor));
  out.Set("nvml_index", to_js(env, gpu.physical_index));
  out.Set("mig_slot", to_js(env, gpu.mig_slot));
  out.Set("name", to_js(env, gpu.name));
  out.Set("uuid", to_js(env, gpu.uuid));
  out.Set("memory_total_bytes", to_js(env, gpu.memory_total_bytes));
  out.Set("compute_capability_major", to_js(env, gpu.compute_capability_major));
  out.Set("compute_capability_minor", to_js(env, gpu.compute_capability_minor));
  out.Set("pci_bus_id", to_js(env, gpu.pci_bus_id));
  out.Set("serial", to_js(env, gpu.serial));
  out.Set("vbios_version", to_js(env, gpu.vbios_version));
  out.Set("mig_mode", to_js(env, gpu.mig_mode));
  out.Set("parent_uuid", to_js(env, gpu.parent_uuid));
  out.Set("error", nullable_string(env, gpu.error));
  out.Set("mig_devices", to_js_array(env, gpu.mig_devices, [&vendor](Napi::Env e, const gpu::GpuInfo& mig) {
            return gpu_to_js(e, vendor, mig);
          }));
  return out;
}

Napi::Object vendor_to_js(Napi::Env env, const gpu::VendorReport& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("vendor", to_js(env, report.vendor));
  out.Set("library_path", to_js(env, report.library_path));
  out.Set("library_loaded", to_js(env, report.library_loaded));
  out.Set("init_result", to_js(env, report.init_result));
  out.Set("unavailable_code", nullable_string(env, report.unavailable_code));
  out.Set("unavailable_reason", nullable_string(env, report.unavailable_reason));
  out.Set("driver_version", to_js(env, report.driver_version));
  if (report.runtime) {
    Napi::Object runtime = Napi::Object::New(env);
    runtime.Set("name", to_js(env, report.runtime->name));
    runtime.Set("version", to_js(env, report.runtime->version));
    runtime.Set("number", to_js(env, report.runtime->number));
    out.Set("runtime", runtime);
  } else {
    out.Set("runtime", env.Null());
  }
  out.Set("host_gpu_count", to_js(env, report.host_gpu_count));
  out.Set("host_gpus", to_js_array(env, report.gpus, [&report](Napi::Env e, const gpu::GpuInfo& gpu) {
            return gpu_to_js(e, report.vendor, gpu);
          }));
  out.Set("visible_gpus", to_js_array(env, report.visible, [&report](Napi::Env e, const auto& visible) {
            Napi::Object gpu = gpu_to_js(e, report.vendor, visible.info);
            gpu.Set("cuda_index", to_js(e, visible.index));
            return gpu;
          }));
  return out;
}

Napi::Object report_to_js(Napi::Env env, const gpu::GpuReport& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("unavailable_code", nullable_string(env, report.unavailable_code));
  out.Set("unavailable_reason", nullable_string(env, report.unavailable_reason));
  out.Set("vendors", to_js_array(env, report.vendors, vendor_to_js));
  return out;
}

std::map<std::string, std::string> string_map(Napi::Env env, const Napi::Value& value, const char* what) {
  std::map<std::string, std::string> out;
  if (value.IsUndefined() || value.IsNull()) return out;
  if (!value.IsObject()) throw Napi::TypeError::New(env, std::string(what) + " must be an object of strings");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    Napi::Value key = keys.Get(i);
    Napi::Value entry = object.Get(key);
    if (entry.IsString()) out[key.ToString().Utf8Value()] = entry.As<Napi::String>().Utf8Value();
  }
  return out;
}

class ProbeGpusWorker : public PromiseWorker {
 public:
  ProbeGpusWorker(Napi::Env env, gpu::GpuOptions options)
      : PromiseWorker(env, "config-tracker:probeGpus"), options_(std::move(options)) {}

  void Execute() override { report_ = gpu::probe_gpus(options_); }

  Napi::Value Result(Napi::Env env) override { return report_to_js(env, report_); }

 private:
  gpu::GpuOptions options_;
  gpu::GpuReport report_;
};

}  // namespace

gpu::GpuOptions gpu_options_from(Napi::Env env, const Napi::Object& options) {
  gpu::GpuOptions out;
  out.settings = string_map(env, options.Get("settings"), "settings");
  out.environment = string_map(env, options.Get("environment"), "environment");
  Napi::Value timeout = options.Get("timeoutMs");
  if (timeout.IsNumber()) {
    double ms = timeout.As<Napi::Number>().DoubleValue();
    out.timeout_ms = !(ms >= 0) ? 0u : ms > 3600000 ? 3600000u : static_cast<unsigned>(ms);
  }
  return out;
}

Napi::Value ProbeGpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "probeGpus(options): options must be an object");
  }
  gpu::GpuOptions options = gpu_options_from(env, info[0].As<Napi::Object>());
  return PromiseWorker::Start(new ProbeGpusWorker(env, std::move(options)));
}

}  // namespace ct::binding
