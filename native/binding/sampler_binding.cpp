// Sampler: the sampling session (native/gpu/sampler) as a JS class. The session samples on its
// own thread; read() drains its queue on the JS thread (plain data, converted here); stop()
// waits for the thread on the libuv pool, so a driver call in progress never blocks JS.
#include "sampler_binding.h"

#include <memory>

#include "../gpu/sampler/session.h"
#include "convert.h"
#include "gpu_binding.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

Napi::Object device_to_js(Napi::Env env, const gpu::DeviceSample& gpu) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("vendor", nullable_string(env, gpu.vendor));
  out.Set("index", to_js(env, gpu.index));
  out.Set("uuid", nullable_string(env, gpu.uuid));
  out.Set("name", nullable_string(env, gpu.name));
  out.Set("lost", to_js(env, gpu.lost));
  out.Set("error", nullable_string(env, gpu.error));
  out.Set("utilization_gpu_percent", to_js(env, gpu.utilization_gpu_percent));
  out.Set("utilization_memory_percent", to_js(env, gpu.utilization_memory_percent));
  out.Set("memory_used_bytes", to_js(env, gpu.memory_used_bytes));
  out.Set("memory_total_bytes", to_js(env, gpu.memory_total_bytes));
  out.Set("power_watts", to_js(env, gpu.power_watts));
  out.Set("power_limit_watts", to_js(env, gpu.power_limit_watts));
  out.Set("temperature_c", to_js(env, gpu.temperature_c));
  out.Set("temperature_sensor", nullable_string(env, gpu.temperature_sensor));
  out.Set("sm_clock_mhz", to_js(env, gpu.sm_clock_mhz));
  out.Set("memory_clock_mhz", to_js(env, gpu.memory_clock_mhz));
  out.Set("clock_event_reasons", to_js(env, gpu.clock_event_reasons));
  out.Set("clock_event_reason_names", to_js_array(env, gpu.clock_event_reason_names));
  out.Set("tree_memory_bytes", to_js(env, gpu.tree_memory_bytes));
  out.Set("tree_memory_note", nullable_string(env, gpu.tree_memory_note));
  out.Set("processes", to_js_array(env, gpu.processes, [](Napi::Env e, const gpu::ProcessMemory& process) {
            Napi::Object item = Napi::Object::New(e);
            item.Set("pid", to_js(e, process.pid));
            item.Set("used_bytes", to_js(e, process.used_bytes));
            item.Set("in_tree", to_js(e, process.in_tree));
            return item;
          }));
  out.Set("sm_active_percent", to_js(env, gpu.sm_active_percent));
  out.Set("sm_occupancy_percent", to_js(env, gpu.sm_occupancy_percent));
  out.Set("tensor_active_percent", to_js(env, gpu.tensor_active_percent));
  out.Set("dram_bandwidth_percent", to_js(env, gpu.dram_bandwidth_percent));
  out.Set("activity_unavailable_reason", nullable_string(env, gpu.activity_unavailable_reason));
  return out;
}

Napi::Object sample_to_js(Napi::Env env, const sampler::SystemSample& sample) {
  Napi::Object item = Napi::Object::New(env);
  item.Set("time", to_js(env, sample.time));
  item.Set("gpus", to_js_array(env, sample.gpus, device_to_js));
  Napi::Object tree = Napi::Object::New(env);
  tree.Set("pids", to_js_array(env, sample.tree.pids));
  tree.Set("cpu_percent", to_js(env, sample.tree.cpu_percent));
  tree.Set("rss_bytes", to_js(env, sample.tree.rss_bytes));
  tree.Set("note", nullable_string(env, sample.tree.note));
  item.Set("process_tree", tree);
  Napi::Object host = Napi::Object::New(env);
  host.Set("memory_total_bytes", to_js(env, sample.host.total_bytes));
  host.Set("memory_available_bytes", to_js(env, sample.host.available_bytes));
  item.Set("host", host);
  return item;
}

Napi::Array samples_to_js(Napi::Env env, const std::vector<sampler::SystemSample>& samples) {
  return to_js_array(env, samples, sample_to_js);
}

std::vector<int> pids_from(Napi::Env env, const Napi::Value& value) {
  std::vector<int> pids;
  if (value.IsUndefined() || value.IsNull()) return pids;
  if (!value.IsArray()) throw Napi::TypeError::New(env, "Sampler: pids must be an array of process ids");
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) throw Napi::TypeError::New(env, "Sampler: pids must be numbers");
    pids.push_back(item.As<Napi::Number>().Int32Value());
  }
  return pids;
}

class StopWorker : public PromiseWorker {
 public:
  StopWorker(Napi::Env env, std::shared_ptr<sampler::Session> session)
      : PromiseWorker(env, "config-tracker:samplerStop"), session_(std::move(session)) {}
  void Execute() override {
    session_->stop();
    samples_ = session_->drain();
  }
  Napi::Value Result(Napi::Env env) override { return samples_to_js(env, samples_); }

 private:
  std::shared_ptr<sampler::Session> session_;
  std::vector<sampler::SystemSample> samples_;
};

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sampler",
                       {
                           InstanceMethod("read", &Sampler::Read),
                           InstanceMethod("setPids", &Sampler::SetPids),
                           InstanceMethod("status", &Sampler::Status),
                           InstanceMethod("stop", &Sampler::Stop),
                       });
  }

  explicit Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "Sampler(options): options must be an object");
    Napi::Object js = info[0].As<Napi::Object>();
    sampler::SessionOptions options;
    Napi::Value interval = js.Get("intervalMs");
    if (interval.IsNumber()) {
      double ms = interval.As<Napi::Number>().DoubleValue();
      options.interval_ms = ms < 10 ? 10u : ms > 3600000 ? 3600000u : static_cast<unsigned>(ms);
    }
    options.pids = pids_from(env, js.Get("pids"));
    options.gpu = gpu_options_from(env, js);
    Napi::Value queued = js.Get("maxQueued");
    if (queued.IsNumber() && queued.As<Napi::Number>().DoubleValue() >= 1) {
      options.max_queued = static_cast<std::size_t>(queued.As<Napi::Number>().DoubleValue());
    }
    session_ = std::make_shared<sampler::Session>(std::move(options));
  }

 private:
  Napi::Value Read(const Napi::CallbackInfo& info) { return samples_to_js(info.Env(), session_->drain()); }

  Napi::Value SetPids(const Napi::CallbackInfo& info) {
    session_->set_pids(pids_from(info.Env(), info.Length() > 0 ? info[0] : info.Env().Undefined()));
    return info.Env().Undefined();
  }

  Napi::Value Status(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sampler::Session::Status status = session_->status();
    Napi::Object out = Napi::Object::New(env);
    out.Set("opened", to_js(env, status.opened));
    out.Set("backend", nullable_string(env, status.backend));
    out.Set("gpu_unavailable_reason", nullable_string(env, status.gpu_unavailable_reason));
    out.Set("samples", to_js(env, status.samples));
    out.Set("dropped", to_js(env, status.dropped));
    return out;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) { return PromiseWorker::Start(new StopWorker(info.Env(), session_)); }

  std::shared_ptr<sampler::Session> session_;
};

}  // namespace

void InitSampler(Napi::Env env, Napi::Object exports) { exports.Set("Sampler", Sampler::Define(env)); }

}  // namespace ct::binding
