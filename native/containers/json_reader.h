// A small strict JSON reader for the JSON that sits inside or beside checkpoints: safetensors
// headers, *.index.json weight maps, Hugging Face config.json. Bounded depth; rejects anything
// that is not RFC 8259 JSON; never allocates more than the input size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ct {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;    // the literal had no fraction or exponent and fits int64
  std::int64_t integer = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;

  const JsonValue* get(std::string_view key) const;
  bool is_object() const { return kind == Kind::kObject; }
};

// Parses `text`; throws CheckpointError(kCorrupt, "<what>: ...") on malformed input.
JsonValue parse_json(std::string_view text, const std::string& what, int max_depth = 64);

}  // namespace ct
