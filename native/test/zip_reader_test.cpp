// The zip reader against archives written by torch.save, by Info-ZIP (ZIP64 records forced with
// -fz, and deflate), and a synthetic archive whose entries lie past 4 GiB.
#include "zip_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "byte_source.h"
#include "checkpoint_error.h"

using ct::CheckpointError;
using ct::ErrorCode;
using ct::ZipReader;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(FIXTURES_DIR) + "/checkpoints/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void put16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, static_cast<std::uint16_t>(v & 0xffff));
  put16(s, static_cast<std::uint16_t>(v >> 16));
}
void put64(std::string& s, std::uint64_t v) {
  put32(s, static_cast<std::uint32_t>(v & 0xffffffffu));
  put32(s, static_cast<std::uint32_t>(v >> 32));
}

// A virtual file: a few byte ranges placed at arbitrary offsets, zeros elsewhere. Lets a test
// build an archive of more than 4 GiB without writing it.
class SparseSource : public ct::ByteSource {
 public:
  void place(std::uint64_t offset, std::string bytes) {
    size_ = std::max<std::uint64_t>(size_, offset + bytes.size());
    parts_[offset] = std::move(bytes);
  }
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, void* out, std::size_t length) const override {
    check_range(offset, length);
    std::memset(out, 0, length);
    for (const auto& [start, bytes] : parts_) {
      std::uint64_t lo = std::max(start, offset);
      std::uint64_t hi = std::min<std::uint64_t>(start + bytes.size(), offset + length);
      if (lo < hi) std::memcpy(static_cast<char*>(out) + (lo - offset), bytes.data() + (lo - start), hi - lo);
    }
  }

 private:
  std::uint64_t size_ = 0;
  std::map<std::uint64_t, std::string> parts_;
};

}  // namespace

TEST(ZipReader, ReadsATorchSaveArchive) {
  ct::MemorySource source(fixture("cnn_state_dict.pt"));
  ZipReader zip(source);  // torch's writer always adds ZIP64 end records
  const ct::ZipEntry* pickle = zip.find("cnn_state_dict/data.pkl");
  ASSERT_NE(pickle, nullptr);
  EXPECT_EQ(pickle->method, 0);
  std::string data = zip.read(*pickle, 1 << 20);
  EXPECT_EQ(data.substr(0, 2), "\x80\x02");
  EXPECT_EQ(data.back(), '.');
  EXPECT_NE(zip.find("cnn_state_dict/version"), nullptr);
  EXPECT_NE(zip.find("cnn_state_dict/data/0"), nullptr);
}

TEST(ZipReader, Zip64RecordsAndDeflateGiveTheSameEntries) {
  ct::MemorySource plain_source(fixture("cnn_state_dict.pt"));
  ct::MemorySource zip64_source(fixture("cnn_zip64.pt"));
  ct::MemorySource deflated_source(fixture("deflated.pt"));
  ZipReader plain(plain_source), zip64(zip64_source), deflated(deflated_source);
  EXPECT_TRUE(zip64.is_zip64());
  std::string expected = plain.read(*plain.find("cnn_state_dict/data.pkl"), 1 << 20);
  EXPECT_EQ(zip64.read(*zip64.find("cnn_state_dict/data.pkl"), 1 << 20), expected);
  const ct::ZipEntry* compressed = deflated.find("cnn_state_dict/data.pkl");
  ASSERT_NE(compressed, nullptr);
  EXPECT_EQ(compressed->method, 8);
  EXPECT_EQ(deflated.read(*compressed, 1 << 20), expected);
  for (const ct::ZipEntry& entry : plain.entries()) {
    const ct::ZipEntry* other = zip64.find(entry.name);
    ASSERT_NE(other, nullptr) << entry.name;
    EXPECT_EQ(other->uncompressed_size, entry.uncompressed_size) << entry.name;
  }
}

TEST(ZipReader, EntriesPastFourGibibytes) {
  // One stored entry "big/data.pkl" at offset 5 GiB, described only through ZIP64 fields.
  const std::uint64_t local_offset = 5ull << 30;
  const std::string name = "big/data.pkl";
  const std::string content = "\x80\x02N.";
  std::string local;
  put32(local, 0x04034b50);
  put16(local, 45);
  put16(local, 0);
  put16(local, 0);
  put32(local, 0);
  put32(local, 0);
  put32(local, 0xffffffffu);
  put32(local, 0xffffffffu);
  put16(local, static_cast<std::uint16_t>(name.size()));
  put16(local, 0);
  local += name + content;

  std::string central;
  put32(central, 0x02014b50);
  put16(central, 45);
  put16(central, 45);
  put16(central, 0);
  put16(central, 0);
  put32(central, 0);
  put32(central, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(content.data()), content.size())));
  put32(central, 0xffffffffu);
  put32(central, 0xffffffffu);
  put16(central, static_cast<std::uint16_t>(name.size()));
  put16(central, 28);
  put16(central, 0);
  put16(central, 0);
  put16(central, 0);
  put32(central, 0);
  put32(central, 0xffffffffu);
  central += name;
  put16(central, 0x0001);
  put16(central, 24);
  put64(central, content.size());
  put64(central, content.size());
  put64(central, local_offset);

  const std::uint64_t cd_offset = local_offset + local.size();
  const std::uint64_t eocd64_offset = cd_offset + central.size();
  std::string tail;
  put32(tail, 0x06064b50);
  put64(tail, 44);
  put16(tail, 45);
  put16(tail, 45);
  put32(tail, 0);
  put32(tail, 0);
  put64(tail, 1);
  put64(tail, 1);
  put64(tail, central.size());
  put64(tail, cd_offset);
  put32(tail, 0x07064b50);
  put32(tail, 0);
  put64(tail, eocd64_offset);
  put32(tail, 1);
  put32(tail, 0x06054b50);
  put16(tail, 0);
  put16(tail, 0);
  put16(tail, 0xffff);
  put16(tail, 0xffff);
  put32(tail, 0xffffffffu);
  put32(tail, 0xffffffffu);
  put16(tail, 0);

  SparseSource source;
  source.place(local_offset, local);
  source.place(cd_offset, central);
  source.place(eocd64_offset, tail);
  ZipReader zip(source);
  EXPECT_TRUE(zip.is_zip64());
  ASSERT_EQ(zip.entries().size(), 1u);
  EXPECT_EQ(zip.entries()[0].local_header_offset, local_offset);
  EXPECT_EQ(zip.read(zip.entries()[0], 100), content);
  EXPECT_LT(source.bytes_read(), 1u << 17);  // the reader never walked the 5 GiB
}

TEST(ZipReader, EveryTruncationIsReportedAsSuch) {
  std::string whole = fixture("cnn_state_dict.pt");
  for (std::size_t cut = 0; cut < whole.size(); cut += 97) {
    ct::MemorySource source(whole.substr(0, cut));
    try {
      ZipReader zip(source);
      ADD_FAILURE() << "cut at " << cut << " parsed";
    } catch (const CheckpointError& error) {
      EXPECT_EQ(error.code(), ErrorCode::kTruncated) << "cut at " << cut << ": " << error.what();
    }
  }
}

TEST(ZipReader, CorruptedBytesNeverCrash) {
  std::string whole = fixture("cnn_state_dict.pt");
  std::mt19937 random(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string copy = whole;
    int flips = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < flips; ++i) {
      // Aim at the end records and the central directory, where the structure lives.
      std::size_t at = copy.size() - 1 - random() % std::min<std::size_t>(copy.size(), 2048);
      copy[at] = static_cast<char>(random());
    }
    ct::MemorySource source(copy);
    try {
      ZipReader zip(source);
      for (const ct::ZipEntry& entry : zip.entries()) {
        if (entry.uncompressed_size < (1u << 20)) zip.read(entry, 1u << 20);
      }
    } catch (const CheckpointError&) {
      // fine: a clean error
    }
  }
}

TEST(ZipReader, OversizedEntryIsALimitNotAnAllocation) {
  ct::MemorySource source(fixture("deflate_bomb.pt"));
  ZipReader zip(source);
  try {
    zip.read(zip.entries().at(0), 256u << 20);
    FAIL() << "read a 300 MiB entry";
  } catch (const CheckpointError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  }
}
