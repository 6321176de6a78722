// Errors that cross to JS: the library's own error class, handed to the addon once when it is
// loaded (setErrorConstructor(ConfigTrackerError), as better-sqlite3 does), so native code throws
// the final error: `new ConfigTrackerError(code, message, { path })`, the message made one line.
#pragma once

#include <napi.h>

#include <string>

namespace ct::binding {

// setErrorConstructor(ErrorClass): kept per JS environment (the main thread and each worker).
Napi::Value SetErrorConstructor(const Napi::CallbackInfo& info);

// The error for a refusal of the native code: `code` from the table in
// native/common/checkpoint_error.h, `message` escaped here (native/common/one_line.h), `path` the
// file concerned. A plain Error with `code` and `path` before setErrorConstructor was called.
Napi::Value NativeError(Napi::Env env, const std::string& code, const std::string& message, const std::string& path);

// The codes native errors carry, in the table's order.
Napi::Array ErrorCodes(Napi::Env env);

}  // namespace ct::binding
