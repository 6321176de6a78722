// A symbolic pickle machine. It runs every opcode of protocols 0 to 5 but executes nothing:
// GLOBAL names are inert values, REDUCE / NEWOBJ / INST / OBJ build inert call nodes, BUILD
// records state. A few constructors are understood (OrderedDict and dict, set, frozenset,
// copyreg reconstructors) so the result looks like the data that was pickled. Callers interpret
// the value graph (torch_checkpoint.cpp knows torch's rebuild functions).
//
// Limits bound memory and time on any input: the size of the pickle, the number of values, the
// memo, the stack and the mark stack. Integer parsing is checked. Hostile input throws
// CheckpointError; it never crashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ct {

struct PickleValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,         // fits int64 (big_int marks larger values, kept as their byte length only)
    kFloat,
    kString,      // str
    kBytes,       // bytes / bytearray / buffers
    kTuple,
    kList,
    kDict,
    kSet,
    kGlobal,      // module + name, never resolved
    kCall,        // callable(*args) that was not interpreted: REDUCE, NEWOBJ, INST, OBJ
    kPersistentId,
  };

  Kind kind = Kind::kNone;
  bool boolean = false;
  std::int64_t integer = 0;
  bool big_int = false;
  double real = 0;
  std::string text;    // kString / kBytes content; kGlobal module
  std::string name;    // kGlobal name
  std::vector<PickleValue*> items;                              // tuple, list, set, call args
  std::vector<std::pair<PickleValue*, PickleValue*>> entries;  // dict (and dict-like calls)
  PickleValue* callable = nullptr;  // kCall: what would have been called (usually a kGlobal)
  PickleValue* state = nullptr;     // BUILD state (kCall objects, dicts)
  PickleValue* pid = nullptr;       // kPersistentId payload

  bool is_global(std::string_view module, std::string_view global_name) const {
    return kind == Kind::kGlobal && text == module && name == global_name;
  }
  // The callable's global, when this is a call of a global.
  const PickleValue* call_target() const {
    return kind == Kind::kCall && callable != nullptr && callable->kind == Kind::kGlobal ? callable : nullptr;
  }
  // Dict lookup by string key (linear: pickled dicts are small, and order matters).
  PickleValue* get(std::string_view key) const;
};

struct PickleLimits {
  std::size_t max_values = 20'000'000;
  std::size_t max_stack = 1'000'000;
  std::size_t max_marks = 100'000;
  std::size_t max_memo = 10'000'000;
  std::size_t max_string = 256u << 20;
};

class PickleMachine {
 public:
  explicit PickleMachine(PickleLimits limits = {}) : limits_(limits) {}

  // Runs one pickle starting at `offset` of `data` and returns its value. `end` receives the
  // offset just past STOP (pickles may be concatenated, as in PyTorch's legacy format).
  // Values stay owned by the machine and live until it is destroyed.
  PickleValue* load(std::string_view data, std::size_t offset = 0, std::size_t* end = nullptr);

  int protocol() const { return protocol_; }
  std::size_t value_count() const { return values_.size(); }

 private:
  PickleValue* make(PickleValue::Kind kind);
  PickleValue* call(PickleValue* callable, PickleValue* args);
  void check_callable(const PickleValue* callable) const;

  PickleLimits limits_;
  std::deque<PickleValue> values_;  // stable addresses; freed with the machine
  int protocol_ = 0;
};

}  // namespace ct
