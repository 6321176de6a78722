// Checked 64-bit arithmetic for every count and size taken from a file: a total that would wrap is
// an error (LIMIT_EXCEEDED), never a small wrong number.
#pragma once

#include <cstdint>
#include <string>

#include "checkpoint_error.h"

namespace ct {

inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) fail(ErrorCode::kLimitExceeded, std::string(what) + " overflows 64 bits");
  return sum;
}

inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) fail(ErrorCode::kLimitExceeded, std::string(what) + " overflows 64 bits");
  return product;
}

// JavaScript numbers hold integers exactly up to 2^53 - 1; a total above it is refused rather than
// rounded on its way to JS.
constexpr std::uint64_t kMaxExactJsInteger = (std::uint64_t{1} << 53) - 1;

}  // namespace ct
