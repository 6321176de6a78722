// A strict JSON reader (RFC 8259, UTF-8) for the JSON inside or beside checkpoints: safetensors
// headers, *.index.json weight maps, Hugging Face config.json.
//
// It builds no tree of objects. A document is the input text plus one flat vector of 8-byte nodes
// in document order; a container's node records where its subtree ends, a string's or number's
// node where its text lies. Strings are decoded (escapes) and numbers converted only when asked.
// Memory is the input plus at most 8 bytes a node (a node needs at least 2 input bytes), and the
// node count is capped (LIMIT_EXCEEDED), so a hostile `[0,0,0,...]` costs a few times its size.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/byte_source.h"
#include "../common/read_limits.h"

namespace ct {

class JsonDocument;

// Memory for the document's big buffers (the text, the nodes): from 4 MiB up, aligned to 2 MiB and
// marked for transparent huge pages where Linux offers them, so a 12 MB header costs a handful of
// page faults instead of thousands. Smaller buffers come from malloc as usual.
void* allocate_document_memory(std::size_t bytes);
void free_document_memory(void* memory) noexcept;

// `length` bytes at `offset` of `source` in document memory, not zeroed first (checked against the
// source's size before anything is allocated).
std::shared_ptr<char> read_document_text(const ByteSource& source, std::uint64_t offset, std::size_t length);

template <typename T>
struct DocumentAllocator {
  using value_type = T;
  DocumentAllocator() = default;
  template <typename U>
  DocumentAllocator(const DocumentAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_document_memory(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { free_document_memory(p); }
  bool operator==(const DocumentAllocator&) const noexcept { return true; }
  bool operator!=(const DocumentAllocator&) const noexcept { return false; }
};

// A handle on one value of a document (the document must outlive it). Cheap to copy.
class JsonValue {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const;
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_string() const { return kind() == Kind::kString; }
  bool boolean() const;  // kBool: its value

  // kString: the text between the quotes as it is in the input (escapes not decoded), whether it
  // has escapes, and the decoded text.
  std::string_view raw() const;
  bool has_escapes() const;
  std::string text() const;
  bool equals(std::string_view decoded) const;  // kString equal to `decoded`

  // kNumber: the literal, and its value when it is an integer literal (no fraction or exponent)
  // that fits. as_double() works for any number.
  std::string_view literal() const;
  std::optional<std::uint64_t> as_uint64() const;
  std::optional<std::int64_t> as_int64() const;
  double as_double() const;

  // Arrays and objects.
  class Items;
  class Members;
  Items items() const;      // kArray: the elements
  Members members() const;  // kObject: (key, value) pairs in document order
  std::size_t size() const;  // elements or members (counted: O(size))
  // kObject: the first member named `key` (linear: for the small objects of a config).
  std::optional<JsonValue> get(std::string_view key) const;

 private:
  friend class JsonDocument;
  JsonValue(const JsonDocument* doc, std::uint32_t index) : doc_(doc), index_(index) {}
  static std::optional<std::uint64_t> as_uint64_checked(std::string_view digits);
  const JsonDocument* doc_;
  std::uint32_t index_;
};

struct JsonMember {
  JsonValue key;  // a kString
  JsonValue value;
};

class JsonDocument {
 public:
  // Parses `text` (kept by the document); throws CheckpointError(kCorrupt, "<what> is not valid
  // JSON: ...") on malformed input, kLimitExceeded beyond `max_nodes` values. Charges the
  // budget in `limits` one unit a value, as it goes.
  JsonDocument(std::string text, const std::string& what, const ReadLimits& limits = {}, int max_depth = 64);
  // The same for `length` bytes at `offset` of `source`, read straight into the document's
  // buffer (no zero fill of megabytes that are overwritten at once).
  JsonDocument(const ByteSource& source, std::uint64_t offset, std::size_t length, const std::string& what,
               const ReadLimits& limits = {}, int max_depth = 64);
  // The same for text already read by read_document_text() (shared: the caller may keep it).
  JsonDocument(std::shared_ptr<char> text, std::size_t length, const std::string& what, const ReadLimits& limits = {},
               int max_depth = 64);
  // Values point into the document: it stays where it was built.
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  JsonValue root() const { return JsonValue(this, 0); }
  std::size_t node_count() const { return nodes_.size(); }
  std::string_view text() const { return text_; }
  // An owner of the text that outlives the document (views of it stay valid); null when the text
  // was given as a string.
  std::shared_ptr<const void> share_text() const { return buffer_; }

  // The most values one document may have: 16 Mi nodes (128 MiB). A 100,000-tensor safetensors
  // header has 1.2 M; the reference's 100 MB header limit allows ~11 M real ones.
  static constexpr std::uint32_t kMaxNodes = 16u << 20;

 private:
  friend class JsonValue;
  friend class JsonParser;
  struct Node {
    std::uint32_t begin;  // string: first byte after the quote; number: first byte; else the token
    std::uint32_t word;   // kind (3 bits), flag (1 bit: true / has escapes), extra (28 bits)
  };
  // extra: string and number: the byte length; array and object: the index of the first node
  // after the subtree.
  static constexpr int kExtraShift = 4;
  Node node(std::uint32_t i) const { return nodes_[i]; }
  std::uint32_t next(std::uint32_t i) const;  // the node after i's subtree

  std::string owned_;                // the text, when given as a string
  std::shared_ptr<char> buffer_;  // the text, when read from a source
  std::string_view text_;
  std::vector<Node, DocumentAllocator<Node>> nodes_;
};

// The hot accessors, inline: a 100,000-tensor header calls them millions of times.
inline std::uint32_t JsonDocument::next(std::uint32_t i) const {
  std::uint32_t word = nodes_[i].word;
  auto kind = static_cast<JsonValue::Kind>(word & 7);
  return kind == JsonValue::Kind::kArray || kind == JsonValue::Kind::kObject ? word >> kExtraShift : i + 1;
}
inline JsonValue::Kind JsonValue::kind() const { return static_cast<Kind>(doc_->nodes_[index_].word & 7); }
inline std::string_view JsonValue::raw() const {
  JsonDocument::Node n = doc_->nodes_[index_];
  return doc_->text_.substr(n.begin, n.word >> JsonDocument::kExtraShift);
}
inline bool JsonValue::has_escapes() const { return kind() == Kind::kString && (doc_->nodes_[index_].word & 8) != 0; }
inline std::string_view JsonValue::literal() const { return kind() == Kind::kNumber ? raw() : std::string_view(); }
inline std::optional<std::uint64_t> JsonValue::as_uint64() const {
  std::string_view digits = literal();
  if (digits == "-0") return 0;
  if (digits.empty() || digits[0] == '-') return std::nullopt;
  if (digits.size() > 19) return as_uint64_checked(digits);
  std::uint64_t value = 0;  // below 10^19 < 2^64: no overflow possible
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;  // a fraction or an exponent
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}
inline bool JsonValue::equals(std::string_view decoded) const {
  if (kind() != Kind::kString) return false;
  return has_escapes() ? text() == decoded : raw() == decoded;
}

class JsonValue::Items {
 public:
  class iterator {
   public:
    JsonValue operator*() const { return JsonValue(doc_, i_); }
    iterator& operator++();
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    friend class Items;
    iterator(const JsonDocument* doc, std::uint32_t i) : doc_(doc), i_(i) {}
    const JsonDocument* doc_;
    std::uint32_t i_;
  };
  iterator begin() const { return iterator(doc_, first_); }
  iterator end() const { return iterator(doc_, end_); }

 private:
  friend class JsonValue;
  Items(const JsonDocument* doc, std::uint32_t first, std::uint32_t end) : doc_(doc), first_(first), end_(end) {}
  const JsonDocument* doc_;
  std::uint32_t first_, end_;
};

class JsonValue::Members {
 public:
  class iterator {
   public:
    JsonMember operator*() const { return {JsonValue(doc_, i_), JsonValue(doc_, i_ + 1)}; }
    iterator& operator++();
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    friend class Members;
    iterator(const JsonDocument* doc, std::uint32_t i) : doc_(doc), i_(i) {}
    const JsonDocument* doc_;
    std::uint32_t i_;
  };
  iterator begin() const { return iterator(doc_, first_); }
  iterator end() const { return iterator(doc_, end_); }

 private:
  friend class JsonValue;
  Members(const JsonDocument* doc, std::uint32_t first, std::uint32_t end) : doc_(doc), first_(first), end_(end) {}
  const JsonDocument* doc_;
  std::uint32_t first_, end_;
};

}  // namespace ct
