// inspectCheckpoint(path): the checkpoint readers on the libuv pool. The path is copied into the
// worker; Execute touches no N-API; errors come back as data and become JS errors in OnOK.
#include "checkpoint_binding.h"

#include <optional>

#include "../common/checkpoint_error.h"
#include "../model/model_info.h"
#include "convert.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

Napi::Object model_info_to_js(Napi::Env env, const ModelInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", to_js(env, info.type));
  out.Set("format", to_js(env, info.format));
  out.Set("num_parameters", to_js(env, info.num_parameters));
  out.Set("num_trainable_parameters", to_js(env, info.num_trainable_parameters));
  out.Set("num_buffer_elements", to_js(env, info.num_buffer_elements));
  out.Set("num_tensors", to_js(env, info.num_tensors));
  out.Set("parameter_bytes", to_js(env, info.parameter_bytes));
  Napi::Object dtypes = Napi::Object::New(env);
  for (const auto& [name, count] : info.dtypes) dtypes.Set(name, to_js(env, count));
  out.Set("dtypes", dtypes);
  out.Set("exact", to_js(env, info.exact));
  out.Set("exact_reason", to_js(env, info.exact_reason));
  Napi::Array classes = Napi::Array::New(env, info.classes_needed.size());
  for (std::size_t i = 0; i < info.classes_needed.size(); ++i) classes.Set(static_cast<uint32_t>(i), to_js(env, info.classes_needed[i]));
  out.Set("classes_needed", classes);
  out.Set("state_dict_key", to_js(env, info.state_dict_key));
  const ArchitectureFields& a = info.architecture;
  auto int_or_null = [&](const std::optional<std::int64_t>& v) -> Napi::Value {
    return v ? Napi::Number::New(env, static_cast<double>(*v)) : env.Null();
  };
  out.Set("d_model", int_or_null(a.d_model));
  out.Set("num_layers", int_or_null(a.num_layers));
  out.Set("num_heads", int_or_null(a.num_heads));
  out.Set("vocab_size", int_or_null(a.vocab_size));
  out.Set("max_seq_len", int_or_null(a.max_seq_len));
  out.Set("architecture_source", nullable_string(env, a.source));
  out.Set("source", to_js(env, info.source));
  Napi::Array files = Napi::Array::New(env, info.files.size());
  for (std::size_t i = 0; i < info.files.size(); ++i) files.Set(static_cast<uint32_t>(i), to_js(env, info.files[i]));
  out.Set("files", files);
  out.Set("bytes_read", to_js(env, info.bytes_read));
  return out;
}

class InspectCheckpointWorker : public PromiseWorker {
 public:
  InspectCheckpointWorker(Napi::Env env, std::string path)
      : PromiseWorker(env, "config-tracker:inspectCheckpoint"), path_(std::move(path)) {}

  void Execute() override {
    try {
      info_ = inspect_checkpoint(path_);
    } catch (const CheckpointError& error) {
      error_code_ = error_code_name(error.code());
      error_message_ = error.what();
    } catch (const std::bad_alloc&) {
      error_code_ = "LIMIT_EXCEEDED";
      error_message_ = path_ + ": out of memory while reading the checkpoint";
    } catch (const std::exception& error) {
      error_code_ = "CHECKPOINT_CORRUPT";
      error_message_ = path_ + ": " + error.what();
    }
  }

  Napi::Value Result(Napi::Env env) override {
    if (error_code_.empty()) return model_info_to_js(env, info_);
    Napi::Error error = Napi::Error::New(env, error_message_);
    error.Set("code", Napi::String::New(env, error_code_));
    error.Set("path", Napi::String::New(env, path_));
    throw error;
  }

 private:
  std::string path_;
  ModelInfo info_;
  std::string error_code_;  // set when the readers refused the file
  std::string error_message_;
};

}  // namespace

Napi::Value InspectCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "inspectCheckpoint(path): path must be a string");
  }
  return PromiseWorker::Start(new InspectCheckpointWorker(env, info[0].As<Napi::String>().Utf8Value()));
}

}  // namespace ct::binding
