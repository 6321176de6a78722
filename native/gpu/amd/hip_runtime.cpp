#include "hip_runtime.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#include "../../common/dynamic_library.h"
#include "../../platform/platform.h"

namespace ct::gpu {

std::optional<std::string> hip_version_from_path(const std::string& path) {
  const std::string marker = "libamdhip64.so.";
  std::size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.compare(0, marker.size(), marker) != 0) return std::nullopt;
  std::string version = name.substr(marker.size());
  // MAJOR.MINOR.PATCH (a build's PATCH may carry "-githash"): at least three numbers.
  std::size_t numbers = 0;
  std::size_t i = 0;
  while (i < version.size() && numbers < 3) {
    std::size_t start = i;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9') ++i;
    if (i == start || i - start > 9) return std::nullopt;
    ++numbers;
    if (numbers < 3) {
      if (i >= version.size() || version[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (numbers < 3) return std::nullopt;
  return version.substr(0, i);
}

std::optional<RuntimeVersion> hip_runtime_version(const std::vector<std::string>& candidates) {
  for (const std::string& candidate : candidates) {
    std::string error;
    DynamicLibrary hip = DynamicLibrary::open(candidate, error);
    void* marker = hip.symbol("hipRuntimeGetVersion");
    if (marker == nullptr) continue;
    std::string path = platform::loaded_object_path(marker);
    if (path.empty()) return std::nullopt;
    char resolved[PATH_MAX];
    std::string file = realpath(path.c_str(), resolved) != nullptr ? resolved : path;
    std::optional<std::string> version = hip_version_from_path(file);
    if (!version) return std::nullopt;
    return RuntimeVersion{"hip", *version, std::nullopt};
  }
  return std::nullopt;
}

}  // namespace ct::gpu
