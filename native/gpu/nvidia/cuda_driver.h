// The CUDA driver API, opened only to read the driver's CUDA version. cuDriverGetVersion needs
// no cuInit, and cuInit is never called: it would poison CUDA in children this process forks.
#pragma once

#include <optional>
#include <string>

namespace ct {

// 1000 * major + 10 * minor (12040 for CUDA 12.4), or nullopt when the library or the call is
// unavailable.
std::optional<int> cuda_driver_version(const std::string& library_path);

}  // namespace ct
