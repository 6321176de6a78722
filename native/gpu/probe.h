// The GPU probe, for every vendor: each vendor's host query runs once per process (and again
// after fork) on a thread of its own, waited for at most options.timeout_ms; then the watched
// process's visibility variables pick its GPUs. Never throws for driver trouble: reasons come
// back as data.
#pragma once

#include "device.h"

namespace ct::gpu {

GpuReport probe_gpus(const GpuOptions& options);

// Why no GPU is usable, from the vendors' own answers: those whose driver is present when any is
// (an AMD host without NVIDIA's library says only what is wrong with its AMD driver), else all.
void explain_unavailable(GpuReport& report);

}  // namespace ct::gpu
