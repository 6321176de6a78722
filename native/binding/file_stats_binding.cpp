// lstatFolderEntries: the stats of many run folders and their files, on the thread pool.
#include "file_stats_binding.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../common/file_stats.h"
#include "promise_worker.h"

namespace ct::binding {
namespace {

class LstatWorker : public PromiseWorker {
 public:
  LstatWorker(Napi::Env env, FolderEntries request)
      : PromiseWorker(env, "config-tracker:lstatFolderEntries"), request_(std::move(request)) {}

 protected:
  void Execute() override { stats_ = lstat_folder_entries(request_); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Float64Array out = Napi::Float64Array::New(env, stats_.size());
    if (!stats_.empty()) std::memcpy(out.Data(), stats_.data(), stats_.size() * sizeof(double));
    return out;
  }

 private:
  FolderEntries request_;
  std::vector<double> stats_;
};

std::vector<std::string> strings(const Napi::Array& array) {
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (std::uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(array.Env(), "lstatFolderEntries: folders and names must be strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::vector<std::uint32_t> indices(const Napi::Value& value) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw Napi::TypeError::New(value.Env(), "lstatFolderEntries: first and entries must be Uint32Arrays");
  }
  Napi::Uint32Array array = value.As<Napi::Uint32Array>();
  return std::vector<std::uint32_t>(array.Data(), array.Data() + array.ElementLength());
}

}  // namespace

Napi::Value LstatFolderEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "lstatFolderEntries(folders, names, first, entries)");
  }
  FolderEntries request;
  request.folders = strings(info[0].As<Napi::Array>());
  request.names = strings(info[1].As<Napi::Array>());
  request.first = indices(info[2]);
  request.entries = indices(info[3]);
  if (!folder_entries_valid(request)) throw Napi::RangeError::New(env, "lstatFolderEntries: first / entries out of range");
  return PromiseWorker::Start(new LstatWorker(env, std::move(request)));
}

}  // namespace ct::binding
