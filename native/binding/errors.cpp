#include "errors.h"

#include "../common/checkpoint_error.h"
#include "../common/one_line.h"
#include "convert.h"

namespace ct::binding {
namespace {

// What one JS environment handed to setErrorConstructor.
struct ErrorConstructor {
  Napi::FunctionReference constructor;
};

}  // namespace

Napi::Value SetErrorConstructor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "setErrorConstructor(ErrorClass): a class is required");
  }
  auto* data = new ErrorConstructor{Napi::Persistent(info[0].As<Napi::Function>())};
  env.SetInstanceData<ErrorConstructor>(data);  // deletes the previous one, and this one at exit
  return env.Undefined();
}

Napi::Value NativeError(Napi::Env env, const std::string& code, const std::string& message, const std::string& path) {
  Napi::String js_code = Napi::String::New(env, code);
  Napi::String js_message = Napi::String::New(env, one_line(message));
  Napi::String js_path = Napi::String::New(env, path);
  auto* data = env.GetInstanceData<ErrorConstructor>();
  if (data != nullptr && !data->constructor.IsEmpty()) {
    Napi::Object details = Napi::Object::New(env);
    details.Set("path", js_path);
    return data->constructor.New({js_code, js_message, details});
  }
  Napi::Error error = Napi::Error::New(env, js_message.Utf8Value());
  error.Set("code", js_code);
  error.Set("path", js_path);
  return error.Value();
}

Napi::Array ErrorCodes(Napi::Env env) {
  return to_js_array(env, std::vector<std::string>(std::begin(kErrorCodeNames), std::end(kErrorCodeNames)));
}

}  // namespace ct::binding
