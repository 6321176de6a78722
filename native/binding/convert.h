// Plain C++ values -> JS values. Optional fields become null, never undefined, so the JSON the
// tracker writes always has every key.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ct::binding {

inline Napi::Value to_js(Napi::Env env, const std::string& value) {
  return Napi::String::New(env, value);
}
inline Napi::Value to_js(Napi::Env env, bool value) { return Napi::Boolean::New(env, value); }
inline Napi::Value to_js(Napi::Env env, int value) { return Napi::Number::New(env, value); }
inline Napi::Value to_js(Napi::Env env, unsigned value) { return Napi::Number::New(env, value); }
// Counts and byte sizes: exact as JS numbers up to 2^53, which no real count reaches.
inline Napi::Value to_js(Napi::Env env, std::uint64_t value) {
  return Napi::Number::New(env, static_cast<double>(value));
}

template <typename T>
Napi::Value to_js(Napi::Env env, const std::optional<T>& value) {
  return value ? to_js(env, *value) : env.Null();
}

inline Napi::Value nullable_string(Napi::Env env, const std::string& value) {
  return value.empty() ? env.Null() : Napi::String::New(env, value);
}

}  // namespace ct::binding
