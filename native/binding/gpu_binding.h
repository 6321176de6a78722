#pragma once

#include <napi.h>

namespace ct::binding {

// probeGpus({ nvmlLibrary, cudaLibrary, cudaVisibleDevices, timeoutMs }) -> Promise<RawGpuReport>
Napi::Value ProbeGpus(const Napi::CallbackInfo& info);

}  // namespace ct::binding
