#pragma once

#include <napi.h>

namespace ct::binding {

// class Sampler { constructor(options); read(); setPids(pids); status(); stop(): Promise<samples> }
void InitSampler(Napi::Env env, Napi::Object exports);

}  // namespace ct::binding
