#include "hip_runtime.h"

#if defined(__linux__)
#include <link.h>
#endif

#include <climits>
#include <cstdlib>
#include <cstring>

#include "../../common/dynamic_library.h"

namespace ct::gpu {
namespace {

#if defined(__linux__)
// The file the loader mapped for the object holding `address`.
struct ObjectSearch {
  const void* address;
  std::string path;
};

int find_object(struct dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<ObjectSearch*>(data);
  auto address = reinterpret_cast<ElfW(Addr)>(search->address);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    ElfW(Addr) start = info->dlpi_addr + segment.p_vaddr;
    if (address >= start && address < start + segment.p_memsz) {
      search->path = info->dlpi_name != nullptr ? info->dlpi_name : "";
      return 1;
    }
  }
  return 0;
}
#endif

}  // namespace

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
#if !defined(__linux__)
  (void)candidates;
  return std::nullopt;  // ROCm is Linux-only
#else
  for (const std::string& candidate : candidates) {
    std::string error;
    DynamicLibrary hip = DynamicLibrary::open(candidate, error);
    void* marker = hip.symbol("hipRuntimeGetVersion");
    if (marker == nullptr) continue;
    ObjectSearch search{marker, ""};
    dl_iterate_phdr(find_object, &search);
    if (search.path.empty()) return std::nullopt;
    char resolved[PATH_MAX];
    std::string file = realpath(search.path.c_str(), resolved) != nullptr ? resolved : search.path;
    std::optional<std::string> version = hip_version_from_path(file);
    if (!version) return std::nullopt;
    return RuntimeVersion{"hip", *version, std::nullopt};
  }
  return std::nullopt;
#endif
}

}  // namespace ct::gpu
