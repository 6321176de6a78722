#include "safetensors.h"

#include <algorithm>

#include "../common/checkpoint_error.h"
#include "../model/dtypes.h"
#include "../containers/json_reader.h"

namespace ct {

bool looks_like_safetensors(const ByteSource& source) {
  if (source.size() < 10) return false;
  unsigned char head[9];
  source.read(0, head, sizeof(head));
  std::uint64_t length = le64(head);
  return head[8] == '{' && length >= 2 && length <= source.size() - 8 + (1ull << 40);
}

CheckpointContents read_safetensors(const ByteSource& source, const ReadLimits& limits) {
  unsigned char head[8];
  if (source.size() < 8) fail(ErrorCode::kTruncated, "shorter than a safetensors header");
  source.read(0, head, sizeof(head));
  std::uint64_t header_length = le64(head);
  if (header_length > limits.max_json_bytes) {
    fail(ErrorCode::kLimitExceeded, "safetensors header of " + std::to_string(header_length) + " bytes is over the 100 MB limit");
  }
  if (header_length > source.size() - 8) {
    fail(ErrorCode::kTruncated, "the safetensors header claims " + std::to_string(header_length) +
                                    " bytes but the file has " + std::to_string(source.size() - 8) + " after its length");
  }
  std::string text = source.read_string(8, static_cast<std::size_t>(header_length));
  JsonValue header = parse_json(text, "the safetensors header");
  if (!header.is_object()) fail(ErrorCode::kCorrupt, "the safetensors header is not a JSON object");

  struct Span {
    std::uint64_t begin, end;
  };
  std::vector<Span> spans;
  CheckpointContents out;
  out.format = "safetensors";
  out.type = "safetensors";
  for (const auto& [name, info] : header.members) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail(ErrorCode::kCorrupt, "__metadata__ is not an object");
      continue;
    }
    const JsonValue* dtype = info.get("dtype");
    const JsonValue* shape = info.get("shape");
    const JsonValue* offsets = info.get("data_offsets");
    if (!info.is_object() || dtype == nullptr || dtype->kind != JsonValue::Kind::kString || shape == nullptr ||
        shape->kind != JsonValue::Kind::kArray || offsets == nullptr || offsets->kind != JsonValue::Kind::kArray ||
        offsets->items.size() != 2) {
      fail(ErrorCode::kCorrupt, "tensor " + name + " lacks dtype, shape or data_offsets");
    }
    const DtypeInfo* type = dtype_from_safetensors(dtype->text);
    if (type == nullptr) fail(ErrorCode::kUnsupportedFormat, "tensor " + name + " has unknown dtype " + dtype->text);
    TensorRecord t;
    t.name = name;
    t.dtype = type->name;
    t.element_bits = type->bits;
    t.numel = 1;
    for (const JsonValue& d : shape->items) {
      if (!d.is_integer || d.integer < 0) fail(ErrorCode::kCorrupt, "tensor " + name + " has a bad shape");
      t.shape.push_back(d.integer);
      if (__builtin_mul_overflow(t.numel, static_cast<std::uint64_t>(d.integer), &t.numel)) {
        fail(ErrorCode::kCorrupt, "tensor " + name + " is too large");
      }
    }
    const JsonValue& b = offsets->items[0];
    const JsonValue& e = offsets->items[1];
    if (!b.is_integer || !e.is_integer || b.integer < 0 || e.integer < b.integer) {
      fail(ErrorCode::kCorrupt, "tensor " + name + " has bad data_offsets");
    }
    std::uint64_t bits = 0;
    if (__builtin_mul_overflow(t.numel, static_cast<std::uint64_t>(type->bits), &bits)) {
      fail(ErrorCode::kCorrupt, "tensor " + name + " is too large");
    }
    if ((bits + 7) / 8 != static_cast<std::uint64_t>(e.integer - b.integer)) {
      fail(ErrorCode::kCorrupt, "tensor " + name + " spans " + std::to_string(e.integer - b.integer) + " bytes but " +
                                    dtype->text + " x shape needs " + std::to_string((bits + 7) / 8));
    }
    spans.push_back({static_cast<std::uint64_t>(b.integer), static_cast<std::uint64_t>(e.integer)});
    out.tensors.push_back(std::move(t));
  }
  // The reference rules: the tensors tile the data area with no gap and no overlap.
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) { return x.begin < y.begin; });
  std::uint64_t end = 0;
  for (const Span& span : spans) {
    if (span.begin != end) {
      fail(ErrorCode::kCorrupt, "tensor data is not contiguous at byte " + std::to_string(span.begin) +
                                    (span.begin < end ? " (overlap)" : " (gap)"));
    }
    end = span.end;
  }
  std::uint64_t expected_size = 8 + header_length + end;
  if (source.size() < expected_size) {
    fail(ErrorCode::kTruncated, "the header describes " + std::to_string(expected_size) + " bytes but the file has " +
                                    std::to_string(source.size()));
  }
  if (source.size() > expected_size) {
    fail(ErrorCode::kCorrupt, "the file has " + std::to_string(source.size() - expected_size) +
                                  " bytes after the last tensor");
  }
  return out;
}

}  // namespace ct
