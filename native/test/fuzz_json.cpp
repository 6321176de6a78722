// libFuzzer target: any bytes as JSON (safetensors headers, index files, config.json). Every
// value of an accepted document is visited and decoded, so the node indices are exercised too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "checkpoint_error.h"
#include "json_reader.h"

namespace {

std::size_t visit(const ct::JsonValue& value, int depth) {
  if (depth > 64) std::abort();  // deeper than the parser allows
  std::size_t nodes = 1;
  switch (value.kind()) {
    case ct::JsonValue::Kind::kString: (void)value.text(); break;
    case ct::JsonValue::Kind::kNumber: (void)value.as_double(); (void)value.as_int64(); (void)value.as_uint64(); break;
    case ct::JsonValue::Kind::kArray:
      for (ct::JsonValue item : value.items()) nodes += visit(item, depth + 1);
      break;
    case ct::JsonValue::Kind::kObject:
      for (ct::JsonMember member : value.members()) {
        if (!member.key.is_string()) std::abort();
        (void)member.key.text();
        nodes += 1 + visit(member.value, depth + 1);
      }
      break;
    default: break;
  }
  return nodes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ct::JsonDocument doc(std::string(reinterpret_cast<const char*>(data), size), "input");
    // Every node is reached exactly once by the walk.
    if (visit(doc.root(), 0) != doc.node_count()) std::abort();
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
