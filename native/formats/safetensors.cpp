#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include "../common/checked_math.h"
#include "../common/checkpoint_error.h"
#include "../common/string_scan.h"
#include "../common/text_hash.h"
#include "../containers/json_reader.h"
#include "../checkpoint/dtypes.h"

namespace ct {
namespace {

// The reference implementation's MAX_HEADER_SIZE (decimal, not MiB).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

std::uint64_t offset_value(const JsonValue& value, std::string_view name) {
  std::optional<std::uint64_t> v = value.as_uint64();
  if (!v) fail(ErrorCode::kCorrupt, "tensor " + std::string(name) + " has a data_offsets entry that is not a non-negative integer");
  return *v;
}

struct Span {
  std::uint64_t begin, end;
  std::size_t tensor;
};

// The first tensor whose name an earlier one has, or -1: open addressing over (hash, record index)
// pairs in one allocation. The names are hashed while they are being read; here the slots are
// prefetched a few names ahead, so the random accesses of 100,000 inserts overlap instead of
// waiting one after the other, and a record is touched only when the hashes agree.
std::ptrdiff_t first_duplicate(const std::vector<TensorRecord>& records, const std::vector<std::size_t>& hashes) {
  constexpr std::uint64_t kEmpty = UINT64_MAX;
  constexpr std::size_t kAhead = 16;
  std::size_t size = 16;
  while (size < records.size() * 2) size *= 2;
  std::vector<std::uint64_t> slots(size, kEmpty);  // hash's high 32 bits, record index
  std::size_t mask = size - 1;
  for (std::size_t r = 0; r < records.size(); ++r) {
    if (r + kAhead < records.size()) __builtin_prefetch(&slots[hashes[r + kAhead] & mask]);
    std::uint64_t tag = static_cast<std::uint64_t>(hashes[r] >> 32) << 32;
    for (std::size_t i = hashes[r] & mask;; i = (i + 1) & mask) {
      std::uint64_t slot = slots[i];
      if (slot == kEmpty) {
        slots[i] = tag | r;
        break;
      }
      if ((slot & ~std::uint64_t{0xffffffff}) == tag && records[slot & 0xffffffff].name == records[r].name) {
        return static_cast<std::ptrdiff_t>(r);
      }
    }
  }
  return -1;
}

}  // namespace

bool looks_like_safetensors(const ByteSource& source) {
  if (source.size() < 10) return false;
  unsigned char head[9];
  source.read(0, head, sizeof(head));
  std::uint64_t length = le64(head);
  if (length < 2 || length > source.size() - 8 + (1ull << 40)) return false;
  if (head[8] == '{') return true;
  // The JSON may start after whitespace (a writer that aligns the data can pad the header at its
  // start, and the reference accepts it): the first other byte, within the header and the file,
  // must open the object.
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  if (!is_space(static_cast<char>(head[8]))) return false;
  std::uint64_t end = 8 + std::min({length, source.size() - 8, kMaxHeaderBytes});
  char chunk[16384];
  for (std::uint64_t at = 9; at < end;) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof(chunk), end - at));
    source.read(at, chunk, n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_space(chunk[i])) return chunk[i] == '{';
    }
    at += n;
  }
  return false;
}

namespace {

// The header as safetensors' own writer lays it out, read in one pass straight into records with
// no JSON tree: {"__metadata__":{"k":"v",...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":
// [0,24]},...}, no whitespace but the trailing spaces that pad it to 8 bytes, ASCII strings
// without escapes, plain integers. At the first byte outside that layout (or a dtype, size or
// count it would have to refuse) it returns false, having kept nothing, and the general JSON path
// reads the header: both accept exactly the same files, and the general one words every error.
class LaidOutHeader {
 public:
  LaidOutHeader(std::string_view text, const ReadLimits& limits) : p_(text.data()), end_(text.data() + text.size()), limits_(limits) {}

  bool read(CheckpointContents& out, std::vector<Span>& spans, std::vector<std::size_t>& hashes) {
    // No entry is shorter than 48 bytes ("a":{"dtype":"U8","shape":[],"data_offsets":[0,0]},):
    // room reserved for that many is never outgrown, and pages never written cost nothing.
    std::size_t most = static_cast<std::size_t>(end_ - p_) / 48 + 1;
    out.tensors.reserve(most);
    spans.reserve(most);
    hashes.reserve(most);
    if (!expect('{')) return false;
    if (peek('}')) {
      ++p_;
      return at_end();
    }
    const DtypeInfo* type = nullptr;
    std::string_view last_code;
    bool seen_metadata = false;
    std::uint64_t nodes = 1;  // as the JSON reader counts values, for its limit and the budget
    for (;;) {
      std::string_view name;
      if (!string(name) || !expect(':')) return false;
      if (name == "__metadata__") {
        if (seen_metadata || !metadata(nodes)) return false;
        seen_metadata = true;
      } else {
        std::string_view code;
        if (!literal("{\"dtype\":") || !string(code) || !literal(",\"shape\":[")) return false;
        if (code != last_code || type == nullptr) {
          type = dtype_from_safetensors(code);
          if (type == nullptr) return false;
          last_code = code;
        }
        TensorRecord& t = out.tensors.emplace_back();
        t.name = out.text.view(name);
        t.dtype = type->name;
        t.element_bits = type->bits;
        t.numel = 1;
        if (!peek(']')) {
          for (;;) {
            std::uint64_t extent;
            if (!integer(extent) || extent > static_cast<std::uint64_t>(INT64_MAX) ||
                __builtin_mul_overflow(t.numel, extent, &t.numel)) {
              return false;
            }
            t.shape.push_back(static_cast<std::int64_t>(extent));
            if (!peek(',')) break;
            ++p_;
          }
        }
        Span span{0, 0, out.tensors.size() - 1};
        if (!literal("],\"data_offsets\":[") || !integer(span.begin) || !expect(',') || !integer(span.end) ||
            !literal("]}")) {
          return false;
        }
        spans.push_back(span);
        hashes.push_back(text_hash(name));
        std::uint64_t tensor_nodes = 10 + t.shape.size();  // key, object, 3 keys, dtype, shape, offsets, 2 offsets
        nodes += tensor_nodes;
        charge(limits_, tensor_nodes);
      }
      if (nodes > JsonDocument::kMaxNodes) return false;
      if (peek('}')) {
        ++p_;
        return at_end();
      }
      if (!expect(',')) return false;
    }
  }

 private:
  bool peek(char c) const { return p_ < end_ && *p_ == c; }
  bool expect(char c) {
    if (!peek(c)) return false;
    ++p_;
    return true;
  }
  bool literal(std::string_view text) {
    if (static_cast<std::size_t>(end_ - p_) < text.size() || std::memcmp(p_, text.data(), text.size()) != 0) return false;
    p_ += text.size();
    return true;
  }
  // Only the writer's padding may follow the object.
  bool at_end() {
    while (p_ < end_ && *p_ == ' ') ++p_;
    return p_ == end_;
  }
  // A string of printable ASCII, no escapes.
  bool string(std::string_view& out) {
    if (!expect('"')) return false;
    const char* start = p_;
    p_ += plain_string_bytes(p_, static_cast<std::size_t>(end_ - p_));
    if (!peek('"')) return false;  // an escape, a control or non-ASCII byte, or the end
    out = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }
  // A JSON integer with no sign, fraction or exponent (0 or no leading zero) that fits 64 bits.
  bool integer(std::uint64_t& value) {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    value = 0;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, static_cast<unsigned>(*p_ - '0'), &value)) {
          return false;
        }
        ++p_;
      }
    }
    return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E' && (*p_ < '0' || *p_ > '9'));
  }
  // {"k":"v",...} or null.
  bool metadata(std::uint64_t& nodes) {
    nodes += 2;
    if (literal("null")) return true;
    if (!expect('{')) return false;
    if (peek('}')) {
      ++p_;
      return true;
    }
    for (;;) {
      std::string_view key, value;
      if (!string(key) || !expect(':') || !string(value)) return false;
      nodes += 2;
      if (peek('}')) {
        ++p_;
        return true;
      }
      if (!expect(',')) return false;
    }
  }

  const char* p_;
  const char* end_;
  const ReadLimits& limits_;
};

// Any other header: parsed as JSON, then walked.
void read_general_header(const JsonDocument& doc, CheckpointContents& out, std::vector<Span>& spans,
                         std::vector<std::size_t>& name_hashes) {
  JsonValue header = doc.root();
  if (!header.is_object()) fail(ErrorCode::kCorrupt, "the safetensors header is not a JSON object");
  std::size_t members = header.size();
  out.tensors.reserve(members);
  spans.reserve(members);
  name_hashes.reserve(members);
  bool seen_metadata = false;
  const DtypeInfo* type = nullptr;
  bool cached = false;         // `type` is the dtype of `last_code`, a view into the header
  std::string_view last_code;
  for (JsonMember member : header.members()) {
    const JsonValue& info = member.value;
    if (member.key.equals("__metadata__")) {
      if (seen_metadata) fail(ErrorCode::kCorrupt, "the safetensors header has __metadata__ twice");
      seen_metadata = true;
      if (info.kind() == JsonValue::Kind::kNull) continue;  // Option<HashMap>: null is None
      if (!info.is_object()) fail(ErrorCode::kCorrupt, "__metadata__ is not an object of strings");
      for (JsonMember entry : info.members()) {
        if (!entry.value.is_string()) {
          fail(ErrorCode::kCorrupt, "__metadata__ value of " + entry.key.text() + " is not a string");
        }
      }
      continue;
    }
    TensorRecord& t = out.tensors.emplace_back();  // built in place: no copy of its strings
    t.name = member.key.has_escapes() ? out.text.copy(member.key.text()) : out.text.view(member.key.raw());
    if (!info.is_object()) fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " is not an object {dtype, shape, data_offsets}");
    std::optional<JsonValue> dtype, shape, offsets;
    for (JsonMember field : info.members()) {
      std::optional<JsonValue>* slot = field.key.equals("dtype")          ? &dtype
                                       : field.key.equals("shape")        ? &shape
                                       : field.key.equals("data_offsets") ? &offsets
                                                                          : nullptr;
      if (slot == nullptr) continue;  // other fields are ignored, as serde does
      if (*slot) fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " has field " + field.key.text() + " twice");
      *slot = field.value;
    }
    if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offsets || !offsets->is_array()) {
      fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " lacks dtype, shape or data_offsets");
    }
    // Neighbouring tensors mostly share a dtype: look the code up only when it changes.
    std::string decoded_code;
    std::string_view code = dtype->has_escapes() ? (decoded_code = dtype->text()) : dtype->raw();
    if (!cached || code != last_code) {
      type = dtype_from_safetensors(code);
      if (type == nullptr) fail(ErrorCode::kUnsupportedFormat, "tensor " + std::string(t.name) + " has unknown dtype " + std::string(code));
      cached = !dtype->has_escapes();  // a decoded code does not outlive this tensor
      last_code = code;
    }
    t.dtype = type->name;
    t.element_bits = type->bits;
    t.numel = 1;
    t.shape.reserve(shape->size());
    for (JsonValue d : shape->items()) {
      std::optional<std::uint64_t> extent = d.as_uint64();
      if (!extent || *extent > static_cast<std::uint64_t>(INT64_MAX)) {
        fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " has a shape entry that is not a non-negative integer");
      }
      t.shape.push_back(static_cast<std::int64_t>(*extent));
      t.numel = checked_mul(t.numel, *extent, "a tensor's element count");
    }
    Span span{0, 0, out.tensors.size() - 1};
    std::size_t count = 0;
    for (JsonValue o : offsets->items()) {
      if (count == 0) span.begin = offset_value(o, t.name);
      if (count == 1) span.end = offset_value(o, t.name);
      ++count;
    }
    if (count != 2) fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " has data_offsets that are not [begin, end]");
    spans.push_back(span);
    name_hashes.push_back(text_hash(t.name));
  }
}

}  // namespace

// The header is checked as safetensors' reference implementation checks it
// (SafeTensors::read_metadata and Metadata::validate in safetensors/src/tensor.rs): UTF-8 JSON, an
// object of tensors {dtype, shape, data_offsets} with an optional __metadata__ of strings; sorted
// by offsets, the tensors tile the data area from 0 with no gap or overlap; each spans exactly
// dtype bits x shape, a whole number of bytes; the file ends with the last tensor. Beyond the
// reference, a name given twice is refused (the reference keeps the last one silently).
CheckpointContents read_safetensors(const ByteSource& source, const ReadLimits& limits, HeaderReading reading) {
  unsigned char head[8];
  if (source.size() < 8) fail(ErrorCode::kTruncated, "shorter than a safetensors header (8 bytes)");
  source.read(0, head, sizeof(head));
  std::uint64_t header_length = le64(head);
  if (header_length > std::min<std::uint64_t>(kMaxHeaderBytes, limits.max_json_bytes)) {
    fail(ErrorCode::kLimitExceeded, "safetensors header of " + std::to_string(header_length) + " bytes is over the 100 MB limit");
  }
  if (header_length > source.size() - 8) {
    fail(ErrorCode::kTruncated, "the safetensors header claims " + std::to_string(header_length) +
                                    " bytes but the file has " + std::to_string(source.size() - 8) + " after its length");
  }
  auto length = static_cast<std::size_t>(header_length);
  std::shared_ptr<char> text = read_document_text(source, 8, length);

  CheckpointContents out;
  out.format = "safetensors";
  out.type = "safetensors";
  out.text.keep(text, std::string_view(text.get(), length));  // names stay views into the header
  std::vector<Span> spans;
  std::vector<std::size_t> name_hashes;
  LaidOutHeader laid_out(std::string_view(text.get(), length), limits);
  bool direct = reading != HeaderReading::kGeneralOnly && laid_out.read(out, spans, name_hashes);
  if (!direct && reading == HeaderReading::kLaidOutOnly) {
    fail(ErrorCode::kUnsupportedFormat, "the safetensors header is not laid out as the writer lays it out");
  }
  if (!direct) {
    out.tensors.clear();
    spans.clear();
    name_hashes.clear();
    JsonDocument doc(text, length, "the safetensors header", limits);
    read_general_header(doc, out, spans, name_hashes);
  }
  if (std::ptrdiff_t twice = first_duplicate(out.tensors, name_hashes); twice >= 0) {
    fail(ErrorCode::kCorrupt, "the safetensors header names tensor " + std::string(out.tensors[twice].name) + " twice");
  }

  // In offset order, as the reference validates.
  auto by_offsets = [](const Span& x, const Span& y) { return x.begin != y.begin ? x.begin < y.begin : x.end < y.end; };
  if (!std::is_sorted(spans.begin(), spans.end(), by_offsets)) std::sort(spans.begin(), spans.end(), by_offsets);
  std::uint64_t end = 0;
  for (const Span& span : spans) {
    const TensorRecord& t = out.tensors[span.tensor];
    if (span.begin != end || span.end < span.begin) {
      fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " has invalid data_offsets [" + std::to_string(span.begin) + ", " +
                                    std::to_string(span.end) + "]: the tensors must tile the data from byte 0 with no " +
                                    (span.begin < end ? "overlap" : "gap"));
    }
    end = span.end;
    std::uint64_t bits = checked_mul(t.numel, t.element_bits, "a tensor's size in bits");
    if (bits % 8 != 0) {
      fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " is " + std::to_string(bits) + " bits of " + t.dtype +
                                    ", which does not end on a byte");
    }
    if (span.end - span.begin != bits / 8) {
      fail(ErrorCode::kCorrupt, "tensor " + std::string(t.name) + " spans " + std::to_string(span.end - span.begin) + " bytes but " +
                                    t.dtype + " x shape needs " + std::to_string(bits / 8));
    }
  }
  std::uint64_t expected_size = checked_add(8 + header_length, end, "the safetensors file size");
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
