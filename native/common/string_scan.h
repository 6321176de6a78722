// The scan both JSON readers share (the JSON reader's strings, the direct pass over safetensors
// headers): how many bytes from `p` need no attention inside a JSON string, that is, until the
// first '"', '\\', control character or non-ASCII byte. Sixteen bytes a step with SSE2 (a signed
// compare with 0x20 catches both of the last two), eight with a word trick, then one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ct {

inline std::size_t plain_string_bytes(const char* p, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; n - i >= 16; i += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')), _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))),
                                   _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20)));
    int mask = _mm_movemask_epi8(special);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  // Eight bytes at a time: nonzero when any of them may be special (a false positive only sends
  // the scan to the byte loop).
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto zero_byte = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
  for (; n - i >= 8; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, p + i, 8);
    if ((zero_byte(x ^ (ones * '"')) | zero_byte(x ^ (ones * '\\')) | ((x - ones * 0x20) & ~x & highs) | (x & highs)) != 0) break;
  }
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
  }
  return n;
}

}  // namespace ct
