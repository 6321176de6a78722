#pragma once

#include <napi.h>

namespace ct::binding {

// inspectCheckpoint(path, onCancel?) -> Promise<RawModelInfo>; rejects with an Error carrying
// `code`. onCancel, when given, is called at once with a function that cancels the inspection.
Napi::Value InspectCheckpoint(const Napi::CallbackInfo& info);

}  // namespace ct::binding
