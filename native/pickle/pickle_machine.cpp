#include "pickle_machine.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "../common/checkpoint_error.h"
#include "../common/utf8.h"

namespace ct {

using Kind = PickleValue::Kind;

PickleValue* PickleValue::get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k != nullptr && k->kind == Kind::kString && k->text == key) return v;
  }
  return nullptr;
}

namespace {

// Globals that, if the pickle were ever loaded, would run commands, open files, import code or
// reach arbitrary attributes. Calling one of them marks the file as hostile.
bool is_dangerous(const std::string& module, const std::string& name) {
  static const char* const kModules[] = {
      "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "runpy", "importlib",
      "ctypes", "pickle", "_pickle", "marshal", "code", "codeop", "webbrowser", "multiprocessing",
      "asyncio", "pdb", "commands", "popen2", "urllib", "http", "requests", "ftplib", "smtplib",
      "telnetlib", "fileinput",
  };
  std::string root = module.substr(0, module.find('.'));
  for (const char* m : kModules) {
    if (root == m) return true;
  }
  if (module == "builtins" || module == "__builtin__") {
    static const char* const kNames[] = {"eval", "exec", "execfile", "compile", "open", "__import__",
                                         "getattr", "setattr", "delattr", "globals", "locals", "vars",
                                         "input", "breakpoint", "apply", "file", "reload", "memoryview"};
    for (const char* n : kNames) {
      if (name == n) return true;
    }
  }
  if (module == "operator" && (name == "attrgetter" || name == "methodcaller")) return true;
  return false;
}

class Reader {
 public:
  Reader(std::string_view data, std::size_t pos) : data_(data), pos_(pos) {}

  std::size_t pos() const { return pos_; }
  bool done() const { return pos_ >= data_.size(); }

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
    std::string_view raw = take(static_cast<std::uint64_t>(bytes));
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
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
    if (n > data_.size() - pos_) fail(ErrorCode::kTruncated, "pickle ends in the middle of an opcode");
  }
  std::string_view data_;
  std::size_t pos_;
};

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

std::int64_t parse_decimal(std::string_view text, const char* what) {
  std::string copy(text);
  if (!copy.empty() && (copy.back() == 'L')) copy.pop_back();
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(copy.c_str(), &end, 10);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE) {
    fail(ErrorCode::kCorrupt, std::string("bad ") + what + " literal in pickle");
  }
  return value;
}

}  // namespace

PickleValue* PickleMachine::make(Kind kind) {
  if (values_.size() >= limits_.max_values) {
    fail(ErrorCode::kLimitExceeded, "pickle has more than " + std::to_string(limits_.max_values) + " values");
  }
  values_.emplace_back();
  values_.back().kind = kind;
  return &values_.back();
}

void PickleMachine::check_callable(const PickleValue* callable) const {
  if (callable != nullptr && callable->kind == Kind::kGlobal && is_dangerous(callable->text, callable->name)) {
    fail(ErrorCode::kUnsafePickle,
         "the pickle calls " + callable->text + "." + callable->name + ": loading it with torch.load would run it");
  }
}

// A call of `callable` with the tuple `args`. Known container constructors become containers;
// anything else stays an inert call node whose arguments remain visible to callers.
PickleValue* PickleMachine::call(PickleValue* callable, PickleValue* args) {
  check_callable(callable);
  if (callable != nullptr && callable->kind == Kind::kGlobal) {
    const std::string& m = callable->text;
    const std::string& n = callable->name;
    bool builtins = m == "builtins" || m == "__builtin__";
    if ((m == "collections" && n == "OrderedDict") || (builtins && n == "dict")) {
      PickleValue* dict = make(Kind::kDict);
      // OrderedDict([(k, v), ...]) as protocol 0/1 writes it.
      if (args != nullptr && !args->items.empty() && args->items[0] != nullptr &&
          (args->items[0]->kind == Kind::kList || args->items[0]->kind == Kind::kTuple)) {
        for (PickleValue* pair : args->items[0]->items) {
          if (pair != nullptr && pair->kind == Kind::kTuple && pair->items.size() == 2) {
            dict->entries.emplace_back(pair->items[0], pair->items[1]);
          }
        }
      }
      return dict;
    }
    if (builtins && (n == "set" || n == "frozenset")) {
      PickleValue* set = make(Kind::kSet);
      if (args != nullptr && !args->items.empty() && args->items[0] != nullptr) set->items = args->items[0]->items;
      return set;
    }
    if ((m == "copy_reg" || m == "copyreg") && n == "_reconstructor" && args != nullptr && !args->items.empty()) {
      // _reconstructor(cls, base, state): an instance of cls.
      check_callable(args->items[0]);
      PickleValue* object = make(Kind::kCall);
      object->callable = args->items[0];
      return object;
    }
  }
  PickleValue* node = make(Kind::kCall);
  node->callable = callable;
  if (args != nullptr) node->items = args->items;
  return node;
}

PickleValue* PickleMachine::load(std::string_view data, std::size_t offset, std::size_t* end) {
  if (data.size() - offset > limits_.max_string * 4ull) fail(ErrorCode::kLimitExceeded, "pickle too large");
  Reader in(data, offset);
  std::vector<PickleValue*> stack;
  std::vector<std::size_t> marks;
  std::unordered_map<std::uint64_t, PickleValue*> memo;
  protocol_ = 0;

  auto push = [&](PickleValue* v) {
    if (stack.size() >= limits_.max_stack) fail(ErrorCode::kLimitExceeded, "pickle stack too deep");
    stack.push_back(v);
  };
  auto pop = [&]() -> PickleValue* {
    if (stack.empty() || (!marks.empty() && stack.size() <= marks.back())) {
      fail(ErrorCode::kCorrupt, "pickle pops from an empty stack");
    }
    PickleValue* v = stack.back();
    stack.pop_back();
    return v;
  };
  auto top = [&]() -> PickleValue* {
    if (stack.empty()) fail(ErrorCode::kCorrupt, "pickle reads an empty stack");
    return stack.back();
  };
  auto pop_mark = [&]() -> std::vector<PickleValue*> {
    if (marks.empty()) fail(ErrorCode::kCorrupt, "pickle has no MARK to pop to");
    std::size_t mark = marks.back();
    marks.pop_back();
    std::vector<PickleValue*> items(stack.begin() + static_cast<std::ptrdiff_t>(mark), stack.end());
    stack.resize(mark);
    return items;
  };
  auto string_value = [&](Kind kind, std::string_view bytes) {
    if (bytes.size() > limits_.max_string) fail(ErrorCode::kLimitExceeded, "string in pickle too long");
    PickleValue* v = make(kind);
    v->text.assign(bytes.data(), bytes.size());
    return v;
  };
  auto int_value = [&](std::int64_t value) {
    PickleValue* v = make(Kind::kInt);
    v->integer = value;
    return v;
  };
  auto memo_put = [&](std::uint64_t index) {
    if (memo.size() >= limits_.max_memo && memo.find(index) == memo.end()) {
      fail(ErrorCode::kLimitExceeded, "pickle memo too large");
    }
    memo[index] = top();
  };
  auto memo_get = [&](std::uint64_t index) {
    auto found = memo.find(index);
    if (found == memo.end()) fail(ErrorCode::kCorrupt, "pickle refers to memo entry " + std::to_string(index) + " before it exists");
    push(found->second);
  };
  auto tuple_of = [&](std::vector<PickleValue*> items) {
    PickleValue* t = make(Kind::kTuple);
    t->items = std::move(items);
    return t;
  };
  auto set_items = [&](PickleValue* target, const std::vector<PickleValue*>& kv) {
    if (target->kind != Kind::kDict && target->kind != Kind::kCall) {
      fail(ErrorCode::kCorrupt, "pickle sets items on a value that is not a dict");
    }
    if (kv.size() % 2 != 0) fail(ErrorCode::kCorrupt, "pickle SETITEMS has an odd number of values");
    for (std::size_t i = 0; i < kv.size(); i += 2) {
      if (values_.size() >= limits_.max_values) fail(ErrorCode::kLimitExceeded, "pickle dict too large");
      target->entries.emplace_back(kv[i], kv[i + 1]);
    }
  };
  auto append_items = [&](PickleValue* target, const std::vector<PickleValue*>& items) {
    if (target->kind != Kind::kList && target->kind != Kind::kCall && target->kind != Kind::kSet) {
      fail(ErrorCode::kCorrupt, "pickle appends to a value that is not a list");
    }
    if (target->items.size() + items.size() > limits_.max_values) fail(ErrorCode::kLimitExceeded, "pickle list too large");
    target->items.insert(target->items.end(), items.begin(), items.end());
  };
  auto global = [&](std::string_view module, std::string_view name) {
    if (module.size() > 1024 || name.size() > 1024) fail(ErrorCode::kCorrupt, "pickle GLOBAL name too long");
    PickleValue* g = make(Kind::kGlobal);
    g->text.assign(module.data(), module.size());
    g->name.assign(name.data(), name.size());
    return g;
  };

  for (;;) {
    unsigned char op = in.byte();
    switch (op) {
      case 0x80: {  // PROTO
        protocol_ = in.byte();
        if (protocol_ > 5) fail(ErrorCode::kUnsupportedFormat, "pickle protocol " + std::to_string(protocol_) + " is newer than 5");
        break;
      }
      case 0x95:  // FRAME: framing is advisory; the opcodes follow inline
        in.uint(8);
        break;
      case '.': {  // STOP
        PickleValue* result = pop();
        if (end != nullptr) *end = in.pos();
        return result;
      }
      case '(':  // MARK
        if (marks.size() >= limits_.max_marks) fail(ErrorCode::kLimitExceeded, "pickle nests MARKs too deeply");
        marks.push_back(stack.size());
        break;
      case '0':  // POP
        if (!marks.empty() && stack.size() == marks.back()) {
          marks.pop_back();  // POP of a bare MARK, as pickle does
        } else {
          pop();
        }
        break;
      case '1':  // POP_MARK
        pop_mark();
        break;
      case '2':  // DUP
        push(top());
        break;

      // Constants and numbers.
      case 'N': push(make(Kind::kNone)); break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        PickleValue* b = make(Kind::kBool);
        b->boolean = op == 0x88;
        push(b);
        break;
      }
      case 'I': {  // INT (text; "01"/"00" are True/False)
        std::string_view text = in.line();
        if (text == "01" || text == "00") {
          PickleValue* b = make(Kind::kBool);
          b->boolean = text == "01";
          push(b);
        } else {
          push(int_value(parse_decimal(text, "INT")));
        }
        break;
      }
      case 'J': push(int_value(static_cast<std::int32_t>(in.uint(4)))); break;  // BININT
      case 'K': push(int_value(static_cast<std::int64_t>(in.uint(1)))); break;  // BININT1
      case 'M': push(int_value(static_cast<std::int64_t>(in.uint(2)))); break;  // BININT2
      case 'L': {  // LONG (text)
        std::string_view text = in.line();
        try {
          push(int_value(parse_decimal(text, "LONG")));
        } catch (const CheckpointError&) {
          PickleValue* v = int_value(0);
          v->big_int = true;
          push(v);
        }
        break;
      }
      case 0x8a:
      case 0x8b: {  // LONG1 / LONG4: little-endian two's complement
        std::uint64_t n = op == 0x8a ? in.uint(1) : in.uint(4);
        std::string_view raw = in.take(n);
        PickleValue* v = int_value(0);
        if (n > 8) {
          v->big_int = true;
        } else if (n > 0) {
          std::uint64_t value = 0;
          for (std::size_t i = n; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(raw[i]);
          if (n < 8 && (static_cast<unsigned char>(raw[n - 1]) & 0x80)) value |= ~0ull << (8 * n);  // sign-extend
          v->integer = static_cast<std::int64_t>(value);
        }
        push(v);
        break;
      }
      case 'F': {  // FLOAT (text)
        std::string text(in.line());
        PickleValue* v = make(Kind::kFloat);
        v->real = std::strtod(text.c_str(), nullptr);
        push(v);
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        std::string_view raw = in.take(8);
        std::uint64_t bits = 0;
        for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);
        PickleValue* v = make(Kind::kFloat);
        std::memcpy(&v->real, &bits, sizeof(bits));
        push(v);
        break;
      }

      // Strings and bytes.
      case 'S': push(string_value(Kind::kString, decode_string_repr(in.line()))); break;  // STRING
      case 'V': push(string_value(Kind::kString, decode_raw_unicode_escape(in.line()))); break;  // UNICODE
      case 'T': push(string_value(Kind::kString, in.take(in.uint(4)))); break;  // BINSTRING
      case 'U': push(string_value(Kind::kString, in.take(in.uint(1)))); break;  // SHORT_BINSTRING
      case 'X': push(string_value(Kind::kString, in.take(in.uint(4)))); break;  // BINUNICODE
      case 0x8c: push(string_value(Kind::kString, in.take(in.uint(1)))); break;  // SHORT_BINUNICODE
      case 0x8d: push(string_value(Kind::kString, in.take(in.uint(8)))); break;  // BINUNICODE8
      case 'B': push(string_value(Kind::kBytes, in.take(in.uint(4)))); break;  // BINBYTES
      case 'C': push(string_value(Kind::kBytes, in.take(in.uint(1)))); break;  // SHORT_BINBYTES
      case 0x8e: push(string_value(Kind::kBytes, in.take(in.uint(8)))); break;  // BINBYTES8
      case 0x96: push(string_value(Kind::kBytes, in.take(in.uint(8)))); break;  // BYTEARRAY8
      case 0x97: push(make(Kind::kBytes)); break;  // NEXT_BUFFER: out-of-band data, not present
      case 0x98: break;                            // READONLY_BUFFER: no effect on the value

      // Containers.
      case ')': push(make(Kind::kTuple)); break;  // EMPTY_TUPLE
      case 't': push(tuple_of(pop_mark())); break;  // TUPLE
      case 0x85: {  // TUPLE1
        PickleValue* a = pop();
        push(tuple_of({a}));
        break;
      }
      case 0x86: {  // TUPLE2
        PickleValue* b = pop();
        PickleValue* a = pop();
        push(tuple_of({a, b}));
        break;
      }
      case 0x87: {  // TUPLE3
        PickleValue* c = pop();
        PickleValue* b = pop();
        PickleValue* a = pop();
        push(tuple_of({a, b, c}));
        break;
      }
      case ']': push(make(Kind::kList)); break;  // EMPTY_LIST
      case 'l': {  // LIST
        PickleValue* list = make(Kind::kList);
        list->items = pop_mark();
        push(list);
        break;
      }
      case 'a': {  // APPEND
        PickleValue* item = pop();
        append_items(top(), {item});
        break;
      }
      case 'e': {  // APPENDS
        std::vector<PickleValue*> items = pop_mark();
        append_items(top(), items);
        break;
      }
      case '}': push(make(Kind::kDict)); break;  // EMPTY_DICT
      case 'd': {  // DICT
        PickleValue* dict = make(Kind::kDict);
        set_items(dict, pop_mark());
        push(dict);
        break;
      }
      case 's': {  // SETITEM
        PickleValue* value = pop();
        PickleValue* key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<PickleValue*> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 0x8f: push(make(Kind::kSet)); break;  // EMPTY_SET
      case 0x90: {  // ADDITEMS
        std::vector<PickleValue*> items = pop_mark();
        append_items(top(), items);
        break;
      }
      case 0x91: {  // FROZENSET
        PickleValue* set = make(Kind::kSet);
        set->items = pop_mark();
        push(set);
        break;
      }

      // Memo.
      case 'p': {  // PUT (text index)
        std::int64_t index = parse_decimal(in.line(), "PUT");
        if (index < 0) fail(ErrorCode::kCorrupt, "negative memo index");
        memo_put(static_cast<std::uint64_t>(index));
        break;
      }
      case 'q': memo_put(in.uint(1)); break;  // BINPUT
      case 'r': memo_put(in.uint(4)); break;  // LONG_BINPUT
      case 0x94: memo_put(memo.size()); break;  // MEMOIZE
      case 'g': {  // GET (text index)
        std::int64_t index = parse_decimal(in.line(), "GET");
        if (index < 0) fail(ErrorCode::kCorrupt, "negative memo index");
        memo_get(static_cast<std::uint64_t>(index));
        break;
      }
      case 'h': memo_get(in.uint(1)); break;  // BINGET
      case 'j': memo_get(in.uint(4)); break;  // LONG_BINGET

      // Names and calls: all inert.
      case 'c': {  // GLOBAL module\nname\n
        std::string_view module = in.line();
        std::string_view name = in.line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PickleValue* name = pop();
        PickleValue* module = pop();
        if (module->kind != Kind::kString || name->kind != Kind::kString) {
          fail(ErrorCode::kCorrupt, "STACK_GLOBAL needs two strings");
        }
        push(global(module->text, name->text));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84: {  // EXT1/2/4: the copyreg extension registry, unknown here
        std::uint64_t code = in.uint(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
        push(global("<extension>", std::to_string(code)));
        break;
      }
      case 'R': {  // REDUCE
        PickleValue* args = pop();
        PickleValue* callable = pop();
        push(call(callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        PickleValue* args = pop();
        PickleValue* cls = pop();
        push(call(cls, args));
        break;
      }
      case 0x92: {  // NEWOBJ_EX: cls, args, kwargs
        PickleValue* kwargs = pop();
        PickleValue* args = pop();
        PickleValue* cls = pop();
        PickleValue* node = call(cls, args);
        if (node->kind == Kind::kCall) node->state = kwargs;
        push(node);
        break;
      }
      case 'i': {  // INST module\nname\n: cls(*items since MARK)
        std::string_view module = in.line();
        std::string_view name = in.line();
        PickleValue* cls = global(module, name);
        push(call(cls, tuple_of(pop_mark())));
        break;
      }
      case 'o': {  // OBJ: items since MARK are cls, *args
        std::vector<PickleValue*> items = pop_mark();
        if (items.empty()) fail(ErrorCode::kCorrupt, "OBJ without a class");
        PickleValue* cls = items.front();
        items.erase(items.begin());
        push(call(cls, tuple_of(std::move(items))));
        break;
      }
      case 'b': {  // BUILD: obj.__setstate__(state), recorded not run
        PickleValue* state = pop();
        PickleValue* target = top();
        if (target->kind == Kind::kCall || target->kind == Kind::kDict) {
          target->state = state;
        }
        break;
      }
      case 'P': {  // PERSID (text)
        PickleValue* id = make(Kind::kPersistentId);
        id->pid = string_value(Kind::kString, in.line());
        push(id);
        break;
      }
      case 'Q': {  // BINPERSID
        PickleValue* id = make(Kind::kPersistentId);
        id->pid = pop();
        push(id);
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", op);
        fail(ErrorCode::kCorrupt, std::string("unknown pickle opcode ") + hex + " at offset " + std::to_string(in.pos() - 1));
      }
    }
  }
}

}  // namespace ct
