// The hash of the readers' in-memory tables (tensor names, identities, zip entry names): eight
// bytes a step, inline. std::hash (Murmur, out of line) cost ~100 instructions a 45-byte name;
// this ~25. The seed differs from process to process (the table's address space layout), so
// crafted names cannot count on colliding.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ct {

inline std::uint64_t text_hash(std::string_view text) {
  static const std::uint64_t seed = reinterpret_cast<std::uintptr_t>(&seed) * 0x9E3779B97F4A7C15ull;
  constexpr std::uint64_t kMul = 0xff51afd7ed558ccdull;
  std::uint64_t h = seed ^ (text.size() * 0xc4ceb9fe1a85ec53ull);
  const char* p = text.data();
  std::size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  }
  if (n > 0) {
    std::uint64_t word = 0;  // the last 1 to 7 bytes, little-endian, built byte by byte (no memcpy call)
    for (std::size_t i = 0; i < n; ++i) word |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h;
}

}  // namespace ct
