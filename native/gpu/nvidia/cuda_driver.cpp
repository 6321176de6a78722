#include "cuda_driver.h"

#include "../../common/dynamic_library.h"

namespace ct {

std::optional<int> cuda_driver_version(const std::string& library_path) {
  using DriverGetVersionFn = int (*)(int*);  // CUresult cuDriverGetVersion(int*)
  if (library_path.empty()) return std::nullopt;  // not asked for (the sampler needs no version)
  std::string error;
  DynamicLibrary cuda = DynamicLibrary::open(library_path, error);
  auto get_version = cuda.first_symbol<DriverGetVersionFn>("cuDriverGetVersion");
  if (get_version == nullptr) return std::nullopt;
  int version = 0;
  if (get_version(&version) != 0 || version <= 0) return std::nullopt;
  return version;
}

}  // namespace ct
