#pragma once

#include <napi.h>

namespace ct::binding {

// inspectCheckpoint(path) -> Promise<RawModelInfo>; rejects with an Error carrying `code`.
Napi::Value InspectCheckpoint(const Napi::CallbackInfo& info);

}  // namespace ct::binding
