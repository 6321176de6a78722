// A symbolic pickle machine. It runs every opcode of protocols 0 to 5 but executes nothing:
// GLOBAL names are inert values, REDUCE / NEWOBJ / INST / OBJ build inert call nodes, BUILD
// records state. A few constructors are understood (OrderedDict, dict, set, frozenset, copyreg's
// object reconstructors) so the result looks like the data that was pickled. Callers interpret the
// value graph through PickleRef (native/checkpoint/ knows torch's rebuild functions).
//
// Safety is an allow list (call_policy.h, as torch.load(weights_only=True) has it, widened by the
// file's PickleDialect): a call of any other callable, through any opcode, throws UNSAFE_PICKLE
// naming it. Instances of other classes made the way pickle makes plain objects (NEWOBJ + BUILD,
// as torch.save(model) writes modules) are kept and their classes listed in classes_needed().
// getattr(<class>, "<name>"), as Python 3.11's first releases pickle enum members, becomes an
// inert attribute value that nothing may call; functools.partial(<global>, ...), as torchvision's
// VisionTransformer keeps its norm_layer, an inert object (calling it is calling a call's result).
//
// Memory: every value is a 16-byte record in one flat array (None, booleans and small ints are
// immediate: no record); strings are views into the input (only STRING / UNICODE escapes are
// decoded into a side buffer); containers are spans of 4-byte value ids in one arena; the memo is
// an array indexed as pickle numbers it (0, 1, 2, ...), with a hash map for the far-off indices
// only a hostile file names; call nodes share their argument tuple. An opcode (a byte at least)
// adds at most a record and a few slots, so no pickle costs more than a few tens of bytes per
// input byte, and an ordinary one about 2 (a 100,000-tensor state dict: 0.9 M values, 1.7 M slots
// for 11.6 MB); the one copy a pickle can ask for (OrderedDict(pairs), set(items) of protocols 0
// and 1) is charged and capped like the rest by PickleLimits. Cycles are representable (a list
// may contain itself): walkers must guard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../common/reserved_array.h"
#include "../common/text_hash.h"
#include "../common/work_budget.h"
#include "call_policy.h"

namespace ct {

using ValueId = std::uint32_t;
constexpr ValueId kNoValue = 0xFFFFFFFFu;
// None, booleans and small non-negative ints (most of a torch pickle: offsets, sizes, strides,
// requires_grad) are immediate: encoded in the id itself, with no record.
constexpr ValueId kImmediateInt = 0xE0000000u;  // + n for 0 <= n < 2^28
constexpr ValueId kImmediateNone = 0xF0000000u;
constexpr ValueId kImmediateFalse = 0xF0000001u;
constexpr ValueId kImmediateTrue = 0xF0000002u;

enum class PickleKind : std::uint8_t {
  kNone,
  kBool,
  kInt,      // fits int64
  kBigInt,   // larger than int64: the value is not kept
  kFloat,
  kString,   // str
  kBytes,    // bytes / bytearray / buffers
  kTuple,
  kList,
  kDict,
  kSet,
  kGlobal,   // module + name, never resolved
  kCall,     // callable(*args) or an object of a class, not run: REDUCE, NEWOBJ, INST, OBJ
  kPersistentId,
};

class PickleMachine;
class PickleRef;

// The items of a tuple or list, read straight from the machine's slots (empty for other values).
class PickleItems {
 public:
  PickleItems() = default;
  PickleItems(const PickleMachine* machine, const ValueId* ids, std::size_t size) : machine_(machine), ids_(ids), size_(size) {}
  std::size_t size() const { return size_; }
  PickleRef operator[](std::size_t i) const;  // null past the end
  std::optional<std::int64_t> int_at(std::size_t i) const;  // an int item (not a bool)

 private:
  const PickleMachine* machine_ = nullptr;
  const ValueId* ids_ = nullptr;
  std::size_t size_ = 0;
};

// A value of a machine: a machine pointer and an index, cheap to copy, valid while the machine
// lives. A null ref (no value) answers every question with "nothing".
class PickleRef {
 public:
  PickleRef() = default;
  PickleRef(const PickleMachine* machine, ValueId id) : machine_(machine), id_(id) {}

  explicit operator bool() const { return machine_ != nullptr && id_ != kNoValue; }
  ValueId id() const { return id_; }
  PickleKind kind() const;
  bool is(PickleKind kind) const { return *this && this->kind() == kind; }

  std::optional<std::int64_t> as_int() const;  // int, or bool as 0/1
  std::optional<bool> as_bool() const;         // bool, or int as != 0
  double real() const;
  std::string_view text() const;               // kString / kBytes
  std::optional<std::string_view> string() const;  // the text when this is a kString

  // kGlobal
  std::string_view module() const;
  std::string_view name() const;
  bool is_global(std::string_view module, std::string_view name) const;
  std::string qualified_name() const;          // "module.name"
  // A kGlobal made by getattr(<class>, "<name>"): module() is the class's qualified name.
  bool is_attribute() const;

  // kTuple / kList / kSet: items; kDict: key(i) / value(i) for i < size().
  std::size_t size() const;
  PickleRef item(std::size_t i) const;
  PickleRef key(std::size_t i) const;
  PickleRef value(std::size_t i) const;
  PickleRef get(std::string_view key) const;   // dict lookup by string key (linear)
  PickleItems sequence() const;                // kTuple / kList: the items
  PickleItems dict_slots() const;              // kDict: key 0, value 0, key 1, value 1, ...

  // kCall
  PickleRef callable() const;
  PickleRef args() const;                      // the argument tuple (shared, never copied)
  PickleRef arg(std::size_t i) const { return args().item(i); }
  PickleRef state() const;                     // BUILD state (also of dicts)
  PickleRef call_target() const;               // the callable when it is a global, else null
  PickleRef call_entries() const;              // dict items set on an object (dict subclasses)

  // kPersistentId
  PickleRef pid() const;

  // A dict, or the entries of an object that received dict items (OrderedDict subclasses).
  PickleRef as_dict() const;

  bool operator==(const PickleRef& other) const { return id_ == other.id_ && machine_ == other.machine_; }
  bool operator!=(const PickleRef& other) const { return !(*this == other); }

 private:
  const PickleMachine* machine_ = nullptr;
  ValueId id_ = kNoValue;
};

struct PickleLimits {
  // With the memo, the machine's worst case stays near 256 MiB, so with data.pkl itself (at most
  // 256 MiB, and then with few values) an inspection stays under 512 MiB on any input. A
  // 100,000-tensor state dict uses 0.9 M values and 1.7 M slots.
  std::size_t max_values = 8'000'000;    // 16-byte records: 128 MiB
  std::size_t max_ids = 16'000'000;      // 4-byte container slots: 64 MiB
  std::size_t max_stack = 1'000'000;
  std::size_t max_marks = 100'000;
  std::size_t max_memo = 8'000'000;
  std::size_t max_string = 256u << 20;
  std::size_t max_classes_needed = 4096;  // distinct globals outside the allow list (a module: ~100)
  WorkBudget* budget = nullptr;          // charged one unit per opcode (null: unlimited)
};

class PickleMachine {
 public:
  explicit PickleMachine(PickleLimits limits = {}, PickleDialect dialect = PickleDialect::kTorchSave)
      : limits_(limits), dialect_(dialect), values_(limits.max_values), ids_(limits.max_ids), calls_(limits.max_values),
        stack_(limits.max_stack), memo_(limits.max_memo) {}

  // Runs one pickle starting at `offset` of `data` and returns its value. `end` receives the
  // offset just past STOP (pickles may be concatenated, as in PyTorch's legacy format). Strings
  // are views into `data`: it must outlive the values, and every load of one machine must read
  // the same buffer.
  PickleRef load(std::string_view data, std::size_t offset = 0, std::size_t* end = nullptr);

  PickleRef ref(ValueId id) const { return PickleRef(this, id); }

  // The globals outside torch.load(weights_only=True)'s allow list the pickle names ("module.name",
  // in first-seen order): classes it instantiates as plain objects, functions a module keeps as
  // attributes, getattr and the class it reads. torch.load(weights_only=True) refuses the file
  // until they are allowed.
  const std::vector<std::string>& classes_needed() const { return classes_needed_; }

  // Every persistent id made, in order (the legacy reader checks every storage they name).
  const std::vector<ValueId>& persistent_ids() const { return persistent_ids_; }

 private:
  friend class PickleRef;
  friend class PickleItems;
  class Cursor;

  struct Value {
    PickleKind kind;
    std::uint8_t flags;    // kOwnedText: the string lives in owned_text_, not the input
    std::uint16_t constructor;  // globals: what calling it makes (a Constructor, cached)
    std::uint32_t a;       // string: length; container: item slots; call: record index; global: module id; pid: payload
    std::uint64_t b;       // int / float bits / bool; string: offset; container: start | capacity << 32; global: name id
  };
  struct CallRecord {
    ValueId callable;
    ValueId args;
    ValueId state;
    ValueId items;    // a kList made when items are appended to an object (list subclasses; not read)
    ValueId entries;  // a kDict made when items are set on an object (dict subclasses)
  };

  // Values and containers.
  ValueId make(PickleKind kind, std::uint32_t a = 0, std::uint64_t b = 0);
  ValueId make_string(PickleKind kind, std::string_view bytes);
  ValueId make_owned_string(PickleKind kind, const std::string& bytes);
  ValueId make_int(std::int64_t value) {
    if (value >= 0 && value < (std::int64_t{1} << 28)) return kImmediateInt + static_cast<ValueId>(value);
    return make(PickleKind::kInt, 0, static_cast<std::uint64_t>(value));
  }
  PickleKind kind_of(ValueId id) const {
    if (id < kImmediateInt) return values_[id].kind;
    if (id < kImmediateNone) return PickleKind::kInt;
    return id == kImmediateNone ? PickleKind::kNone : PickleKind::kBool;
  }
  ValueId make_container(PickleKind kind, const ValueId* items, std::size_t count);
  ValueId make_global(std::string_view module, std::string_view name);
  ValueId named_global(ValueId module, ValueId name);  // a kGlobal the pickle names (not getattr's)
  void append(ValueId container, const ValueId* items, std::size_t count);
  ValueId call_container(ValueId call, PickleKind kind);  // lazily made list/dict of an object

  // The stack.
  void push(ValueId v);
  ValueId pop();
  ValueId top() const;
  void mark();
  std::size_t pop_mark();  // returns where the marked items start on the stack; caller truncates

  // Memo.
  void memo_put(std::uint64_t index);
  void memo_get(std::uint64_t index);

  // Opcode groups.
  void step(unsigned char op, Cursor& in);
  void op_int_text(Cursor& in);
  void op_long_text(Cursor& in);
  void op_long_binary(Cursor& in, std::uint64_t length);
  void op_float_text(Cursor& in);
  void op_tuple(std::size_t count);
  void op_container_from_mark(PickleKind kind);
  void op_add_from_mark(bool pairs);
  ValueId below_mark(std::size_t start) const;
  void add_items(ValueId target, const ValueId* items, std::size_t count, bool pairs);
  void op_stack_global();
  void op_reduce();
  void op_newobj(bool with_kwargs);
  void op_inst(Cursor& in);
  void op_obj();
  void op_build();
  void op_persistent_id(ValueId payload);

  // Calls, through the allow list.
  enum class CallHow { kCall, kNewObject };
  // What a global makes when called, decided once per global value (a pickle memoises each).
  enum Constructor : std::uint16_t {
    kNotKnownYet, kReconstructor, kNewObjFunction, kDictOfPairs, kSetOfItems, kGetattr, kPartial, kOtherCallable
  };
  Constructor constructor_of(ValueId global);
  ValueId call(ValueId callable, ValueId args, CallHow how);
  ValueId call_node(ValueId callable, ValueId args, bool object);
  ValueId new_object(ValueId cls, ValueId args);
  ValueId attribute(ValueId args);  // getattr(cls, "name")
  ValueId partial(ValueId callable, ValueId args);  // functools.partial(func, ...)
  void note_globals_needed();  // classes_needed_ from the globals named since the last call
  bool allowed(ValueId global);  // the allow list's answer for a kGlobal, cached on the value

  const Value& at(ValueId id) const { return values_[id]; }
  std::string_view text_of(const Value& v) const {
    const char* base = (v.flags & 1) ? owned_text_.data() : input_.data();
    return std::string_view(base + v.b, v.a);
  }
  std::string describe_callable(ValueId callable) const;

  PickleLimits limits_;
  PickleDialect dialect_;
  std::string_view input_;
  // Each in address space reserved for its limit: they grow without moving (see reserved_array.h).
  ReservedArray<Value> values_;
  ReservedArray<ValueId> ids_;          // container slots
  ReservedArray<CallRecord> calls_;
  std::string owned_text_;            // decoded STRING / UNICODE arguments
  ReservedArray<ValueId> stack_;
  std::vector<std::size_t> marks_;
  std::size_t stack_floor_ = 0;       // marks_.back(), or 0: pops may not go below it
  ReservedArray<ValueId> memo_;       // dense memo (indices as pickle writes them: 0, 1, 2, ...)
  std::unordered_map<std::uint64_t, ValueId, IntegerHash> sparse_memo_;  // far-off indices a hostile file names
  std::size_t memo_count_ = 0;
  std::vector<std::string> classes_needed_;
  std::unordered_set<std::string> needed_;  // classes_needed_, to add each once
  std::vector<ValueId> globals_;            // every global named, in order
  std::size_t globals_noted_ = 0;
  std::vector<ValueId> persistent_ids_;
  ValueId empty_tuple_ = kNoValue;
};

// The accessors walks call most, inline.
inline PickleKind PickleRef::kind() const { return machine_->kind_of(id_); }

inline std::optional<std::int64_t> PickleRef::as_int() const {
  if (!*this) return std::nullopt;
  if (id_ >= kImmediateInt) {
    if (id_ < kImmediateNone) return static_cast<std::int64_t>(id_ - kImmediateInt);
    if (id_ == kImmediateNone) return std::nullopt;
    return id_ == kImmediateTrue ? 1 : 0;
  }
  const auto& v = machine_->values_[id_];
  if (v.kind == PickleKind::kInt || v.kind == PickleKind::kBool) return static_cast<std::int64_t>(v.b);
  return std::nullopt;
}

inline PickleItems PickleRef::sequence() const {
  if (!*this || id_ >= kImmediateInt) return {};
  const auto& v = machine_->values_[id_];
  if (v.kind != PickleKind::kTuple && v.kind != PickleKind::kList) return {};
  return PickleItems(machine_, machine_->ids_.data() + (v.b & 0xFFFFFFFFu), v.a);
}

inline PickleItems PickleRef::dict_slots() const {
  if (!is(PickleKind::kDict)) return {};
  const auto& v = machine_->values_[id_];
  return PickleItems(machine_, machine_->ids_.data() + (v.b & 0xFFFFFFFFu), v.a);
}

inline PickleRef PickleItems::operator[](std::size_t i) const {
  return i < size_ ? PickleRef(machine_, ids_[i]) : PickleRef();
}

inline std::optional<std::int64_t> PickleItems::int_at(std::size_t i) const {
  if (i >= size_) return std::nullopt;
  ValueId id = ids_[i];
  if (id >= kImmediateInt) {
    if (id < kImmediateNone) return static_cast<std::int64_t>(id - kImmediateInt);
    return std::nullopt;
  }
  const auto& v = machine_->values_[id];
  if (v.kind == PickleKind::kInt) return static_cast<std::int64_t>(v.b);
  return std::nullopt;
}

inline std::optional<bool> PickleRef::as_bool() const {
  std::optional<std::int64_t> v = as_int();
  if (!v) return std::nullopt;
  return *v != 0;
}

inline std::optional<std::string_view> PickleRef::string() const {
  if (!is(PickleKind::kString)) return std::nullopt;
  return machine_->text_of(machine_->values_[id_]);
}

inline std::size_t PickleRef::size() const {
  if (!*this || id_ >= kImmediateInt) return 0;
  const auto& v = machine_->values_[id_];
  switch (v.kind) {
    case PickleKind::kTuple:
    case PickleKind::kList:
    case PickleKind::kSet: return v.a;
    case PickleKind::kDict: return v.a / 2;
    default: return 0;
  }
}

inline PickleRef PickleRef::item(std::size_t i) const {
  if (i >= size() || is(PickleKind::kDict)) return {};
  return PickleRef(machine_, machine_->ids_[(machine_->values_[id_].b & 0xFFFFFFFFu) + i]);
}

inline PickleRef PickleRef::key(std::size_t i) const {
  if (!is(PickleKind::kDict) || i >= size()) return {};
  return PickleRef(machine_, machine_->ids_[(machine_->values_[id_].b & 0xFFFFFFFFu) + 2 * i]);
}

inline PickleRef PickleRef::value(std::size_t i) const {
  if (!is(PickleKind::kDict) || i >= size()) return {};
  return PickleRef(machine_, machine_->ids_[(machine_->values_[id_].b & 0xFFFFFFFFu) + 2 * i + 1]);
}

}  // namespace ct
