#pragma once

#include <napi.h>

#include "../gpu/device.h"

namespace ct::binding {

// probeGpus({ settings, environment, timeoutMs }) -> Promise<RawGpuReport>
Napi::Value ProbeGpus(const Napi::CallbackInfo& info);

// The options every GPU call takes: `settings` (this process's CONFIG_TRACKER_* variables and
// ROCM_PATH) and `environment` (the watched process's), both objects of strings.
gpu::GpuOptions gpu_options_from(Napi::Env env, const Napi::Object& options);

}  // namespace ct::binding
