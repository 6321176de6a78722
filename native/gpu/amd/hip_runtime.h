// The HIP runtime this host would load (libamdhip64), for the record: its version as its file
// name gives it. ROCm installs libamdhip64.so.MAJOR.MINOR.PATCH, PATCH being the ROCm release in
// ROCm's own builds (libamdhip64.so.6.2.60200 is HIP 6.2 of ROCm 6.2.0).
//
// hipRuntimeGetVersion and hipDriverGetVersion are not called: both start the whole HIP runtime
// first (clr, hipamd/src/hip_context.cpp: HIP_INIT_API_NO_RETURN), which opens /dev/kfd and makes
// this process a GPU process on every GPU (ROCm SMI then lists the tracker beside the trainer),
// and both return the same compiled-in HIP_VERSION.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "../device.h"

namespace ct::gpu {

// Loads the first of `candidates` that loads and exports hipRuntimeGetVersion (never calling it);
// nullopt when none does or its file name carries no version.
std::optional<RuntimeVersion> hip_runtime_version(const std::vector<std::string>& candidates);

// "6.2.60200" from ".../libamdhip64.so.6.2.60200"; nullopt for a name without a version.
std::optional<std::string> hip_version_from_path(const std::string& path);

}  // namespace ct::gpu
