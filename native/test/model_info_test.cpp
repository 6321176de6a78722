// inspect_checkpoint on the torch-written fixtures (the numbers in expected.json come from torch),
// and every fixture mutated many times: the readers must answer or fail cleanly, never crash.
#include "model_info.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "byte_source.h"
#include "checkpoint_contents.h"
#include "checkpoint_error.h"
#include "json_reader.h"

namespace {

const std::string kDir = std::string(FIXTURES_DIR) + "/checkpoints/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

// expected.json: files torch 1.13 wrote (make_fixtures.py); expected_torch2.json: files torch 2.13
// wrote (make_fixtures_torch2.py).
TEST(ModelInfo, MatchesTorchOnEveryFixture) {
  int checked = 0;
  for (const char* truth : {"expected.json", "expected_torch2.json"}) {
    ct::JsonDocument expected(read_file(kDir + truth), truth);
    for (ct::JsonMember fixture : expected.root().get("fixtures")->members()) {
      std::string name = fixture.key.text();
      ct::JsonValue want = fixture.value;
      SCOPED_TRACE(name);
      if (std::optional<ct::JsonValue> code = want.get("error")) {
        try {
          ct::inspect_checkpoint(kDir + name);
          ADD_FAILURE() << "no error";
        } catch (const ct::CheckpointError& error) {
          EXPECT_EQ(ct::error_code_name(error.code()), code->text());
          EXPECT_EQ(std::string(error.what()).rfind(kDir + name + ": ", 0), 0u) << error.what();
        }
        continue;
      }
      ct::ModelInfo info = ct::inspect_checkpoint(kDir + name);
      EXPECT_EQ(info.num_parameters, want.get("num_parameters")->as_uint64());
      EXPECT_EQ(info.num_buffer_elements, want.get("num_buffer_elements")->as_uint64());
      if (std::optional<ct::JsonValue> trainable = want.get("num_trainable_parameters")) {
        EXPECT_EQ(info.num_trainable_parameters, trainable->as_uint64());
      }
      EXPECT_EQ(info.type, want.get("type")->text());
      EXPECT_EQ(info.format, want.get("format")->text());
      EXPECT_EQ(info.exact, want.get("exact")->boolean());
      if (std::optional<ct::JsonValue> tensors = want.get("num_tensors")) EXPECT_EQ(info.num_tensors, tensors->as_uint64());
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

// Tensor names are views into the bytes a reader kept (data.pkl, the safetensors header), not
// copies; names built from a module's prefixes are copies, and must outlive the reader's buffers.
TEST(ModelInfo, NamesAreViewsIntoTheFileWhereTheyCanBe) {
  for (const char* name : {"cnn_state_dict.pt", "nanogpt_ckpt.pt", "nanogpt.safetensors"}) {
    ct::MemorySource source(read_file(kDir + name));
    ct::CheckpointContents contents = ct::read_checkpoint_bytes(source);
    ASSERT_FALSE(contents.tensors.empty()) << name;
    for (const ct::TensorRecord& t : contents.tensors) EXPECT_TRUE(contents.text.in_kept(t.name)) << name << ": " << t.name;
  }
  ct::MemorySource module(read_file(kDir + "cnn_whole_module_frozen.pt"));
  ct::CheckpointContents contents = ct::read_checkpoint_bytes(module);
  ASSERT_FALSE(contents.tensors.empty());
  for (const ct::TensorRecord& t : contents.tensors) {
    EXPECT_FALSE(contents.text.in_kept(t.name)) << t.name;   // "conv1.weight": built from the module tree
    EXPECT_NE(t.name.find('.'), std::string_view::npos) << t.name;
  }
}

TEST(ModelInfo, MutatedFixturesNeverCrash) {
  std::mt19937 random(42);
  DIR* dir = opendir(kDir.c_str());
  ASSERT_NE(dir, nullptr);
  int files = 0;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() < 4 || name.find(".py") != std::string::npos || name.find(".json") != std::string::npos) continue;
    std::string bytes = read_file(kDir + name);
    if (bytes.empty() || bytes.size() > (2u << 20)) continue;
    ++files;
    for (int round = 0; round < 150; ++round) {
      std::string copy = bytes;
      int flips = 1 + static_cast<int>(random() % 16);
      for (int i = 0; i < flips; ++i) copy[random() % copy.size()] = static_cast<char>(random());
      if (round % 5 == 0) copy.resize(random() % copy.size());
      ct::MemorySource source(copy);
      try {
        ct::summarize(ct::read_checkpoint_bytes(source));
      } catch (const ct::CheckpointError&) {
        // a clean error
      }
    }
  }
  closedir(dir);
  EXPECT_GE(files, 10);
}

TEST(ModelInfo, LegacyHeadIsReReadLargerUntilItsPicklesFit) {
  // Start from a 64-byte head: the reader must grow it (64, 256, 1 KiB, ...) and land on the
  // same answer as with the default first read.
  ct::MemorySource source(read_file(kDir + "cnn_legacy.pt"));
  ct::ReadLimits tiny;
  tiny.legacy_first_read = 64;
  ct::ModelInfo grown = ct::summarize(ct::read_checkpoint_bytes(source, tiny));
  ct::ModelInfo direct = ct::summarize(ct::read_checkpoint_bytes(source));
  EXPECT_EQ(grown.num_parameters, direct.num_parameters);
  EXPECT_EQ(grown.num_buffer_elements, direct.num_buffer_elements);
  EXPECT_EQ(grown.num_tensors, direct.num_tensors);
  EXPECT_GT(grown.num_parameters, 0u);

  // A legacy file cut inside its pickles is truncated, not "corrupt", whatever the head size.
  std::string whole = read_file(kDir + "cnn_legacy.pt");
  ct::MemorySource cut(whole.substr(0, 300));
  try {
    ct::read_checkpoint_bytes(cut, tiny);
    FAIL() << "parsed a cut file";
  } catch (const ct::CheckpointError& error) {
    EXPECT_EQ(error.code(), ct::ErrorCode::kTruncated) << error.what();
  }
}

// Shapes keep up to four dims inline and move the rest to the heap: both sides read the same.
TEST(ModelInfo, ShapeSpillsPastFourDimsAndCopies) {
  ct::Shape small;
  for (std::int64_t d : {2, 3}) small.push_back(d);  // (2, 3)
  ct::Shape big;
  for (std::int64_t d = 1; d <= 9; ++d) big.push_back(d);
  ASSERT_EQ(big.size(), 9u);
  EXPECT_EQ(std::vector<std::int64_t>(big.begin(), big.end()), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ct::Shape copy = big;
  EXPECT_TRUE(copy == big);
  ct::Shape moved = std::move(copy);
  EXPECT_TRUE(moved == big);
  EXPECT_TRUE(copy.empty());
  copy = small;
  EXPECT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy[1], 3);
  // Lexicographic, as the optimizer's shape map needs: (1, ..., 9) < (2, 3) < (2, 3, 1).
  EXPECT_TRUE(big < small);
  EXPECT_FALSE(small < big);
  ct::Shape longer = small;
  longer.push_back(1);
  EXPECT_TRUE(small < longer);
}
