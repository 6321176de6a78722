#include "json_reader.h"

#include <cstdlib>
#include <cstring>

#include <new>

#include "../common/checkpoint_error.h"
#include "../common/string_scan.h"
#include "../common/utf8.h"
#include "../platform/platform.h"

namespace ct {
namespace {

using Kind = JsonValue::Kind;
constexpr std::uint32_t kKindMask = 7;
constexpr std::uint32_t kFlag = 8;
constexpr std::uint32_t kMaxExtra = (1u << 28) - 1;
// Values are counted against the budget in blocks: one charge call per this many values.
constexpr std::uint32_t kChargeBlock = 1u << 10;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

}  // namespace

// The parser: one pass, no recursion (an explicit stack of the open containers), one node a value.
class JsonParser {
 public:
  JsonParser(JsonDocument& doc, const std::string& what, const ReadLimits& limits, int max_depth)
      : doc_(doc), text_(doc.text_), what_(what), limits_(limits), max_depth_(max_depth) {}

  void run() {
    const std::size_t size = text_.size();
    if (size > kMaxExtra) {
      fail(ErrorCode::kLimitExceeded, what_ + " is " + std::to_string(size) + " bytes, over the JSON reader's 256 MiB limit");
    }
    doc_.nodes_.reserve(std::min<std::size_t>(size / 8 + 16, JsonDocument::kMaxNodes));
    std::vector<std::uint32_t> open;  // indices of the open containers' nodes
    open.reserve(static_cast<std::size_t>(max_depth_) + 1);
    skip_space();
    for (;;) {
      // A value starts here.
      if (pos_ >= size) error("unexpected end");
      char c = text_[pos_];
      if (c == '{' || c == '[') {
        if (static_cast<int>(open.size()) >= max_depth_) error("nested too deeply");
        open.push_back(add(c == '{' ? Kind::kObject : Kind::kArray, static_cast<std::uint32_t>(pos_), 0));
        ++pos_;
        skip_space();
        if (pos_ < size && text_[pos_] == (c == '{' ? '}' : ']')) {
          ++pos_;
          close(open);
        } else if (c == '{') {
          key();
          continue;
        } else {
          continue;
        }
      } else if (c == '"') {
        string();
      } else if (c == '-' || is_digit(c)) {
        number();
      } else if (c == 't') {
        literal("true", Kind::kBool, kFlag);
      } else if (c == 'f') {
        literal("false", Kind::kBool, 0);
      } else if (c == 'n') {
        literal("null", Kind::kNull, 0);
      } else {
        error("unexpected character");
      }
      // After a value: a separator, or the end of containers.
      for (;;) {
        skip_space();
        if (open.empty()) {
          if (pos_ != size) error("unexpected data after the JSON value");
          finish();
          return;
        }
        bool in_object = (doc_.nodes_[open.back()].word & kKindMask) == static_cast<std::uint32_t>(Kind::kObject);
        if (pos_ >= size) error("unexpected end");
        char s = text_[pos_++];
        if (s == ',') {
          skip_space();
          if (in_object) key();
          break;
        }
        if (s == (in_object ? '}' : ']')) {
          close(open);
          continue;
        }
        --pos_;
        error(in_object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  }

 private:
  [[noreturn]] void error(const std::string& message) const {
    fail(ErrorCode::kCorrupt, what_ + " is not valid JSON: " + message + " at byte " + std::to_string(pos_));
  }

  std::uint32_t add(Kind kind, std::uint32_t begin, std::uint32_t word) {
    auto& nodes = doc_.nodes_;
    if (nodes.size() >= JsonDocument::kMaxNodes) {
      fail(ErrorCode::kLimitExceeded, what_ + " has more than " + std::to_string(JsonDocument::kMaxNodes) + " values");
    }
    if ((nodes.size() & (kChargeBlock - 1)) == kChargeBlock - 1) charge(limits_, kChargeBlock);
    nodes.push_back({begin, word | static_cast<std::uint32_t>(kind)});
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }

  void close(std::vector<std::uint32_t>& open) {
    auto& node = doc_.nodes_[open.back()];
    node.word |= static_cast<std::uint32_t>(doc_.nodes_.size()) << JsonDocument::kExtraShift;
    open.pop_back();
  }

  void finish() { charge(limits_, doc_.nodes_.size() & (kChargeBlock - 1)); }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  // An object member's key and its colon; leaves pos_ at the value.
  void key() {
    if (pos_ >= text_.size() || text_[pos_] != '"') error("expected a key");
    string();
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != ':') error("expected ':'");
    ++pos_;
    skip_space();
  }

  void literal(std::string_view word, Kind kind, std::uint32_t flag) {
    if (text_.compare(pos_, word.size(), word) != 0) error("bad literal");
    add(kind, static_cast<std::uint32_t>(pos_), flag);
    pos_ += word.size();
  }

  void digits() {
    std::size_t first = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    if (pos_ == first) error("bad number");
  }

  void number() {
    std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else {
      digits();
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      digits();
    }
    add(Kind::kNumber, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos_ - start) << JsonDocument::kExtraShift);
  }

  std::uint32_t hex4() {
    if (text_.size() - pos_ < 4) error("short \\u escape");
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(text_[pos_++]);
      if (h < 0) error("bad \\u escape");
      value = (value << 4) | static_cast<std::uint32_t>(h);
    }
    return value;
  }

  // One UTF-8 sequence starting at pos_ (a byte >= 0x80), strictly: no overlong forms, no
  // surrogates, nothing above U+10FFFF.
  void utf8_sequence() {
    const auto* p = reinterpret_cast<const unsigned char*>(text_.data());
    unsigned char b0 = p[pos_];
    std::size_t length;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) low = 0xA0;
      if (b0 == 0xED) high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) low = 0x90;
      if (b0 == 0xF4) high = 0x8F;
    } else {
      error("invalid UTF-8");
    }
    if (text_.size() - pos_ < length) error("invalid UTF-8");
    if (p[pos_ + 1] < low || p[pos_ + 1] > high) error("invalid UTF-8");
    for (std::size_t i = 2; i < length; ++i) {
      if (p[pos_ + i] < 0x80 || p[pos_ + i] > 0xBF) error("invalid UTF-8");
    }
    pos_ += length;
  }

  void string() {
    const std::size_t start = ++pos_;  // after the opening quote
    const std::size_t size = text_.size();
    const char* data = text_.data();
    std::uint32_t flag = 0;
    for (;;) {
      pos_ += plain_string_bytes(data + pos_, size - pos_);
      if (pos_ >= size) error("unterminated string");
      auto c = static_cast<unsigned char>(data[pos_]);
      if (c == '"') break;
      if (c >= 0x80) {
        utf8_sequence();
      } else if (c < 0x20) {
        error("control character in string");
      } else if (c == '\\') {
        flag = kFlag;
        ++pos_;
        if (pos_ >= size) error("unterminated escape");
        char e = data[pos_++];
        if (e == 'u') {
          std::uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) error("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.compare(pos_, 2, "\\u") != 0) error("lone high surrogate in \\u escape");
            pos_ += 2;
            std::uint32_t second = hex4();
            if (second < 0xDC00 || second > 0xDFFF) error("lone high surrogate in \\u escape");
          }
        } else if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') {
          error("bad escape");
        }
      } else {
        ++pos_;
      }
    }
    add(Kind::kString, static_cast<std::uint32_t>(start), flag | static_cast<std::uint32_t>(pos_ - start) << JsonDocument::kExtraShift);
    ++pos_;  // closing quote
  }

  JsonDocument& doc_;
  std::string_view text_;
  const std::string& what_;
  const ReadLimits& limits_;
  int max_depth_;
  std::size_t pos_ = 0;
};

void* allocate_document_memory(std::size_t bytes) {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  if (bytes >= 2 * kHuge) {
    std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* memory = nullptr;
    if (posix_memalign(&memory, kHuge, rounded) != 0) throw std::bad_alloc();
    platform::advise_huge_pages(memory, rounded);
    return memory;
  }
  void* memory = std::malloc(bytes > 0 ? bytes : 1);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

void free_document_memory(void* memory) noexcept { std::free(memory); }

JsonDocument::JsonDocument(std::string text, const std::string& what, const ReadLimits& limits, int max_depth)
    : owned_(std::move(text)), text_(owned_) {
  JsonParser(*this, what, limits, max_depth).run();
}

std::shared_ptr<char> read_document_text(const ByteSource& source, std::uint64_t offset, std::size_t length) {
  source.check_range(offset, length);  // before allocating: a corrupt length must not allocate
  std::shared_ptr<char> text(static_cast<char*>(allocate_document_memory(length > 0 ? length : 1)), free_document_memory);
  if (length > 0) source.read(offset, text.get(), length);
  return text;
}

JsonDocument::JsonDocument(const ByteSource& source, std::uint64_t offset, std::size_t length, const std::string& what,
                           const ReadLimits& limits, int max_depth)
    : JsonDocument(read_document_text(source, offset, length), length, what, limits, max_depth) {}

JsonDocument::JsonDocument(std::shared_ptr<char> text, std::size_t length, const std::string& what, const ReadLimits& limits,
                           int max_depth)
    : buffer_(std::move(text)) {
  text_ = std::string_view(buffer_.get(), length);
  JsonParser(*this, what, limits, max_depth).run();
}

bool JsonValue::boolean() const { return kind() == Kind::kBool && (doc_->node(index_).word & kFlag) != 0; }

std::string JsonValue::text() const {
  std::string_view in = raw();
  if (!has_escapes()) return std::string(in);
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    char c = in[i++];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = in[i++];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        // The parser checked the four hex digits and the surrogate pairing.
        auto hex = [&] {
          std::uint32_t v = 0;
          for (int k = 0; k < 4; ++k) v = (v << 4) | static_cast<std::uint32_t>(hex_value(in[i++]));
          return v;
        };
        std::uint32_t cp = hex();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          i += 2;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (hex() - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e;  // '"', '\\', '/'
    }
  }
  return out;
}


std::optional<std::uint64_t> JsonValue::as_uint64_checked(std::string_view digits) {
  std::uint64_t value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;  // a fraction or an exponent
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, static_cast<unsigned>(c - '0'), &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::optional<std::int64_t> JsonValue::as_int64() const {
  std::string_view digits = literal();
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    if (__builtin_mul_overflow(magnitude, 10u, &magnitude) ||
        __builtin_add_overflow(magnitude, static_cast<unsigned>(c - '0'), &magnitude)) {
      return std::nullopt;
    }
  }
  if (negative) {
    if (magnitude > (std::uint64_t{1} << 63)) return std::nullopt;
    return static_cast<std::int64_t>(0 - magnitude);
  }
  if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

double JsonValue::as_double() const {
  std::string copy(literal());  // strtod needs a terminator
  return std::strtod(copy.c_str(), nullptr);
}

std::size_t JsonValue::size() const {
  std::size_t count = 0;
  if (is_array()) {
    for (JsonValue item : items()) {
      (void)item;
      ++count;
    }
  } else if (is_object()) {
    for (JsonMember member : members()) {
      (void)member;
      ++count;
    }
  }
  return count;
}

JsonValue::Items JsonValue::items() const {
  if (!is_array()) return Items(doc_, 0, 0);
  return Items(doc_, index_ + 1, doc_->next(index_));
}

JsonValue::Members JsonValue::members() const {
  if (!is_object()) return Members(doc_, 0, 0);
  return Members(doc_, index_ + 1, doc_->next(index_));
}

std::optional<JsonValue> JsonValue::get(std::string_view key) const {
  for (JsonMember member : members()) {
    if (member.key.equals(key)) return member.value;
  }
  return std::nullopt;
}

JsonValue::Items::iterator& JsonValue::Items::iterator::operator++() {
  i_ = doc_->next(i_);
  return *this;
}

JsonValue::Members::iterator& JsonValue::Members::iterator::operator++() {
  i_ = doc_->next(i_ + 1);  // past the key, then past the value's subtree
  return *this;
}

}  // namespace ct
