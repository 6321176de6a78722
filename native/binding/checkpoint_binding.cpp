// inspectCheckpoint(path, onCancel?): the checkpoint readers on the libuv pool. The path is copied
// into the worker; Execute touches no N-API; errors come back as data and become the library's
// ConfigTrackerError in OnOK (errors.h).
// Each inspection has a work budget (LIMIT_EXCEEDED when spent) and a cancel flag that the JS
// thread sets (an AbortSignal in src/checkpoint.ts) and the pool thread reads at its next charge.
#include "checkpoint_binding.h"

#include <atomic>
#include <memory>
#include <optional>

#include "../common/checked_math.h"
#include "../common/checkpoint_error.h"
#include "../common/work_budget.h"
#include "../inspect/model_info.h"
#include "convert.h"
#include "errors.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

// Every count must reach JS exactly: a double holds integers exactly up to 2^53 - 1.
void check_exact(std::uint64_t value, const char* what) {
  if (value > kMaxExactJsInteger) {
    fail(ErrorCode::kLimitExceeded, std::string(what) + " is " + std::to_string(value) +
                                        ", above 2^53 - 1, which a JavaScript number cannot hold exactly");
  }
}

void check_exact(const ModelInfo& info) {
  check_exact(info.num_parameters, "the parameter count");
  check_exact(info.num_trainable_parameters, "the trainable parameter count");
  check_exact(info.num_buffer_elements, "the buffer element count");
  check_exact(info.num_tensors, "the tensor count");
  check_exact(info.parameter_bytes, "the parameter byte size");
  check_exact(info.bytes_read, "the bytes read");
  for (const auto& [name, count] : info.dtypes) check_exact(count, "an element count per dtype");
  for (const std::optional<std::int64_t>& field : {info.architecture.d_model, info.architecture.num_layers,
                                                   info.architecture.num_heads, info.architecture.vocab_size,
                                                   info.architecture.max_seq_len}) {
    if (field && (*field < 0 || static_cast<std::uint64_t>(*field) > kMaxExactJsInteger)) {
      fail(ErrorCode::kLimitExceeded, "an architecture field is " + std::to_string(*field) +
                                          ", beyond what a JavaScript number holds exactly");
    }
  }
}

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
  out.Set("classes_needed", to_js_array(env, info.classes_needed));
  out.Set("state_dict_key", to_js(env, info.state_dict_key));
  const ArchitectureFields& a = info.architecture;
  out.Set("d_model", to_js(env, a.d_model));
  out.Set("num_layers", to_js(env, a.num_layers));
  out.Set("num_heads", to_js(env, a.num_heads));
  out.Set("vocab_size", to_js(env, a.vocab_size));
  out.Set("max_seq_len", to_js(env, a.max_seq_len));
  out.Set("architecture_source", nullable_string(env, a.source));
  out.Set("source", to_js(env, info.source));
  out.Set("files", to_js_array(env, info.files));
  out.Set("bytes_read", to_js(env, info.bytes_read));
  return out;
}

class InspectCheckpointWorker : public PromiseWorker {
 public:
  InspectCheckpointWorker(Napi::Env env, std::string path, std::shared_ptr<std::atomic<bool>> cancelled)
      : PromiseWorker(env, "config-tracker:inspectCheckpoint"), path_(std::move(path)), cancelled_(std::move(cancelled)) {}

  void Execute() override {
    try {
      WorkBudget budget(kInspectionWorkUnits, cancelled_.get());
      ReadLimits limits;
      limits.budget = &budget;
      info_ = inspect_checkpoint(path_, limits);
      work_units_ = kInspectionWorkUnits - budget.remaining();
      check_exact(info_);
    } catch (const CheckpointError& error) {
      error_code_ = error_code_name(error.code());
      error_message_ = error.what();  // inspect_checkpoint starts it with the file concerned
    } catch (const std::bad_alloc&) {
      error_code_ = error_code_name(ErrorCode::kLimitExceeded);
      error_message_ = path_ + ": out of memory while reading the checkpoint";
    } catch (const std::exception& error) {
      error_code_ = error_code_name(ErrorCode::kCorrupt);
      error_message_ = path_ + ": " + error.what();
    }
  }

  Napi::Value Result(Napi::Env env) override {
    if (error_code_.empty()) {
      Napi::Object out = model_info_to_js(env, info_);
      out.Set("work_units", to_js(env, work_units_));
      return out;
    }
    throw Napi::Error(env, NativeError(env, error_code_, error_message_, path_));
  }

 private:
  std::string path_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  ModelInfo info_;
  std::uint64_t work_units_ = 0;
  std::string error_code_;  // set when the readers refused the file
  std::string error_message_;
};

}  // namespace

Napi::Value InspectCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "inspectCheckpoint(path, onCancel?): path must be a string");
  }
  if (info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "inspectCheckpoint(path, onCancel?): onCancel must be a function");
  }
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  if (info.Length() >= 2 && info[1].IsFunction()) {
    // onCancel(cancel): the caller keeps `cancel` and calls it to stop the inspection.
    Napi::Function cancel = Napi::Function::New(env, [cancelled](const Napi::CallbackInfo&) { cancelled->store(true); },
                                                "cancelInspection");
    info[1].As<Napi::Function>().Call({cancel});
  }
  return PromiseWorker::Start(new InspectCheckpointWorker(env, info[0].As<Napi::String>().Utf8Value(), cancelled));
}

}  // namespace ct::binding
