// Small string helpers shared by the readers.
#pragma once

#include <string>

namespace ct {

inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "encoder.layers.0.weight" -> "weight"
inline std::string last_component(const std::string& name) {
  std::size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

}  // namespace ct
