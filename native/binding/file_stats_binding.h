#pragma once

#include <napi.h>

namespace ct::binding {

// lstatFolderEntries(folders: string[], names: string[], first: Uint32Array, entries: Uint32Array)
//   -> Promise<Float64Array>   (native/common/file_stats.h)
Napi::Value LstatFolderEntries(const Napi::CallbackInfo& info);

}  // namespace ct::binding
