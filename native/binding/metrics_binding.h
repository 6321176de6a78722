#pragma once

#include <napi.h>

namespace ct::binding {

// parseMetricLines(bytes: Uint8Array) -> { shapes, shapeOfLine, values } | null
Napi::Value ParseMetricLines(const Napi::CallbackInfo& info);

}  // namespace ct::binding
