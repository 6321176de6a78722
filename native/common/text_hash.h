// The hash of the readers' in-memory tables (tensor names, identities, zip entry names, memo
// indices): eight bytes a step, inline, keyed by a secret drawn once per process from the kernel
// (platform::random_bytes). Each step folds a 128-bit product of the word and the state, both mixed with
// secret words (as wyhash does), so a file cannot be built to make its names or indices collide:
// which inputs collide depends on the key, and a difference in one word is not undone by the next.
// std::hash (Murmur with a fixed seed, the identity for integers) allows exactly that, and a
// table filled with such keys turns quadratic.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../platform/platform.h"

namespace ct {

namespace hash_detail {

struct Key {
  std::uint64_t a, b, c;
};

inline std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline const Key& key() {
  static const Key k = [] {
    std::uint64_t seed = 0;
    if (!platform::random_bytes(&seed, sizeof(seed))) {
      seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
             reinterpret_cast<std::uintptr_t>(&seed);
    }
    return Key{splitmix(seed) | 1, splitmix(seed) | 1, splitmix(seed)};
  }();
  return k;
}

inline std::uint64_t fold(std::uint64_t x, std::uint64_t y) {
  unsigned __int128 product = static_cast<unsigned __int128>(x) * y;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

}  // namespace hash_detail

inline std::uint64_t text_hash(std::string_view text) {
  const hash_detail::Key& k = hash_detail::key();
  std::uint64_t h = k.c ^ text.size();
  const char* p = text.data();
  std::size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word = 0;
    for (int i = 0; i < 8; ++i) word |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    h = hash_detail::fold(word ^ k.a, h ^ k.b);
  }
  if (n > 0) {
    std::uint64_t word = 0;  // the last 1 to 7 bytes, little-endian
    for (std::size_t i = 0; i < n; ++i) word |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    h = hash_detail::fold(word ^ k.a, h ^ k.b);
  }
  return hash_detail::fold(h ^ k.a, k.b ^ k.c);
}

inline std::uint64_t integer_hash(std::uint64_t value) {
  const hash_detail::Key& k = hash_detail::key();
  return hash_detail::fold(hash_detail::fold(value ^ k.a, k.b), k.c | 1);
}

// For std::unordered_map / set over names a file chooses.
struct TextHash {
  std::size_t operator()(std::string_view text) const { return static_cast<std::size_t>(text_hash(text)); }
  std::size_t operator()(const std::string& text) const { return static_cast<std::size_t>(text_hash(text)); }
};

// For tables over integers a file chooses (the pickle memo's far-off indices).
struct IntegerHash {
  std::size_t operator()(std::uint64_t value) const { return static_cast<std::size_t>(integer_hash(value)); }
};

}  // namespace ct
