// The flat JSON reader: values, decoding on demand, strictness (RFC 8259 + UTF-8), and memory:
// one 8-byte node a value, capped.
#include "json_reader.h"

#include <gtest/gtest.h>

#include "checkpoint_error.h"

namespace {

using ct::ErrorCode;
using ct::JsonDocument;
using ct::JsonValue;

ErrorCode refusal(const std::string& text) {
  try {
    JsonDocument doc(text, "input");
  } catch (const ct::CheckpointError& error) {
    return error.code();
  }
  ADD_FAILURE() << "accepted: " << text;
  return ErrorCode::kIo;
}

TEST(JsonReader, ReadsEveryKindOfValue) {
  JsonDocument doc(R"( {"a": [1, -2, 3.5e2, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} )", "t");
  JsonValue root = doc.root();
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 3u);
  std::vector<JsonValue> items;
  for (JsonValue v : root.get("a")->items()) items.push_back(v);
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0].as_uint64(), 1u);
  EXPECT_EQ(items[1].as_int64(), -2);
  EXPECT_FALSE(items[1].as_uint64());
  EXPECT_FALSE(items[2].as_int64());  // not an integer literal
  EXPECT_DOUBLE_EQ(items[2].as_double(), 350.0);
  EXPECT_TRUE(items[3].boolean());
  EXPECT_FALSE(items[4].boolean());
  EXPECT_EQ(items[5].kind(), JsonValue::Kind::kNull);
  JsonValue s = *root.get("s");
  EXPECT_TRUE(s.has_escapes());
  EXPECT_EQ(s.text(), "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(s.equals("x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_EQ(root.get("o")->size(), 0u);
  EXPECT_FALSE(root.get("missing"));
  // Integers at the edges of 64 bits.
  JsonDocument big("[18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]", "t");
  std::vector<JsonValue> n;
  for (JsonValue v : big.root().items()) n.push_back(v);
  EXPECT_EQ(n[0].as_uint64(), UINT64_MAX);
  EXPECT_FALSE(n[1].as_uint64());
  EXPECT_EQ(n[2].as_int64(), INT64_MIN);
  EXPECT_FALSE(n[3].as_int64());
}

TEST(JsonReader, KeepsDuplicateKeysInOrderForCallersToJudge) {
  JsonDocument doc(R"({"k": 1, "k": 2})", "t");
  EXPECT_EQ(doc.root().size(), 2u);
  EXPECT_EQ(doc.root().get("k")->as_uint64(), 1u);  // get() is the first
}

TEST(JsonReader, RefusesWhatIsNotJson) {
  for (const char* text : {"", " ", "[1,]", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[+1]", "tru", "[nul]",
                           "{a:1}", "{\"a\" 1}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "[1]]", "{}x",
                           "'a'", "[NaN]", "[Infinity]"}) {
    EXPECT_EQ(refusal(text), ErrorCode::kCorrupt) << text;
  }
  EXPECT_EQ(refusal(std::string("\"a\0b\"", 5)), ErrorCode::kCorrupt);  // raw control character
  EXPECT_EQ(refusal("\"a\tb\""), ErrorCode::kCorrupt);
}

TEST(JsonReader, RefusesInvalidUtf8AndLoneSurrogates) {
  for (const char* text : {"\"\xff\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
                           "\"\xc3\"", "\"\x80\"", "[\xc3\xa9]", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\""}) {
    EXPECT_EQ(refusal(text), ErrorCode::kCorrupt) << text;
  }
  JsonDocument ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "t");  // 2-, 3- and 4-byte sequences
  EXPECT_EQ(ok.root().text(), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(JsonReader, BoundsDepth) {
  EXPECT_EQ(refusal(std::string(65, '[') + std::string(65, ']')), ErrorCode::kCorrupt);
  JsonDocument ok(std::string(64, '[') + std::string(64, ']'), "t");
  EXPECT_EQ(ok.node_count(), 64u);
}

TEST(JsonReader, MemoryIsOneSmallNodeAValue) {
  // The issue's case: a 10 MB [0,0,...] reached 945 MB with a tree of values. Here: 5 M values of
  // 8 bytes (40 MB) beside the 10 MB input.
  std::string text = "[0";
  for (int i = 1; i < 5'000'000; ++i) text += ",0";
  text += "]";
  JsonDocument doc(std::move(text), "t");
  EXPECT_EQ(doc.node_count(), 5'000'001u);
  static_assert(sizeof(std::uint32_t) * 2 == 8, "a node is two 32-bit words");
}

TEST(JsonReader, CapsTheNodeCount) {
  std::string text = "[0";
  for (std::uint32_t i = 1; i < JsonDocument::kMaxNodes; ++i) text += ",0";
  text += "]";
  EXPECT_EQ(refusal(text), ErrorCode::kLimitExceeded);
}

TEST(JsonReader, ChargesTheBudgetAndStopsWhenCancelled) {
  std::string text = "[0";
  for (int i = 1; i < 5'000'000; ++i) text += ",0";
  text += "]";
  // A budget smaller than the document: LIMIT_EXCEEDED.
  ct::WorkBudget small(1'000'000);
  ct::ReadLimits limits;
  limits.budget = &small;
  try {
    JsonDocument doc(text, "t", limits);
    FAIL() << "parsed past its budget";
  } catch (const ct::CheckpointError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  }
  // A cancelled flag: ABORTED at the first look.
  std::atomic<bool> cancelled{true};
  ct::WorkBudget budget(ct::kInspectionWorkUnits, &cancelled);
  limits.budget = &budget;
  try {
    JsonDocument doc(text, "t", limits);
    FAIL() << "parsed after cancellation";
  } catch (const ct::CheckpointError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kAborted);
  }
  // Without either, the same document is fine and costs one unit a value.
  ct::WorkBudget enough(ct::kInspectionWorkUnits);
  limits.budget = &enough;
  JsonDocument doc(text, "t", limits);
  EXPECT_EQ(ct::kInspectionWorkUnits - enough.remaining(), doc.node_count());
}

}  // namespace
