// inspect_checkpoint at the file system's edges: special files refused without blocking, sharded
// checkpoints (paths that escape, FIFO shards, tensors in two shards, a million entries), a
// config.json that is not a model's, and the work budget / cancel flag reaching every reader.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "checkpoint_error.h"
#include "model_info.h"
#include "sharded_index.h"
#include "support/safetensors_builder.h"
#include "support/scratch.h"

namespace {

using ct::ErrorCode;
using ct::test::safetensors_file;
using ct::test::tensor_entry;

std::string scratch(const std::string& name) {
  std::string dir = scratch_dir() + "/inspect_boundaries";
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/" + name;
  std::string command = "rm -rf '" + path + "'";
  if (std::system(command.c_str()) != 0) ADD_FAILURE() << command;
  return path;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A one-tensor-per-name U8 safetensors file: each tensor one byte.
std::string u8_tensors(std::initializer_list<const char*> names) {
  std::string header = "{";
  std::uint64_t offset = 0;
  for (const char* name : names) {
    if (offset > 0) header += ",";
    header += tensor_entry(name, "U8", "[1]", offset, offset + 1);
    ++offset;
  }
  return safetensors_file(header + "}", offset);
}

ErrorCode refusal(const std::string& path, std::string* message = nullptr, const ct::ReadLimits& limits = {}) {
  try {
    ct::inspect_checkpoint(path, limits);
  } catch (const ct::CheckpointError& error) {
    if (message != nullptr) *message = error.what();
    return error.code();
  }
  ADD_FAILURE() << path << " accepted";
  return ErrorCode::kIo;
}

TEST(InspectBoundaries, SpecialFilesAreRefusedWithoutBlocking) {
  std::string message;
  std::string fifo = scratch("weights.safetensors");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(refusal(fifo, &message), ErrorCode::kUnsupportedFormat);  // no writer: open would block
  EXPECT_NE(message.find("FIFO"), std::string::npos) << message;
  EXPECT_EQ(message.rfind(fifo + ": ", 0), 0u) << message;
  EXPECT_EQ(refusal("/dev/zero", &message), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(message.find("character device"), std::string::npos) << message;
  EXPECT_EQ(refusal("/proc/self/status", &message), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(message.find("/proc"), std::string::npos) << message;

  std::string socket_path = scratch("model.bin");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(refusal(socket_path, &message), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(message.find("socket"), std::string::npos) << message;
  close(fd);

  // In a model folder: a FIFO where the weights should be is refused, not skipped or waited on.
  std::string folder = scratch("fifo_folder");
  mkdir(folder.c_str(), 0755);
  ASSERT_EQ(mkfifo((folder + "/model.safetensors").c_str(), 0644), 0);
  EXPECT_EQ(refusal(folder, &message), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(message.find("FIFO"), std::string::npos) << message;
}

TEST(InspectBoundaries, AFifoConfigJsonBesideTheWeightsIsIgnored) {
  std::string folder = scratch("fifo_config");
  mkdir(folder.c_str(), 0755);
  write(folder + "/model.safetensors", u8_tensors({"w"}));
  ASSERT_EQ(mkfifo((folder + "/config.json").c_str(), 0644), 0);
  ct::ModelInfo info = ct::inspect_checkpoint(folder);
  EXPECT_EQ(info.num_parameters, 1u);
  EXPECT_EQ(info.files.size(), 1u);
}

TEST(InspectBoundaries, AConfigJsonOverItsCapIsIgnored) {
  std::string folder = scratch("big_config");
  mkdir(folder.c_str(), 0755);
  write(folder + "/model.safetensors", u8_tensors({"w"}));
  // 5 MB: a model config is kilobytes; this one's architectures would otherwise name the type.
  write(folder + "/config.json", "{\"architectures\":[\"Big\"],\"pad\":\"" + std::string(5u << 20, 'x') + "\"}");
  ct::ModelInfo info = ct::inspect_checkpoint(folder);
  EXPECT_EQ(info.type, "safetensors");
  write(folder + "/config.json", "{\"architectures\":[\"Small\"],\"hidden_size\":9007199254740993}");
  info = ct::inspect_checkpoint(folder);
  EXPECT_EQ(info.type, "Small");
  EXPECT_FALSE(info.architecture.d_model);  // above 2^53: not passed on as a rounded number
}

std::string index_json(const std::string& weight_map) {
  return "{\"metadata\":{\"total_size\":3},\"weight_map\":{" + weight_map + "}}";
}

TEST(InspectBoundaries, ShardPathsMustStayBesideTheIndex) {
  std::string folder = scratch("escape");
  mkdir(folder.c_str(), 0755);
  std::string message;
  for (const char* shard : {"../model.safetensors", "/etc/passwd", "a/../../x", "./x.safetensors", "a//b", ""}) {
    write(folder + "/model.safetensors.index.json", index_json("\"w\":\"" + std::string(shard) + "\""));
    EXPECT_EQ(refusal(folder + "/model.safetensors.index.json", &message), ErrorCode::kCorrupt) << shard;
    EXPECT_NE(message.find("not a file beside the index"), std::string::npos) << message;
  }
  write(folder + "/model.safetensors.index.json", index_json("\"w\":3"));
  EXPECT_EQ(refusal(folder + "/model.safetensors.index.json"), ErrorCode::kCorrupt);
  write(folder + "/model.safetensors.index.json", "{\"metadata\":{}}");
  EXPECT_EQ(refusal(folder + "/model.safetensors.index.json"), ErrorCode::kUnsupportedFormat);
}

TEST(InspectBoundaries, AFifoShardIsRefusedNamingTheShard) {
  std::string folder = scratch("fifo_shard");
  mkdir(folder.c_str(), 0755);
  write(folder + "/a.safetensors", u8_tensors({"w"}));
  ASSERT_EQ(mkfifo((folder + "/b.safetensors").c_str(), 0644), 0);
  write(folder + "/model.safetensors.index.json", index_json("\"w\":\"a.safetensors\",\"v\":\"b.safetensors\""));
  std::string message;
  EXPECT_EQ(refusal(folder + "/model.safetensors.index.json", &message), ErrorCode::kUnsupportedFormat);
  EXPECT_EQ(message.rfind(folder + "/b.safetensors: ", 0), 0u) << message;
}

TEST(InspectBoundaries, ATensorInTwoShardsCountsOnce) {
  std::string folder = scratch("two_shards");
  mkdir(folder.c_str(), 0755);
  // b is in both files; the map places it in B. d is in both and not in the map: taken once.
  write(folder + "/A.safetensors", u8_tensors({"a", "b", "d"}));
  write(folder + "/B.safetensors", u8_tensors({"b", "c", "d"}));
  write(folder + "/model.safetensors.index.json",
        index_json("\"a\":\"A.safetensors\",\"b\":\"B.safetensors\",\"c\":\"B.safetensors\""));
  ct::ModelInfo info = ct::inspect_checkpoint(folder + "/model.safetensors.index.json");
  EXPECT_EQ(info.num_tensors, 4u);
  EXPECT_EQ(info.num_parameters, 4u);
  EXPECT_EQ(info.format, "safetensors-sharded");
  // A tensor named twice in the map keeps its last shard (as Python's json does).
  write(folder + "/model.safetensors.index.json",
        index_json("\"a\":\"B.safetensors\",\"a\":\"A.safetensors\",\"b\":\"B.safetensors\",\"c\":\"B.safetensors\""));
  EXPECT_EQ(ct::inspect_checkpoint(folder + "/model.safetensors.index.json").num_tensors, 4u);
  // The map places c in A, which lacks it.
  write(folder + "/model.safetensors.index.json", index_json("\"a\":\"A.safetensors\",\"c\":\"A.safetensors\""));
  std::string message;
  EXPECT_EQ(refusal(folder + "/model.safetensors.index.json", &message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find("places c here"), std::string::npos) << message;
}

TEST(InspectBoundaries, AMillionWeightMapEntriesParseInOnePass) {
  std::string map;
  map.reserve(40u << 20);
  for (int i = 0; i < 1'000'000; ++i) {
    if (i > 0) map += ",";
    map += "\"layers." + std::to_string(i) + ".weight\":\"model-" + std::to_string(i % 100) + ".safetensors\"";
  }
  ct::ShardedIndex index = ct::parse_sharded_index(index_json(map), {});
  EXPECT_EQ(index.shard_of.size(), 1'000'000u);
  EXPECT_EQ(index.shards.size(), 100u);
  EXPECT_EQ(index.placed[7], 10'000u);
}

TEST(InspectBoundaries, TheBudgetAndTheCancelFlagReachTheReaders) {
  std::string path = scratch("many.safetensors");
  std::string header = "{";
  for (int i = 0; i < 20'000; ++i) header += (i ? "," : "") + tensor_entry("t" + std::to_string(i), "U8", "[0]", 0, 0);
  write(path, safetensors_file(header + "}", 0));
  ct::WorkBudget tiny(1000);
  ct::ReadLimits limits;
  limits.budget = &tiny;
  std::string message;
  EXPECT_EQ(refusal(path, &message, limits), ErrorCode::kLimitExceeded);
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  std::atomic<bool> cancelled{true};
  ct::WorkBudget budget(ct::kInspectionWorkUnits, &cancelled);
  limits.budget = &budget;
  EXPECT_EQ(refusal(path, &message, limits), ErrorCode::kAborted);
  EXPECT_EQ(ct::inspect_checkpoint(path).num_tensors, 20'000u);  // its own default budget: enough
}

}  // namespace
