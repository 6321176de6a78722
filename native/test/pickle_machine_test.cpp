// The symbolic pickle machine against CPython's own pickler (test/fixtures/pickles/cases.json,
// written by make_pickles.py at protocols 0 to 5), hand-written pickles for the opcodes CPython 3
// never emits, and hostile input.
#include "pickle_machine.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_set>

#include "checkpoint_error.h"
#include "json_reader.h"

using ct::CheckpointError;
using ct::ErrorCode;
using ct::PickleMachine;
using ct::PickleRef;
using Kind = ct::PickleKind;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string hex_of(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// The canonical text make_pickles.py writes with canon().
std::string describe(PickleRef v, std::unordered_set<ct::ValueId>& path) {
  if (!v) return "<null>";
  if (path.count(v.id())) return "<recursive>";
  path.insert(v.id());
  std::string out;
  auto join = [&](PickleRef items) {
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + describe(items.item(i), path);
    return s;
  };
  switch (v.kind()) {
    case Kind::kNone: out = "None"; break;
    case Kind::kBool: out = *v.as_bool() ? "True" : "False"; break;
    case Kind::kInt: out = std::to_string(*v.as_int()); break;
    case Kind::kBigInt: out = "<bigint>"; break;
    case Kind::kFloat: {
      char buffer[64];
      std::snprintf(buffer, sizeof(buffer), "%.17g", v.real());
      out = buffer;
      break;
    }
    case Kind::kString: out = "'" + std::string(v.text()) + "'"; break;
    case Kind::kBytes: out = "b'" + hex_of(std::string(v.text())) + "'"; break;
    case Kind::kTuple: out = "(" + join(v) + ")"; break;
    case Kind::kList: out = "[" + join(v) + "]"; break;
    case Kind::kSet: out = "set(" + join(v) + ")"; break;
    case Kind::kDict: {
      out = "{";
      for (std::size_t i = 0; i < v.size(); ++i) {
        out += (i ? ", " : "") + describe(v.key(i), path) + ": " + describe(v.value(i), path);
      }
      out += "}";
      break;
    }
    case Kind::kGlobal: out = v.qualified_name(); break;
    case Kind::kCall:
      out = (v.call_target() ? v.call_target().qualified_name() : describe(v.callable(), path)) + "(" + join(v.args()) + ")";
      if (v.state()) out += "!" + describe(v.state(), path);
      break;
    case Kind::kPersistentId: out = "pid(" + describe(v.pid(), path) + ")"; break;
  }
  path.erase(v.id());
  return out;
}

std::string run(const std::string& bytes) {
  PickleMachine machine;
  std::unordered_set<ct::ValueId> path;
  return describe(machine.load(bytes), path);
}

ErrorCode error_of(const std::string& bytes, ct::PickleLimits limits = {}) {
  try {
    PickleMachine machine(limits);
    machine.load(bytes);
  } catch (const CheckpointError& error) {
    return error.code();
  }
  ADD_FAILURE() << "expected an error";
  return ErrorCode::kIo;
}

struct Case {
  std::string name;
  std::string bytes;
  std::string expected;
};

std::vector<Case> cpython_cases() {
  std::string text = read_file(std::string(FIXTURES_DIR) + "/pickles/cases.json");
  ct::JsonDocument json(text, "cases.json");
  std::vector<Case> cases;
  for (ct::JsonValue c : json.root().get("cases")->items()) {
    cases.push_back({c.get("name")->text(), from_hex(c.get("hex")->text()), c.get("expected")->text()});
  }
  return cases;
}

}  // namespace

TEST(PickleMachine, MatchesEveryCPythonCase) {
  std::vector<Case> cases = cpython_cases();
  ASSERT_GE(cases.size(), 100u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(run(c.bytes), c.expected);
  }
}

TEST(PickleMachine, EveryPrefixOfEveryCaseFailsCleanly) {
  for (const Case& c : cpython_cases()) {
    for (std::size_t cut = 0; cut < c.bytes.size(); cut += 1 + c.bytes.size() / 64) {
      try {
        PickleMachine machine;
        machine.load(std::string_view(c.bytes).substr(0, cut));
        ADD_FAILURE() << c.name << " cut at " << cut << " parsed";
      } catch (const CheckpointError& error) {
        EXPECT_TRUE(error.code() == ErrorCode::kTruncated || error.code() == ErrorCode::kCorrupt) << c.name;
      }
    }
  }
}

// Opcodes CPython 3 does not write but Python 2 and other picklers do.
TEST(PickleMachine, Python2Strings) {
  EXPECT_EQ(run("S'it\\'s \\x41\\n'\n."), "'it's A\n'");                  // STRING
  EXPECT_EQ(run(std::string("T\x03\x00\x00\x00" "abc.", 9)), "'abc'");     // BINSTRING
  EXPECT_EQ(run(std::string("U\x02hi.", 5)), "'hi'");                       // SHORT_BINSTRING
}

TEST(PickleMachine, InstAndObj) {
  // INST: MARK args INST module\nname\n ; OBJ: MARK cls args OBJ. Both call cls(*args): only an
  // allowed class may be named.
  EXPECT_EQ(run("(I1\nI2\nitorch\nSize\n."), "torch.Size(1, 2)");
  EXPECT_EQ(run("(ctorch\nSize\nI3\no}(S'x'\nI4\nub."), "torch.Size(3)!{'x': 4}");
  EXPECT_EQ(error_of("(I1\nI2\nimymod\nPoint\n."), ErrorCode::kUnsafePickle);
  EXPECT_EQ(error_of("(cmymod\nPoint\nI3\no."), ErrorCode::kUnsafePickle);
}

TEST(PickleMachine, DupAndEightByteLengths) {
  EXPECT_EQ(run("K\x07" "2\x86."), "(7, 7)");  // BININT1 7, DUP, TUPLE2
  std::string unicode8 = std::string("\x80\x04\x8d", 3) + std::string("\x02\0\0\0\0\0\0\0", 8) + "ok.";
  EXPECT_EQ(run(unicode8), "'ok'");
  std::string bytes8 = std::string("\x80\x04\x8e", 3) + std::string("\x01\0\0\0\0\0\0\0", 8) + "z.";
  EXPECT_EQ(run(bytes8), "b'7a'");
}

TEST(PickleMachine, AppendsAndSetitemsAfterAnEmptyMark) {
  // MARK then at once APPENDS / SETITEMS: nothing to add (found by fuzz_dcp under UBSan: a copy of
  // zero items from a null pointer).
  EXPECT_EQ(run("](e."), "[]");
  EXPECT_EQ(run("}(u."), "{}");
}

TEST(PickleMachine, MemoIndicesAtTheDenseLimitGoToTheSparseMap) {
  // The dense memo is reserved for max_memo slots: PUT 3 fills it to its end, and PUT 4 (the next
  // index, with two entries in all) must go to the sparse map, not past the reservation.
  ct::PickleLimits limits;
  limits.max_memo = 4;
  PickleMachine machine(limits);
  std::unordered_set<ct::ValueId> path;
  EXPECT_EQ(describe(machine.load("K\x07q\x03q\x04" "0h\x04."), path), "7");
  EXPECT_EQ(error_of("K\x07q\x03q\x04q\x05q\x06q\x07.", limits), ErrorCode::kLimitExceeded);  // a fifth entry
}

TEST(PickleMachine, HugeDeclaredLengthIsTruncationNotAllocation) {
  std::string bomb = std::string("\x80\x04\x8d", 3) + std::string("\0\0\0\0\0\0\0\x10", 8) + "x.";
  EXPECT_EQ(error_of(bomb), ErrorCode::kTruncated);
}

TEST(PickleMachine, DangerousCallsAreRefused) {
  EXPECT_EQ(error_of("cposix\nsystem\n(S'echo pwned'\ntR."), ErrorCode::kUnsafePickle);
  EXPECT_EQ(error_of("c__builtin__\neval\n(S'1'\ntR."), ErrorCode::kUnsafePickle);
  EXPECT_EQ(error_of("\x80\x04\x8c\x08" "builtins\x8c\x07getattr\x93(tR."), ErrorCode::kUnsafePickle);
  EXPECT_EQ(error_of("(csubprocess\nPopen\nS'ls'\no."), ErrorCode::kUnsafePickle);
}

TEST(PickleMachine, ReferencingAGlobalIsNotCallingIt) {
  EXPECT_EQ(run("cos\nsystem\n."), "os.system");  // inert unless called
}

TEST(PickleMachine, MalformedInput) {
  EXPECT_EQ(error_of(""), ErrorCode::kTruncated);
  EXPECT_EQ(error_of("\xff."), ErrorCode::kCorrupt);         // unknown opcode
  EXPECT_EQ(error_of("h\x05."), ErrorCode::kCorrupt);        // memo read before write
  EXPECT_EQ(error_of("t."), ErrorCode::kCorrupt);            // TUPLE without MARK
  EXPECT_EQ(error_of("R."), ErrorCode::kCorrupt);            // REDUCE on an empty stack
  EXPECT_EQ(error_of("K\x01K\x02s."), ErrorCode::kCorrupt);  // SETITEM on an int
  EXPECT_EQ(error_of("\x80\x06N."), ErrorCode::kUnsupportedFormat);
}

TEST(PickleMachine, StopWithAnOpenMarkIsAcceptedAsCPythonDoes) {
  EXPECT_EQ(run("(K\x01."), "1");
}

TEST(PickleMachine, LimitsBoundMemory) {
  ct::PickleLimits limits;
  limits.max_values = 100;
  std::string many = "(";
  for (int i = 0; i < 200; ++i) many += "U\x01x";  // small ints are immediate: strings make values
  many += "l.";
  EXPECT_EQ(error_of(many, limits), ErrorCode::kLimitExceeded);
  limits = {};
  limits.max_marks = 10;
  EXPECT_EQ(error_of(std::string(20, '(') + "N.", limits), ErrorCode::kLimitExceeded);
  limits = {};
  limits.max_stack = 10;
  EXPECT_EQ(error_of(std::string(20, 'N') + ".", limits), ErrorCode::kLimitExceeded);
}

TEST(PickleMachine, SharedMemoEntriesAreSharedNotCopied) {
  // [x, x] where x = [1]: both items are the same value.
  PickleMachine machine;
  PickleRef list = machine.load(std::string("\x80\x02]q\x00(]q\x01K\x01" "ah\x01" "e.", 16));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list.item(0), list.item(1));
}

TEST(PickleMachine, ConcatenatedPicklesAsInTheLegacyFormat) {
  std::string two = "K\x01.K\x02.";
  PickleMachine machine;
  std::size_t end = 0;
  EXPECT_EQ(machine.load(two, 0, &end).as_int(), 1);
  EXPECT_EQ(end, 3u);
  EXPECT_EQ(machine.load(two, end, &end).as_int(), 2);
  EXPECT_EQ(end, two.size());
}
