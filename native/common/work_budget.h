// A budget of work units for one inspection (a pickle opcode, a JSON token, a zip entry, a node
// visited in a walk). A hostile file that would hold a pool thread for long ends in LIMIT_EXCEEDED
// instead; a caller's cancellation (an AbortSignal, through a flag the binding sets from the JS
// thread) ends it at the next charge with ABORTED.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "checkpoint_error.h"

namespace ct {

// What one inspect_checkpoint may spend: 2^26 units. Measured: the benchmarks' 100,000-tensor
// torch.save file needs 3.8 M units (17x margin; a 1,000,000-tensor file fits too), their
// 100,000-tensor safetensors file 1.2 M (56x); a unit costs ~60 ns there, so a hostile file that
// spends the whole budget holds a pool thread for seconds, not hours.
constexpr std::uint64_t kInspectionWorkUnits = std::uint64_t{1} << 26;

class WorkBudget {
 public:
  explicit WorkBudget(std::uint64_t units, const std::atomic<bool>* cancelled = nullptr)
      : remaining_(units), next_look_(units), cancelled_(cancelled) {}

  void charge(std::uint64_t units = 1) {
    if (units > remaining_) {
      fail(ErrorCode::kLimitExceeded, "the file needs more work to read than any real checkpoint (work budget exhausted)");
    }
    remaining_ -= units;
    // An atomic load is cheap, but not free: look at the flag once per 4096 units spent, however
    // the readers batch their charges (the first charge looks at once).
    if (cancelled_ != nullptr && remaining_ <= next_look_) {
      next_look_ = remaining_ > kUnitsBetweenLooks ? remaining_ - kUnitsBetweenLooks : 0;
      if (cancelled_->load(std::memory_order_relaxed)) fail(ErrorCode::kAborted, "the inspection was aborted");
    }
  }

  std::uint64_t remaining() const { return remaining_; }

 private:
  static constexpr std::uint64_t kUnitsBetweenLooks = 4096;
  std::uint64_t remaining_;
  std::uint64_t next_look_;
  const std::atomic<bool>* cancelled_;
};

}  // namespace ct
