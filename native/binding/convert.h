// Plain C++ values -> JS values, for every binding file. Optional fields become null, never
// undefined, so the JSON the tracker writes always has every key; an empty string that means
// "none" becomes null through nullable_string.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace ct::binding {

inline Napi::Value to_js(Napi::Env env, const std::string& value) { return Napi::String::New(env, value); }
inline Napi::Value to_js(Napi::Env env, bool value) { return Napi::Boolean::New(env, value); }

// Numbers: counts and byte sizes are exact as JS numbers up to 2^53 (the checkpoint binding
// refuses counts above it).
template <typename T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, int> = 0>
Napi::Value to_js(Napi::Env env, T value) {
  return Napi::Number::New(env, static_cast<double>(value));
}

template <typename T>
Napi::Value to_js(Napi::Env env, const std::optional<T>& value) {
  return value ? to_js(env, *value) : env.Null();
}

inline Napi::Value nullable_string(Napi::Env env, const std::string& value) {
  return value.empty() ? env.Null() : Napi::String::New(env, value);
}

// A JS array of `items`, each converted by `convert(env, item)`.
template <typename Container, typename Convert>
Napi::Array to_js_array(Napi::Env env, const Container& items, Convert convert) {
  Napi::Array out = Napi::Array::New(env, items.size());
  uint32_t index = 0;
  for (const auto& item : items) out.Set(index++, convert(env, item));
  return out;
}

// A JS array of values to_js converts (strings, numbers, optionals of them).
template <typename Container>
Napi::Array to_js_array(Napi::Env env, const Container& items) {
  return to_js_array(env, items, [](Napi::Env e, const auto& item) { return to_js(e, item); });
}

}  // namespace ct::binding
