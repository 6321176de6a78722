// The readers' table hashes against keys built to collide (found by a hostile-input review): with
// std::hash, pickle memo indices that are multiples of a bucket count all share one bucket, and
// zip entry names made of Murmur-colliding 8-byte word pairs all hash alike, so filling a table
// with them is quadratic. Each test shows the attack on std::hash (the control) and that the
// keyed hashes spread the same keys.
#include "text_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace {

// Names of 10 segments, each either AA or BB, where A and B are 8-byte words whose Murmur mixes
// differ only in the top bit: all 1,024 names hash alike under Murmur whatever its seed.
std::vector<std::string> murmur_colliding_names() {
  auto word = [](std::uint64_t w) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((w >> (8 * i)) & 0xff);
    return out;
  };
  const std::string a = word(0x4141414141414141ull), b = word(0xcfe926dc5afe4141ull);
  std::vector<std::string> names;
  for (int i = 0; i < 1024; ++i) {
    std::string name;  // as a storage key after "archive/data/" (named_storages_ in torch_archive.h)
    for (int j = 0; j < 10; ++j) name += ((i >> j) & 1) ? b + b : a + a;
    names.push_back(name);
  }
  return names;
}

TEST(TextHash, NamesBuiltToCollideUnderMurmurDoNotCollide) {
  std::vector<std::string> names = murmur_colliding_names();
  std::set<std::size_t> murmur, keyed;
  for (const std::string& name : names) {
    murmur.insert(std::hash<std::string>()(name));
    keyed.insert(ct::TextHash()(name));
  }
  EXPECT_EQ(murmur.size(), 1u);  // the attack works on std::hash
  EXPECT_EQ(keyed.size(), names.size());
}

TEST(TextHash, AOneWordDifferenceUndoneByTheNextWordStillDiffers) {
  // The previous hash (xor, multiply, shift per word, the seed only in the initial state)
  // collided on these two for every seed.
  std::string x = "0123456789abcdef", y = x;
  y[7] ^= static_cast<char>(0x80);
  y[12] ^= 0x01;
  y[15] ^= static_cast<char>(0x80);
  EXPECT_NE(ct::text_hash(x), ct::text_hash(y));
}

TEST(TextHash, MemoIndicesThatAreMultiplesOfABucketCountSpreadOut) {
  constexpr std::uint64_t kBuckets = 42043;  // one of libstdc++'s bucket counts
  std::set<std::size_t> identity, keyed;
  for (std::uint64_t k = 1; k <= 10000; ++k) {
    identity.insert(std::hash<std::uint64_t>()(k * kBuckets) % kBuckets);
    keyed.insert(ct::IntegerHash()(k * kBuckets) % kBuckets);
  }
  EXPECT_EQ(identity.size(), 1u);  // every index in bucket 0 under std::hash
  EXPECT_GT(keyed.size(), 8000u);  // ~8,900 distinct for random values: loose on purpose
}

}  // namespace
