// An AsyncWorker that settles a promise: subclasses copy their inputs in the constructor, work on
// plain C++ data in Execute (no N-API there), and turn the result into a JS value in Result.
#pragma once

#include <napi.h>

namespace ct::binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise promise() { return deferred_.Promise(); }

  // Queues the worker (which deletes itself when done) and returns its promise.
  static Napi::Value Start(PromiseWorker* worker) {
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

 protected:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  // The value to resolve with, or throw a Napi::Error to reject.
  virtual Napi::Value Result(Napi::Env env) = 0;

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

}  // namespace ct::binding
