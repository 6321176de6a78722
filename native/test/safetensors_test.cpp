// safetensors headers against the reference implementation's rules (huggingface/safetensors,
// safetensors/src/tensor.rs: read_metadata, Metadata::validate, Dtype::bitsize): every rule the
// reference enforces is a case here with the code we answer.
#include "safetensors.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "model_info.h"
#include "support/safetensors_builder.h"
#include "support/safetensors_outcome.h"

namespace {

using ct::ErrorCode;
using ct::test::safetensors_file;
using ct::test::tensor_entry;

ct::CheckpointContents read(const std::string& bytes) {
  ct::MemorySource source(bytes);
  return ct::read_safetensors(source, {});
}

// The code read_safetensors fails with, and its message in `message`.
ErrorCode refusal(const std::string& bytes, std::string* message = nullptr) {
  try {
    read(bytes);
  } catch (const ct::CheckpointError& error) {
    if (message != nullptr) *message = error.what();
    return error.code();
  }
  ADD_FAILURE() << "accepted";
  return ErrorCode::kIo;
}

TEST(Safetensors, AcceptsAValidFileAndReadsEveryTensor) {
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}," + tensor_entry("b", "F32", "[2,3]", 0, 24) + "," +
                       tensor_entry("a", "BF16", "[4]", 24, 32) + "," + tensor_entry("s", "I64", "[]", 32, 40) + "}";
  ct::CheckpointContents c = read(safetensors_file(header, 40));
  ASSERT_EQ(c.tensors.size(), 3u);
  EXPECT_EQ(c.tensors[0].name, "b");
  EXPECT_EQ(c.tensors[0].numel, 6u);
  EXPECT_STREQ(c.tensors[0].dtype, "float32");
  EXPECT_STREQ(c.tensors[1].dtype, "bfloat16");
  EXPECT_EQ(c.tensors[2].numel, 1u);  // a scalar
}

TEST(Safetensors, AcceptsWhatTheReferenceAccepts) {
  // Tensors in any key order (validated in offset order), zero-size tensors, __metadata__ null,
  // unknown fields inside a tensor, escapes in names, whitespace padding after the JSON.
  std::string header = "{" + tensor_entry("late", "U8", "[2]", 2, 4) + "," + tensor_entry("early", "U8", "[2]", 0, 2) +
                       "," + tensor_entry("empty", "F32", "[0,5]", 4, 4) + ",\"__metadata__\":null," +
                       "\"x\\u00e9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5],\"extra\":[1,2]}}   ";
  ct::CheckpointContents c = read(safetensors_file(header, 5));
  ASSERT_EQ(c.tensors.size(), 4u);
  EXPECT_EQ(c.tensors[3].name, "x\xc3\xa9");
  // F4 with an even element count ends on a byte; F6 in fours.
  read(safetensors_file("{" + tensor_entry("f4", "F4", "[2,3]", 0, 3) + "," + tensor_entry("f6", "F6_E2M3", "[4]", 3, 6) + "}", 6));
  read(safetensors_file("{" + tensor_entry("q", "F8_E4M3FNUZ", "[3]", 0, 3) + "}", 3));
}

TEST(Safetensors, RefusesEachClassTheReferenceRefuses) {
  std::string message;
  // HeaderTooSmall / InvalidHeaderLength: a file shorter than its length field says.
  EXPECT_EQ(refusal(std::string("\x02\0\0", 3)), ErrorCode::kTruncated);
  EXPECT_EQ(refusal(safetensors_file("{}", 0).substr(0, 9)), ErrorCode::kTruncated);
  // HeaderTooLarge: over 100,000,000 bytes (decimal), refused before anything is read.
  std::string huge(8, '\0');
  std::uint64_t n = 100'000'001;
  for (int i = 0; i < 8; ++i) huge[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  EXPECT_EQ(refusal(huge + "{}"), ErrorCode::kLimitExceeded);
  // InvalidHeader: not UTF-8 (inside a name, and a lone continuation byte).
  EXPECT_EQ(refusal(safetensors_file("{\"a\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), &message),
            ErrorCode::kCorrupt);
  EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
  EXPECT_EQ(refusal(safetensors_file("{\"a\xed\xa0\x80\":{}}", 0)), ErrorCode::kCorrupt);  // an encoded surrogate
  // InvalidHeaderDeserialization: not JSON, not an object, a tensor missing a field, a field
  // twice, a shape that is not unsigned integers, offsets that are not a pair, unknown dtype,
  // __metadata__ values that are not strings, __metadata__ twice.
  EXPECT_EQ(refusal(safetensors_file("{\"a\":", 0)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("[1,2]", 0)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)),
            ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[-1]", 0, 1) + "}", 1)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[1.0]", 0, 1) + "}", 1)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[18446744073709551616]", 0, 1) + "}", 1)),
            ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "F128", "[1]", 0, 16) + "}", 16)), ErrorCode::kUnsupportedFormat);
  EXPECT_EQ(refusal(safetensors_file("{\"__metadata__\":{\"step\":3}," + tensor_entry("a", "U8", "[1]", 0, 1) + "}", 1), &message),
            ErrorCode::kCorrupt);
  EXPECT_NE(message.find("__metadata__"), std::string::npos) << message;
  EXPECT_EQ(refusal(safetensors_file("{\"__metadata__\":[]}", 0)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{\"__metadata__\":{},\"__metadata__\":{}}", 0)), ErrorCode::kCorrupt);
  // A tensor name given twice (the reference keeps the last; with different offsets its offset
  // check fails; we refuse every duplicate: the file is ambiguous).
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[1]", 0, 1) + "," + tensor_entry("a", "U8", "[1]", 1, 2) + "}", 2),
                    &message),
            ErrorCode::kCorrupt);
  EXPECT_NE(message.find("twice"), std::string::npos) << message;
  // InvalidOffset: a gap, an overlap, not starting at 0, end before begin.
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[1]", 0, 1) + "," + tensor_entry("b", "U8", "[1]", 2, 3) + "}", 3)),
            ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[2]", 0, 2) + "," + tensor_entry("b", "U8", "[2]", 1, 3) + "}", 3)),
            ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[1]", 1, 2) + "}", 2)), ErrorCode::kCorrupt);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[0]", 2, 0) + "}", 2)), ErrorCode::kCorrupt);
  // MisalignedSlice: F4 x 3 elements is 12 bits, F6 x 2 is 12 bits.
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "F4", "[3]", 0, 2) + "}", 2), &message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find("does not end on a byte"), std::string::npos) << message;
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "F6_E3M2", "[2]", 0, 2) + "}", 2)), ErrorCode::kCorrupt);
  // TensorInvalidInfo: the span is not dtype x shape.
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "F32", "[2]", 0, 4) + "}", 4)), ErrorCode::kCorrupt);
  // ValidationOverflow: element count or bit count past 64 bits.
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[4294967296,4294967296]", 0, 0) + "}", 0)),
            ErrorCode::kLimitExceeded);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "F64", "[4611686018427387904]", 0, 0) + "}", 0)),
            ErrorCode::kLimitExceeded);
  // MetadataIncompleteBuffer: data missing, or bytes after the last tensor.
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[4]", 0, 4) + "}", 3)), ErrorCode::kTruncated);
  EXPECT_EQ(refusal(safetensors_file("{" + tensor_entry("a", "U8", "[4]", 0, 4) + "}", 5)), ErrorCode::kCorrupt);
}

TEST(Safetensors, MessagesNameTheTensor) {
  std::string message;
  refusal(safetensors_file("{" + tensor_entry("encoder.w", "F32", "[2]", 0, 4) + "}", 4), &message);
  EXPECT_NE(message.find("encoder.w"), std::string::npos) << message;
}

// The direct pass over writer-laid-out headers and the JSON reader must agree on every input:
// the same records, or the same refusal in the same words.
std::string outcome(const std::string& bytes, ct::HeaderReading reading) {
  ct::MemorySource source(bytes);
  return ct::test::safetensors_outcome(source, reading);
}

TEST(Safetensors, TheDirectPassAndTheJsonReaderAgree) {
  const std::string a = tensor_entry("a", "U8", "[1]", 0, 1);
  const std::vector<std::pair<std::string, std::uint64_t>> headers = {
      {"{}", 0},
      {"{}       ", 0},
      {"{" + a + "}", 1},
      {"{" + a + "}   ", 1},
      {"{\"__metadata__\":{\"format\":\"pt\"}," + a + "}", 1},
      {"{\"__metadata__\":{}," + a + "}", 1},
      {"{\"__metadata__\":null," + a + "}", 1},
      {"{" + a + ",\"__metadata__\":{\"k\":\"v\",\"k2\":\"\"}}", 1},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", 0},
      {"{\"__metadata__\":{\"step\":3}," + a + "}", 1},
      {"{" + tensor_entry("s", "I64", "[]", 0, 8) + "}", 8},
      {"{" + tensor_entry("z", "F32", "[0,5]", 0, 0) + "}", 0},
      {"{" + tensor_entry("b", "BF16", "[2,3]", 0, 12) + "," + tensor_entry("c", "BF16", "[2,3]", 12, 24) + "}", 24},
      {"{" + a + "," + a + "}", 2},
      {"{" + tensor_entry("a", "U8", "[01]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[+1]", 0, 1) + "}", 1},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[+0,1]}}", 1},
      {"{" + tensor_entry("a", "U8", "[-1]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[1.0]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[1e0]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[9223372036854775808]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[18446744073709551616]", 0, 1) + "}", 1},
      {"{" + tensor_entry("a", "U8", "[4294967296,4294967296]", 0, 0) + "}", 0},
      {"{" + tensor_entry("a", "F128", "[1]", 0, 16) + "}", 16},
      {"{" + tensor_entry("a", "F4", "[3]", 0, 2) + "}", 2},
      {"{" + tensor_entry("a", "U8", "[1]", 1, 2) + "}", 2},
      {"{" + tensor_entry("a", "U8", "[4]", 0, 4) + "}", 3},
      {"{" + tensor_entry("a", "U8", "[4]", 0, 4) + "}", 5},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1},
      {"{\"a\":{\"shape\":[1],\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1},  // another field order
      {"{\"a\": {\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1},  // whitespace
      {"{\"x\\u00e9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1},  // an escape
      {"{\"x\xc3\xa9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1},  // UTF-8
      {"{\"a\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1},
      {"{" + a + "}x", 1},
      {"{" + a + "}\n", 1},
      {"{" + a, 1},
      {"{" + a + ",}", 1},
      {"[1,2]", 0},
      {"{\"a\":[]}", 0},
  };
  for (const auto& [header, data] : headers) {
    std::string file = ct::test::safetensors_file(header, data);
    EXPECT_EQ(outcome(file, ct::HeaderReading::kLaidOutFirst), outcome(file, ct::HeaderReading::kGeneralOnly)) << header;
  }
}

// The direct pass must actually be taken for headers as the writer lays them out (else the
// agreement above would hold trivially, both ways being the JSON reader): kLaidOutOnly refuses
// any header the direct pass gives up on.
TEST(Safetensors, TheDirectPassReadsWhatTheWriterWrites) {
  // Byte for byte what huggingface/safetensors' writer produced in its own tests
  // (bindings/python/tests/test_simple.py, test_serialization: unpadded in older releases, padded
  // with spaces to 8 bytes since; and with __metadata__ first, as Metadata::serialize writes it).
  const std::string test_entry = "\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";
  const std::vector<std::string> written = {
      "{" + test_entry + "}",
      "{" + test_entry + "}    ",
      "{\"__metadata__\":{\"framework\":\"pt\"},\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}       ",
  };
  for (const std::string& header : written) {
    std::string file = ct::test::safetensors_file(header, 16);
    std::string direct = outcome(file, ct::HeaderReading::kLaidOutOnly);
    EXPECT_EQ(direct.substr(0, 3), "ok|") << header << ": " << direct;
    EXPECT_NE(direct.find(" int32 4 32 [2,2,]"), std::string::npos) << direct;
    EXPECT_EQ(direct, outcome(file, ct::HeaderReading::kGeneralOnly)) << header;
  }
  // The repository's own fixture, and the shapes tensor_entry writes.
  std::ifstream in(std::string(FIXTURES_DIR) + "/checkpoints/nanogpt.safetensors", std::ios::binary);
  std::string fixture((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(fixture.size(), 8u);
  EXPECT_EQ(outcome(fixture, ct::HeaderReading::kLaidOutOnly), outcome(fixture, ct::HeaderReading::kGeneralOnly));
  EXPECT_EQ(outcome(fixture, ct::HeaderReading::kLaidOutOnly).substr(0, 3), "ok|");
  std::string two = "{" + tensor_entry("b", "BF16", "[2,3]", 0, 12) + "," + tensor_entry("s", "I64", "[]", 12, 20) + "}";
  EXPECT_EQ(outcome(ct::test::safetensors_file(two, 20), ct::HeaderReading::kLaidOutOnly).substr(0, 3), "ok|");
  // And gives up (the JSON reader then reads it) on anything else.
  std::string spaced = "{\"a\": {\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  EXPECT_EQ(outcome(ct::test::safetensors_file(spaced, 1), ct::HeaderReading::kLaidOutOnly).substr(0, 18), "UNSUPPORTED_FORMAT");
}

// The reference reads a header that starts with JSON whitespace (a writer aligning the data may
// pad the header at its start): its own test, byte for byte (safetensors/src/tensor.rs,
// test_whitespace_leading_padded_header), and the same with tensors, found by format sniffing too.
TEST(Safetensors, AHeaderThatStartsWithWhitespaceIsRead) {
  const std::string reference("\x06\x00\x00\x00\x00\x00\x00\x00\x09\x0A{}\x0D\x20", 14);
  ct::MemorySource source(reference);
  EXPECT_EQ(ct::read_checkpoint_bytes(source).tensors.size(), 0u);
  std::string body = "{" + tensor_entry("a", "F32", "[2,2]", 0, 16) + "," + tensor_entry("b", "U8", "[3]", 16, 19) + "}";
  std::string padded = ct::test::safetensors_file(" \t\r\n" + std::string(5000, ' ') + body + "\n", 19);
  std::string want = outcome(ct::test::safetensors_file(body, 19), ct::HeaderReading::kLaidOutOnly);
  EXPECT_EQ(want.substr(0, 3), "ok|") << want;
  EXPECT_EQ(outcome(padded, ct::HeaderReading::kGeneralOnly), want);
  EXPECT_EQ(outcome(padded, ct::HeaderReading::kLaidOutFirst), want);
  ct::MemorySource padded_source(padded);
  EXPECT_EQ(ct::read_checkpoint_bytes(padded_source).tensors.size(), 2u);
  // Whitespace, then anything but the object, is not a safetensors file.
  for (const std::string& header : {std::string("  [] "), std::string(" \t "), std::string(" \x0b{}")}) {
    ct::MemorySource other(ct::test::safetensors_file(header, 0));
    try {
      ct::read_checkpoint_bytes(other);
      ADD_FAILURE() << "read";
    } catch (const ct::CheckpointError& error) {
      EXPECT_EQ(error.code(), ErrorCode::kUnsupportedFormat) << error.what();
    }
  }
}

}  // namespace
