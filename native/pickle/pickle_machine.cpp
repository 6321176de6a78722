#include "pickle_machine.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>

#include "../common/checkpoint_error.h"
#include "../common/utf8.h"
#include "call_policy.h"
#include "opcodes.h"

namespace ct {

using Kind = PickleKind;

// The few helpers every opcode uses: inlined into the loop (GCC would otherwise keep them calls).
#define CT_HOT_INLINE [[gnu::always_inline]] inline

namespace {

constexpr std::uint8_t kOwnedText = 1;
// On globals: the allow list has been asked (kPolicyKnown) and said yes (kAllowed). Pickles name
// one global per call (memoised), so each is looked up once.
constexpr std::uint8_t kPolicyKnown = 2;
constexpr std::uint8_t kAllowed = 4;
// On globals made by getattr: an attribute value, never callable.
constexpr std::uint8_t kAttribute = 8;

// A Python identifier that is not a dunder (getattr of __subclasses__, __init__, ... is never an
// enum member).
bool is_public_identifier(std::string_view name) {
  if (name.empty() || name.size() > 1024 || name.substr(0, 2) == "__") return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// UNICODE's argument: raw-unicode-escape (Latin-1 bytes, \uXXXX and \UXXXXXXXX), as UTF-8.
std::string decode_raw_unicode_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '\\' && i + 1 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
      std::size_t digits = in[i + 1] == 'u' ? 4 : 8;
      if (i + 2 + digits <= in.size()) {
        std::uint32_t cp = 0;
        bool ok = true;
        for (std::size_t k = 0; k < digits; ++k) {
          int d = hex_digit(in[i + 2 + k]);
          if (d < 0) ok = false;
          cp = (cp << 4) | static_cast<std::uint32_t>(d < 0 ? 0 : d);
        }
        if (ok) {
          append_utf8(out, cp);
          i += 1 + digits;
          continue;
        }
      }
    }
    append_utf8(out, c);
  }
  return out;
}

// STRING's argument: a Python 2 repr, quotes included ('abc', "it's", 'a\n\x00').
std::string decode_string_repr(std::string_view text) {
  if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') || text.back() != text.front()) {
    fail(ErrorCode::kCorrupt, "STRING argument is not quoted");
  }
  text = text.substr(1, text.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char e = text[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'x': {
        int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) fail(ErrorCode::kCorrupt, "bad \\x escape in STRING");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: out += e;  // \\, \', \"
    }
  }
  return out;
}

// A decimal literal of INT / LONG / PUT / GET; nullopt when it does not fit int64.
std::optional<std::int64_t> parse_decimal(std::string_view text, const char* what) {
  if (!text.empty() && text.back() == 'L') text.remove_suffix(1);
  if (text.empty() || text.size() > 64) {
    if (text.size() > 64 && text.find_first_not_of("+-0123456789") == std::string_view::npos) return std::nullopt;
    fail(ErrorCode::kCorrupt, std::string("bad ") + what + " literal in pickle");
  }
  std::string copy(text);
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(copy.c_str(), &end, 10);
  if (end != copy.c_str() + copy.size()) fail(ErrorCode::kCorrupt, std::string("bad ") + what + " literal in pickle");
  if (errno == ERANGE) return std::nullopt;
  return value;
}

std::int64_t parse_index(std::string_view text, const char* what) {
  std::optional<std::int64_t> v = parse_decimal(text, what);
  if (!v || *v < 0) fail(ErrorCode::kCorrupt, std::string("bad ") + what + " memo index");
  return *v;
}

[[noreturn, gnu::cold, gnu::noinline]] void truncated_opcode() {
  fail(ErrorCode::kTruncated, "pickle ends in the middle of an opcode");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading opcode arguments.

class PickleMachine::Cursor {
 public:
  Cursor(std::string_view data, std::size_t pos) : data_(data), pos_(pos) {}

  std::size_t pos() const { return pos_; }
  unsigned char byte() {
    need(1);
    return static_cast<unsigned char>(data_[pos_++]);
  }
  std::string_view take(std::uint64_t n) {
    need(n);
    std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  std::uint64_t uint(int bytes) {
    need(static_cast<std::uint64_t>(bytes));
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(i)]);
    pos_ += static_cast<std::size_t>(bytes);
    return value;
  }
  // A text line without its newline (protocol 0 arguments).
  std::string_view line() {
    std::size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) fail(ErrorCode::kTruncated, "pickle ends inside a text argument");
    std::string_view out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

 private:
  void need(std::uint64_t n) const {
    if (n > data_.size() - pos_) truncated_opcode();
  }
  std::string_view data_;
  std::size_t pos_;
};

// ---------------------------------------------------------------------------------------------
// Values.


CT_HOT_INLINE ValueId PickleMachine::make(Kind kind, std::uint32_t a, std::uint64_t b) {
  if (values_.size() >= limits_.max_values) {
    fail(ErrorCode::kLimitExceeded, "pickle has more than " + std::to_string(limits_.max_values) + " values");
  }
  values_.push_back(Value{kind, 0, 0, a, b});
  return static_cast<ValueId>(values_.size() - 1);
}

CT_HOT_INLINE ValueId PickleMachine::make_string(Kind kind, std::string_view bytes) {
  if (bytes.size() > limits_.max_string) fail(ErrorCode::kLimitExceeded, "string in pickle too long");
  return make(kind, static_cast<std::uint32_t>(bytes.size()), static_cast<std::uint64_t>(bytes.data() - input_.data()));
}

ValueId PickleMachine::make_owned_string(Kind kind, const std::string& bytes) {
  if (bytes.size() > limits_.max_string || owned_text_.size() + bytes.size() > limits_.max_string) {
    fail(ErrorCode::kLimitExceeded, "decoded text in pickle too long");
  }
  ValueId id = make(kind, static_cast<std::uint32_t>(bytes.size()), owned_text_.size());
  values_[id].flags = kOwnedText;
  owned_text_ += bytes;
  return id;
}

CT_HOT_INLINE ValueId PickleMachine::make_container(Kind kind, const ValueId* items, std::size_t count) {
  if (ids_.size() + count > limits_.max_ids) fail(ErrorCode::kLimitExceeded, "pickle containers hold too many items");
  std::uint64_t start = ids_.size();
  ids_.append(items, count);
  return make(kind, static_cast<std::uint32_t>(count), start | (static_cast<std::uint64_t>(count) << 32));
}

// Appends to a list, set or dict span. A span with spare capacity grows in place; a full one moves
// to the arena's end with twice the room, so alternating appends to many containers stay linear.
void PickleMachine::append(ValueId container, const ValueId* items, std::size_t count) {
  if (count == 0) return;  // APPENDS after an empty MARK; `items` may be null then
  Value& v = values_[container];
  std::uint64_t start = v.b & 0xFFFFFFFFu;
  std::uint64_t capacity = v.b >> 32;
  std::uint64_t length = v.a;
  if (length + count > limits_.max_ids) fail(ErrorCode::kLimitExceeded, "pickle container too large");
  if (length + count > capacity) {
    std::uint64_t new_capacity = std::max<std::uint64_t>(2 * (length + count), 8);
    if (ids_.size() + new_capacity > limits_.max_ids) fail(ErrorCode::kLimitExceeded, "pickle containers hold too many items");
    std::uint64_t new_start = ids_.size();
    ids_.append_fill(new_capacity, kNoValue);
    ids_.copy_within(start, length, new_start);
    start = new_start;
    capacity = new_capacity;
  }
  std::memcpy(ids_.data() + start + length, items, count * sizeof(ValueId));
  Value& w = values_[container];  // ids_ may have moved, values_ has not
  w.a = static_cast<std::uint32_t>(length + count);
  w.b = start | (capacity << 32);
}

ValueId PickleMachine::make_global(std::string_view module, std::string_view name) {
  if (module.size() > 1024 || name.size() > 1024) fail(ErrorCode::kCorrupt, "pickle GLOBAL name too long");
  ValueId m = make_string(Kind::kString, module);
  ValueId n = make_string(Kind::kString, name);
  return named_global(m, n);
}

ValueId PickleMachine::named_global(ValueId module, ValueId name) {
  ValueId global = make(Kind::kGlobal, module, name);
  globals_.push_back(global);
  return global;
}

ValueId PickleMachine::call_container(ValueId call, Kind kind) {
  std::uint32_t index = values_[call].a;
  ValueId existing = kind == Kind::kDict ? calls_[index].entries : calls_[index].items;
  if (existing != kNoValue) return existing;
  ValueId made = make_container(kind, nullptr, 0);
  (kind == Kind::kDict ? calls_[index].entries : calls_[index].items) = made;
  return made;
}

// ---------------------------------------------------------------------------------------------
// Stack, marks and memo.

CT_HOT_INLINE void PickleMachine::push(ValueId v) {
  if (stack_.size() >= limits_.max_stack) fail(ErrorCode::kLimitExceeded, "pickle stack too deep");
  stack_.push_back(v);
}

CT_HOT_INLINE ValueId PickleMachine::pop() {
  if (stack_.size() <= stack_floor_) {
    fail(ErrorCode::kCorrupt, "pickle pops from an empty stack");
  }
  ValueId v = stack_.back();
  stack_.pop_back();
  return v;
}

CT_HOT_INLINE ValueId PickleMachine::top() const {
  if (stack_.empty()) fail(ErrorCode::kCorrupt, "pickle reads an empty stack");
  return stack_.back();
}

CT_HOT_INLINE void PickleMachine::mark() {
  if (marks_.size() >= limits_.max_marks) fail(ErrorCode::kLimitExceeded, "pickle nests MARKs too deeply");
  marks_.push_back(stack_.size());
  stack_floor_ = stack_.size();
}

CT_HOT_INLINE std::size_t PickleMachine::pop_mark() {
  if (marks_.empty()) fail(ErrorCode::kCorrupt, "pickle has no MARK to pop to");
  std::size_t mark = marks_.back();
  marks_.pop_back();
  stack_floor_ = marks_.empty() ? 0 : marks_.back();
  return mark;
}

CT_HOT_INLINE void PickleMachine::memo_put(std::uint64_t index) {
  ValueId value = top();
  if (index < memo_.size()) {
    if (memo_[index] == kNoValue) ++memo_count_;
    memo_[index] = value;
    return;
  }
  if (memo_count_ >= limits_.max_memo) fail(ErrorCode::kLimitExceeded, "pickle memo too large");
  // Pickle numbers its memo 0, 1, 2, ...: a dense array (reserved for max_memo slots). An index
  // past that, or far past what the values so far could use, goes to the sparse map, so a hostile
  // index cannot size the array.
  if (index == memo_.size() && index < limits_.max_memo) {  // the usual case: the next index
    memo_.push_back(value);
    ++memo_count_;
    return;
  }
  if (index < 2 * values_.size() + 1024 && index < limits_.max_memo) {
    memo_.append_fill(static_cast<std::size_t>(index) + 1 - memo_.size(), kNoValue);
    memo_[index] = value;
    ++memo_count_;
    return;
  }
  if (sparse_memo_.emplace(index, value).second) ++memo_count_; else sparse_memo_[index] = value;
}

CT_HOT_INLINE void PickleMachine::memo_get(std::uint64_t index) {
  ValueId value = kNoValue;
  if (index < memo_.size()) {
    value = memo_[index];
  } else if (auto found = sparse_memo_.find(index); found != sparse_memo_.end()) {
    value = found->second;
  }
  if (value == kNoValue) fail(ErrorCode::kCorrupt, "pickle refers to memo entry " + std::to_string(index) + " before it exists");
  push(value);
}

// ---------------------------------------------------------------------------------------------
// Calls. Every path a pickle can call something by (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ,
// copyreg's reconstructors) comes here, and BUILD checks what it would set state on.

std::string PickleMachine::describe_callable(ValueId callable) const {
  PickleRef c = ref(callable);
  if (c.is_attribute()) return "the attribute " + c.qualified_name() + " (read by getattr)";
  if (c.is(Kind::kGlobal)) return c.qualified_name();
  if (c.is(Kind::kCall) && c.call_target()) return "the result of calling " + c.call_target().qualified_name();
  return "a value that is not a global";
}

bool PickleMachine::allowed(ValueId global) {
  Value& v = values_[global];
  if (!(v.flags & kPolicyKnown)) {
    PickleRef g = ref(global);
    v.flags |= kPolicyKnown | (is_allowed_callable(g.module(), g.name(), dialect_) ? kAllowed : 0);
  }
  return (values_[global].flags & kAllowed) != 0;
}

ValueId PickleMachine::call_node(ValueId callable, ValueId args, bool object) {
  if (calls_.size() >= limits_.max_values) fail(ErrorCode::kLimitExceeded, "pickle has too many calls");
  calls_.push_back(CallRecord{callable, args, kNoValue, kNoValue, kNoValue});
  ValueId node = make(Kind::kCall, static_cast<std::uint32_t>(calls_.size() - 1), object ? 1 : 0);
  return node;
}

// cls.__new__(cls, *args) for a class outside the allow list: kept as an object (what
// torch.save(model) writes for modules), its class listed, unless its module is blocked.
ValueId PickleMachine::new_object(ValueId cls, ValueId args) {
  PickleRef c = ref(cls);
  if (!c.is(Kind::kGlobal) || c.is_attribute()) {
    fail(ErrorCode::kUnsafePickle, "the pickle makes an object of " + describe_callable(cls) + ", which torch.load would call");
  }
  if (is_blocked_module(c.module())) {
    fail(ErrorCode::kUnsafePickle, "the pickle makes an object of " + c.qualified_name() +
                                       ": its module is never safe to load (torch.load would create it)");
  }
  return call_node(cls, args, true);
}

// functools.partial(func, *args): making it calls nothing (calling it would be calling the result
// of a call, which is refused). Only of a global outside the blocked modules: torchvision's
// VisionTransformer pickles partial(LayerNorm, eps=1e-6), its norm_layer.
ValueId PickleMachine::partial(ValueId callable, ValueId args) {
  PickleRef func = ref(args).item(0);
  if (!func.is(Kind::kGlobal) || func.is_attribute() || is_blocked_module(func.module())) {
    fail(ErrorCode::kUnsafePickle, "the pickle calls functools.partial" +
                                       (func.is(Kind::kGlobal) ? " of " + func.qualified_name() : std::string()) +
                                       ", which torch.load(weights_only=True) refuses and a full torch.load would run");
  }
  return call_node(callable, args, false);
}

// Every global the pickle named that weights_only does not allow (classes it instantiates, a
// function a module keeps, getattr and the class it reads): torch.load(weights_only=True) refuses
// the file at the first of them.
void PickleMachine::note_globals_needed() {
  for (; globals_noted_ < globals_.size(); ++globals_noted_) {
    ValueId id = globals_[globals_noted_];
    PickleRef g = ref(id);
    if (allowed(id) || is_allowed_value(python3_module(g.module()), g.name())) continue;
    std::string name = std::string(python3_module(g.module())) + "." + std::string(g.name());
    if (!needed_.insert(name).second) continue;
    // Names of up to 2 KiB each, combined from memoised strings: bounded in number, not only by the input.
    if (classes_needed_.size() >= limits_.max_classes_needed) {
      fail(ErrorCode::kLimitExceeded, "the pickle names more than " + std::to_string(limits_.max_classes_needed) +
                                          " globals outside torch's allow list");
    }
    classes_needed_.push_back(std::move(name));
  }
}

// getattr(cls, "name"): Python 3.11's first releases pickle an enum member this way. The result
// is an inert global naming the attribute ("module.Class.name"), which no opcode may call, make
// an object of or set the state of. Only a class the machine would make objects of (its module
// not blocked) and a public name; any other getattr is refused as the call it would be.
ValueId PickleMachine::attribute(ValueId args) {
  PickleRef a = ref(args);
  PickleRef owner = a.item(0);
  std::optional<std::string_view> name = a.item(1).string();
  bool inert = a.size() == 2 && owner.is(Kind::kGlobal) && !owner.is_attribute() && !is_blocked_module(owner.module()) &&
               name && is_public_identifier(*name);
  if (!inert) {
    fail(ErrorCode::kUnsafePickle, "the pickle calls builtins.getattr" +
                                       (owner.is(Kind::kGlobal) ? " on " + owner.qualified_name() : std::string()) +
                                       ", which torch.load(weights_only=True) refuses and a full torch.load would run");
  }
  ValueId module = make_owned_string(Kind::kString, std::string(python3_module(owner.module())) + "." + std::string(owner.name()));
  ValueId attribute = make(Kind::kGlobal, module, a.item(1).id());
  values_[attribute].flags = kAttribute | kPolicyKnown;  // known, and not allowed
  return attribute;
}

PickleMachine::Constructor PickleMachine::constructor_of(ValueId global) {
  Value& v = values_[global];
  if (v.constructor == kNotKnownYet) {
    PickleRef c = ref(global);
    std::string_view module = python3_module(c.module());
    std::string_view name = c.name();
    if (module == "copyreg" && name == "_reconstructor") {
      v.constructor = kReconstructor;
    } else if (module == "copyreg" && (name == "__newobj__" || name == "__newobj_ex__")) {
      v.constructor = kNewObjFunction;
    } else if ((module == "collections" && (name == "OrderedDict" || name == "Counter")) || (module == "builtins" && name == "dict")) {
      v.constructor = kDictOfPairs;
    } else if (module == "builtins" && (name == "set" || name == "frozenset")) {
      v.constructor = kSetOfItems;
    } else if (module == "builtins" && name == "getattr") {
      v.constructor = kGetattr;
    } else if (module == "functools" && name == "partial") {
      v.constructor = kPartial;
    } else {
      v.constructor = kOtherCallable;
    }
  }
  return static_cast<Constructor>(v.constructor);
}

ValueId PickleMachine::call(ValueId callable, ValueId args, CallHow how) {
  PickleRef c = ref(callable);
  if (!c.is(Kind::kGlobal) || c.is_attribute()) {
    fail(ErrorCode::kUnsafePickle, "the pickle calls " + describe_callable(callable) +
                                       ": only known constructors may be called (torch.load would run it)");
  }
  Constructor constructor = constructor_of(callable);
  if (constructor == kGetattr && how == CallHow::kCall) return attribute(args);
  if (constructor == kPartial && how == CallHow::kCall) return partial(callable, args);
  PickleRef a = ref(args);
  if (constructor == kReconstructor || constructor == kNewObjFunction) {
    // _reconstructor(cls, object, None) and __newobj__(cls, *args) make a plain object of cls.
    PickleRef cls = a.item(0);
    if (constructor == kReconstructor) {
      PickleRef base = a.item(1);
      bool plain = base.is(Kind::kGlobal) && python3_module(base.module()) == "builtins" && base.name() == "object" &&
                   (a.size() < 3 || a.item(2).is(Kind::kNone));
      if (!plain) fail(ErrorCode::kUnsafePickle, "the pickle calls copyreg._reconstructor with a base other than object");
    }
    if (!cls) fail(ErrorCode::kCorrupt, "copyreg." + std::string(c.name()) + " without a class");
    return new_object(cls.id(), kNoValue);
  }
  if (!allowed(callable)) {
    if (how == CallHow::kNewObject) return new_object(callable, args);
    fail(ErrorCode::kUnsafePickle, "the pickle calls " + c.qualified_name() +
                                       ", which torch.load(weights_only=True) refuses and a full torch.load would run");
  }
  if (constructor == kDictOfPairs) {
    ValueId dict = make_container(Kind::kDict, nullptr, 0);
    // OrderedDict([(k, v), ...]) as protocols 0 and 1 write it: the pairs are copied once.
    PickleRef pairs = a.item(0);
    if (pairs.is(Kind::kList) || pairs.is(Kind::kTuple)) {
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        PickleRef pair = pairs.item(i);
        if ((pair.is(Kind::kTuple) || pair.is(Kind::kList)) && pair.size() == 2) {
          if (limits_.budget != nullptr) limits_.budget->charge(1);
          ValueId kv[2] = {pair.item(0).id(), pair.item(1).id()};
          append(dict, kv, 2);
        }
      }
    }
    return dict;
  }
  if (constructor == kSetOfItems) {
    ValueId set = make_container(Kind::kSet, nullptr, 0);
    PickleRef items = a.item(0);
    if (items.is(Kind::kList) || items.is(Kind::kTuple) || items.is(Kind::kSet)) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (limits_.budget != nullptr) limits_.budget->charge(1);
        ValueId item = items.item(i).id();
        append(set, &item, 1);
      }
    }
    return set;
  }
  return call_node(callable, args, how == CallHow::kNewObject);
}

// ---------------------------------------------------------------------------------------------
// Opcodes.

void PickleMachine::op_int_text(Cursor& in) {
  std::string_view text = in.line();
  if (text == "01" || text == "00") {
    push(text == "01" ? kImmediateTrue : kImmediateFalse);
    return;
  }
  std::optional<std::int64_t> v = parse_decimal(text, "INT");
  push(v ? make_int(*v) : make(Kind::kBigInt));
}

void PickleMachine::op_long_text(Cursor& in) {
  std::optional<std::int64_t> v = parse_decimal(in.line(), "LONG");
  push(v ? make_int(*v) : make(Kind::kBigInt));
}

// LONG1 / LONG4: little-endian two's complement of `length` bytes.
void PickleMachine::op_long_binary(Cursor& in, std::uint64_t length) {
  std::string_view raw = in.take(length);
  if (length > 8) {
    push(make(Kind::kBigInt));
    return;
  }
  std::uint64_t value = 0;
  for (std::size_t i = length; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(raw[i]);
  if (length > 0 && length < 8 && (static_cast<unsigned char>(raw[length - 1]) & 0x80)) value |= ~0ull << (8 * length);
  push(make_int(static_cast<std::int64_t>(value)));
}

void PickleMachine::op_float_text(Cursor& in) {
  std::string text(in.line());
  double real = std::strtod(text.c_str(), nullptr);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &real, sizeof(bits));
  push(make(Kind::kFloat, 0, bits));
}

CT_HOT_INLINE void PickleMachine::op_tuple(std::size_t count) {
  ValueId items[3];
  for (std::size_t i = count; i-- > 0;) items[i] = pop();
  push(make_container(Kind::kTuple, items, count));
}

// TUPLE, LIST, DICT, FROZENSET: the items since MARK as one container.
void PickleMachine::op_container_from_mark(Kind kind) {
  std::size_t start = pop_mark();
  std::size_t count = stack_.size() - start;
  if (kind == Kind::kDict && count % 2 != 0) fail(ErrorCode::kCorrupt, "pickle DICT has an odd number of values");
  ValueId container = make_container(kind, stack_.data() + start, count);
  stack_.shrink_to(start);
  push(container);
}

ValueId PickleMachine::below_mark(std::size_t start) const {
  std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (start <= floor) fail(ErrorCode::kCorrupt, "pickle adds items with nothing to add them to");
  return stack_[start - 1];
}

// APPEND / APPENDS / ADDITEMS / SETITEM / SETITEMS: `count` ids at `items` into `target`.
void PickleMachine::add_items(ValueId target, const ValueId* items, std::size_t count, bool pairs) {
  if (limits_.budget != nullptr) limits_.budget->charge(count);
  Kind kind = kind_of(target);
  if (kind == Kind::kCall) {
    target = call_container(target, pairs ? Kind::kDict : Kind::kList);
  } else if (pairs ? kind != Kind::kDict : (kind != Kind::kList && kind != Kind::kSet)) {
    fail(ErrorCode::kCorrupt, pairs ? "pickle sets items on a value that is not a dict" : "pickle appends to a value that is not a list");
  }
  if (pairs && count % 2 != 0) fail(ErrorCode::kCorrupt, "pickle SETITEMS has an odd number of values");
  append(target, items, count);
}

void PickleMachine::op_add_from_mark(bool pairs) {
  std::size_t start = pop_mark();
  ValueId target = below_mark(start);
  add_items(target, stack_.data() + start, stack_.size() - start, pairs);
  stack_.shrink_to(start);
}

void PickleMachine::op_stack_global() {
  ValueId name = pop();
  ValueId module = pop();
  if (kind_of(module) != Kind::kString || kind_of(name) != Kind::kString) fail(ErrorCode::kCorrupt, "STACK_GLOBAL needs two strings");
  if (at(module).a > 1024 || at(name).a > 1024) fail(ErrorCode::kCorrupt, "pickle GLOBAL name too long");
  push(named_global(module, name));
}

void PickleMachine::op_reduce() {
  ValueId args = pop();
  ValueId callable = pop();
  if (kind_of(args) != Kind::kTuple) fail(ErrorCode::kCorrupt, "REDUCE arguments are not a tuple");
  push(call(callable, args, CallHow::kCall));
}

// NEWOBJ: cls.__new__(cls, *args); NEWOBJ_EX adds keyword arguments (kept as the object's state
// until BUILD replaces it).
void PickleMachine::op_newobj(bool with_kwargs) {
  ValueId kwargs = with_kwargs ? pop() : kNoValue;
  ValueId args = pop();
  ValueId cls = pop();
  if (kind_of(args) != Kind::kTuple) fail(ErrorCode::kCorrupt, "NEWOBJ arguments are not a tuple");
  ValueId node = call(cls, args, CallHow::kNewObject);
  if (with_kwargs && kind_of(node) == Kind::kCall) calls_[at(node).a].state = kwargs;
  push(node);
}

// INST module\nname\n: cls(*items since MARK), which runs cls.__init__: a call.
void PickleMachine::op_inst(Cursor& in) {
  std::string_view module = in.line();
  std::string_view name = in.line();
  std::size_t start = pop_mark();
  ValueId args = make_container(Kind::kTuple, stack_.data() + start, stack_.size() - start);
  stack_.shrink_to(start);
  push(call(make_global(module, name), args, CallHow::kCall));
}

// OBJ: items since MARK are cls, *args: cls(*args), a call.
void PickleMachine::op_obj() {
  std::size_t start = pop_mark();
  if (stack_.size() == start) fail(ErrorCode::kCorrupt, "OBJ without a class");
  ValueId cls = stack_[start];
  ValueId args = make_container(Kind::kTuple, stack_.data() + start + 1, stack_.size() - start - 1);
  stack_.shrink_to(start);
  push(call(cls, args, CallHow::kCall));
}

// BUILD: obj.__setstate__(state) or obj.__dict__.update(state), recorded, not run. Setting state
// on a global (a class or function) would change it for everything that uses it.
void PickleMachine::op_build() {
  ValueId state = pop();
  ValueId target = top();
  Kind kind = kind_of(target);
  if (kind == Kind::kCall) {
    calls_[at(target).a].state = state;
  } else if (kind == Kind::kGlobal) {
    fail(ErrorCode::kUnsafePickle, "the pickle sets the state of " + ref(target).qualified_name() + " (BUILD on a global)");
  } else if (kind != Kind::kDict) {
    fail(ErrorCode::kCorrupt, "pickle BUILD on a value that has no state");
  }
}

void PickleMachine::op_persistent_id(ValueId payload) {
  if (dialect_ == PickleDialect::kTorchLegacy) {
    // ('module', <class>, <source file>, <source>): the legacy stream's way of writing a module's
    // class, which torch.load reads back as the class itself.
    PickleRef p = ref(payload);
    std::optional<std::string_view> tag = p.item(0).string();
    if (p.is(Kind::kTuple) && tag && *tag == "module" && p.item(1).is(Kind::kGlobal)) {
      push(p.item(1).id());
      return;
    }
  }
  ValueId id = make(Kind::kPersistentId, payload);
  persistent_ids_.push_back(id);
  push(id);
}

// ---------------------------------------------------------------------------------------------
// The loop.

PickleRef PickleMachine::load(std::string_view data, std::size_t offset, std::size_t* end) {
  if (data.size() - offset > limits_.max_string * 4ull) fail(ErrorCode::kLimitExceeded, "pickle too large");
  if (input_.data() != nullptr && input_.data() != data.data()) {
    fail(ErrorCode::kCorrupt, "one pickle machine reads one buffer");  // a caller's mistake, not the file's
  }
  input_ = data;
  stack_.clear();
  marks_.clear();
  stack_floor_ = 0;
  memo_.clear();
  sparse_memo_.clear();
  memo_count_ = 0;
  // The opcodes a torch state dict is made of run inline here, reading the bytes directly; the
  // others go through step() with a cursor.
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t size = data.size();
  std::size_t pos = offset;
  auto argument_byte = [&]() -> unsigned char {
    if (pos >= size) truncated_opcode();
    return bytes[pos++];
  };
  auto argument_u32 = [&]() -> std::uint32_t {
    if (size - pos < 4) truncated_opcode();
    std::uint32_t n = std::uint32_t{bytes[pos]} | std::uint32_t{bytes[pos + 1]} << 8 | std::uint32_t{bytes[pos + 2]} << 16 |
                      std::uint32_t{bytes[pos + 3]} << 24;
    pos += 4;
    return n;
  };
  std::uint64_t uncharged = 0;  // opcodes are charged to the budget 1,024 at a time
  for (;;) {
    if (++uncharged == 1024) {
      if (limits_.budget != nullptr) limits_.budget->charge(uncharged);
      uncharged = 0;
    }
    if (pos >= size) truncated_opcode();
    unsigned char opcode = bytes[pos++];
    switch (opcode) {
      case op::kBinPut: memo_put(argument_byte()); continue;
      case op::kBinGet: memo_get(argument_byte()); continue;
      case op::kLongBinPut: memo_put(argument_u32()); continue;
      case op::kLongBinGet: memo_get(argument_u32()); continue;
      case op::kBinInt1: push(kImmediateInt + argument_byte()); continue;
      case op::kMark: mark(); continue;
      case op::kNewFalse: push(kImmediateFalse); continue;
      case op::kNewTrue: push(kImmediateTrue); continue;
      case op::kNone: push(kImmediateNone); continue;
      case op::kTuple: op_container_from_mark(Kind::kTuple); continue;
      case op::kTuple1: op_tuple(1); continue;
      case op::kTuple2: op_tuple(2); continue;
      case op::kTuple3: op_tuple(3); continue;
      case op::kReduce: op_reduce(); continue;
      case op::kBinPersId: op_persistent_id(pop()); continue;
      case op::kEmptyTuple:
        if (empty_tuple_ == kNoValue) empty_tuple_ = make_container(Kind::kTuple, nullptr, 0);
        push(empty_tuple_);
        continue;
      case op::kBinUnicode: {
        std::size_t n = argument_u32();
        if (n > size - pos) truncated_opcode();
        push(make_string(Kind::kString, std::string_view(data.data() + pos, n)));
        pos += n;
        continue;
      }
      case op::kShortBinUnicode: {
        std::size_t n = argument_byte();
        if (n > size - pos) truncated_opcode();
        push(make_string(Kind::kString, std::string_view(data.data() + pos, n)));
        pos += n;
        continue;
      }
      case op::kStop: {
        if (limits_.budget != nullptr) limits_.budget->charge(uncharged);
        ValueId result = pop();
        note_globals_needed();
        if (end != nullptr) *end = pos;
        // The memo and stack are done with: their memory goes back before callers walk the values.
        memo_.release();
        sparse_memo_ = {};
        stack_.release();
        marks_ = {};
        return ref(result);
      }
      default: break;
    }
    Cursor in(data, pos);
    step(opcode, in);
    pos = in.pos();
  }
}

void PickleMachine::step(unsigned char opcode, Cursor& in) {
  switch (opcode) {
    case op::kProto: {
      int protocol = in.byte();
      if (protocol > 5) fail(ErrorCode::kUnsupportedFormat, "pickle protocol " + std::to_string(protocol) + " is newer than 5");
      break;
    }
    case op::kFrame: in.uint(8); break;  // framing is advisory: the opcodes follow inline
    case op::kMark: mark(); break;
    case op::kPop:
      if (!marks_.empty() && stack_.size() == marks_.back()) {
        pop_mark();  // POP of a bare MARK, as pickle does
      } else {
        pop();
      }
      break;
    case op::kPopMark: stack_.shrink_to(pop_mark()); break;
    case op::kDup: push(top()); break;

    case op::kNone: push(kImmediateNone); break;
    case op::kNewTrue: push(kImmediateTrue); break;
    case op::kNewFalse: push(kImmediateFalse); break;
    case op::kInt: op_int_text(in); break;
    case op::kBinInt: push(make_int(static_cast<std::int32_t>(in.uint(4)))); break;
    case op::kBinInt1: push(make_int(static_cast<std::int64_t>(in.uint(1)))); break;
    case op::kBinInt2: push(make_int(static_cast<std::int64_t>(in.uint(2)))); break;
    case op::kLong: op_long_text(in); break;
    case op::kLong1: op_long_binary(in, in.uint(1)); break;
    case op::kLong4: op_long_binary(in, in.uint(4)); break;
    case op::kFloat: op_float_text(in); break;
    case op::kBinFloat: {  // big-endian double
      std::string_view raw = in.take(8);
      std::uint64_t bits = 0;
      for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);
      push(make(Kind::kFloat, 0, bits));
      break;
    }

    case op::kString: push(make_owned_string(Kind::kString, decode_string_repr(in.line()))); break;
    case op::kUnicode: push(make_owned_string(Kind::kString, decode_raw_unicode_escape(in.line()))); break;
    case op::kBinString:
    case op::kBinUnicode: push(make_string(Kind::kString, in.take(in.uint(4)))); break;
    case op::kShortBinString:
    case op::kShortBinUnicode: push(make_string(Kind::kString, in.take(in.uint(1)))); break;
    case op::kBinUnicode8: push(make_string(Kind::kString, in.take(in.uint(8)))); break;
    case op::kBinBytes: push(make_string(Kind::kBytes, in.take(in.uint(4)))); break;
    case op::kShortBinBytes: push(make_string(Kind::kBytes, in.take(in.uint(1)))); break;
    case op::kBinBytes8:
    case op::kByteArray8: push(make_string(Kind::kBytes, in.take(in.uint(8)))); break;
    case op::kNextBuffer: push(make_string(Kind::kBytes, std::string_view(input_.data(), 0))); break;  // out-of-band: absent
    case op::kReadonlyBuffer: break;  // no effect on the value

    case op::kEmptyTuple:  // immutable: one value serves every empty tuple
      if (empty_tuple_ == kNoValue) empty_tuple_ = make_container(Kind::kTuple, nullptr, 0);
      push(empty_tuple_);
      break;
    case op::kTuple: op_container_from_mark(Kind::kTuple); break;
    case op::kTuple1: op_tuple(1); break;
    case op::kTuple2: op_tuple(2); break;
    case op::kTuple3: op_tuple(3); break;
    case op::kEmptyList: push(make_container(Kind::kList, nullptr, 0)); break;
    case op::kList: op_container_from_mark(Kind::kList); break;
    case op::kAppend: {
      ValueId item = pop();
      add_items(top(), &item, 1, false);
      break;
    }
    case op::kAppends:
    case op::kAddItems: op_add_from_mark(false); break;
    case op::kEmptyDict: push(make_container(Kind::kDict, nullptr, 0)); break;
    case op::kDict: op_container_from_mark(Kind::kDict); break;
    case op::kSetItem: {
      ValueId kv[2];
      kv[1] = pop();
      kv[0] = pop();
      add_items(top(), kv, 2, true);
      break;
    }
    case op::kSetItems: op_add_from_mark(true); break;
    case op::kEmptySet: push(make_container(Kind::kSet, nullptr, 0)); break;
    case op::kFrozenSet: op_container_from_mark(Kind::kSet); break;

    case op::kPut: memo_put(static_cast<std::uint64_t>(parse_index(in.line(), "PUT"))); break;
    case op::kBinPut: memo_put(in.uint(1)); break;
    case op::kLongBinPut: memo_put(in.uint(4)); break;
    case op::kMemoize: memo_put(memo_count_); break;
    case op::kGet: memo_get(static_cast<std::uint64_t>(parse_index(in.line(), "GET"))); break;
    case op::kBinGet: memo_get(in.uint(1)); break;
    case op::kLongBinGet: memo_get(in.uint(4)); break;

    case op::kGlobal: {
      std::string_view module = in.line();
      std::string_view name = in.line();
      push(make_global(module, name));
      break;
    }
    case op::kStackGlobal: op_stack_global(); break;
    case op::kExt1:
    case op::kExt2:
    case op::kExt4: {  // the copyreg extension registry, unknown here: an inert named global
      std::uint64_t code = in.uint(opcode == op::kExt1 ? 1 : opcode == op::kExt2 ? 2 : 4);
      std::string name = std::to_string(code);
      ValueId m = make_owned_string(Kind::kString, "<extension>");
      ValueId n = make_owned_string(Kind::kString, name);
      push(named_global(m, n));
      break;
    }
    case op::kReduce: op_reduce(); break;
    case op::kNewObj: op_newobj(false); break;
    case op::kNewObjEx: op_newobj(true); break;
    case op::kInst: op_inst(in); break;
    case op::kObj: op_obj(); break;
    case op::kBuild: op_build(); break;
    case op::kPersId: op_persistent_id(make_string(Kind::kString, in.line())); break;
    case op::kBinPersId: op_persistent_id(pop()); break;
    default: {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", opcode);
      fail(ErrorCode::kCorrupt, std::string("unknown pickle opcode ") + hex + " at offset " + std::to_string(in.pos() - 1));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PickleRef.

namespace {
const std::string_view kEmpty;
}

double PickleRef::real() const {
  if (!is(Kind::kFloat)) return 0;
  double out = 0;
  std::uint64_t bits = machine_->at(id_).b;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

std::string_view PickleRef::text() const {
  if (!is(Kind::kString) && !is(Kind::kBytes)) return kEmpty;
  return machine_->text_of(machine_->at(id_));
}

std::string_view PickleRef::module() const {
  return is(Kind::kGlobal) ? machine_->ref(machine_->at(id_).a).text() : kEmpty;
}

std::string_view PickleRef::name() const {
  return is(Kind::kGlobal) ? machine_->ref(static_cast<ValueId>(machine_->at(id_).b)).text() : kEmpty;
}

bool PickleRef::is_global(std::string_view m, std::string_view n) const {
  return is(Kind::kGlobal) && module() == m && name() == n && !is_attribute();
}

bool PickleRef::is_attribute() const {
  return is(Kind::kGlobal) && (machine_->at(id_).flags & kAttribute) != 0;
}

std::string PickleRef::qualified_name() const {
  return std::string(module()) + "." + std::string(name());
}

PickleRef PickleRef::get(std::string_view wanted) const {
  PickleRef dict = as_dict();
  for (std::size_t i = 0, n = dict.size(); i < n; ++i) {
    std::optional<std::string_view> k = dict.key(i).string();
    if (k && *k == wanted) return dict.value(i);
  }
  return {};
}

PickleRef PickleRef::callable() const {
  return is(Kind::kCall) ? PickleRef(machine_, machine_->calls_[machine_->at(id_).a].callable) : PickleRef();
}
PickleRef PickleRef::args() const {
  return is(Kind::kCall) ? PickleRef(machine_, machine_->calls_[machine_->at(id_).a].args) : PickleRef();
}
PickleRef PickleRef::state() const {
  return is(Kind::kCall) ? PickleRef(machine_, machine_->calls_[machine_->at(id_).a].state) : PickleRef();
}
PickleRef PickleRef::call_entries() const {
  return is(Kind::kCall) ? PickleRef(machine_, machine_->calls_[machine_->at(id_).a].entries) : PickleRef();
}
PickleRef PickleRef::call_target() const {
  PickleRef c = callable();
  return c.is(Kind::kGlobal) ? c : PickleRef();
}
PickleRef PickleRef::pid() const {
  return is(Kind::kPersistentId) ? PickleRef(machine_, machine_->at(id_).a) : PickleRef();
}
PickleRef PickleRef::as_dict() const {
  if (is(Kind::kDict)) return *this;
  return call_entries();
}

}  // namespace ct
