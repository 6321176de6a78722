#include "dynamic_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <utility>

namespace ct {

DynamicLibrary::~DynamicLibrary() {
  // Driver libraries register atexit handlers and threads; unloading them early is unsafe, so
  // a library stays mapped for the life of the process once opened.
  handle_ = nullptr;
}

DynamicLibrary::DynamicLibrary(DynamicLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

DynamicLibrary& DynamicLibrary::operator=(DynamicLibrary&& other) noexcept {
  handle_ = std::exchange(other.handle_, nullptr);
  return *this;
}

DynamicLibrary DynamicLibrary::open(const std::string& path, std::string& error) {
  // RTLD_NOW: resolve the library's own imports up front, so a broken install fails here and not
  // in the middle of a call. RTLD_LOCAL: keep its symbols out of the global namespace.
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* message = dlerror();
    error = message != nullptr ? message : "dlopen failed";
    return DynamicLibrary();
  }
  error.clear();
  return DynamicLibrary(handle);
}

std::string describe_load_failure(const std::string& path, const std::string& dlerror_text) {
  bool is_file_path = path.find('/') != std::string::npos;
  struct stat info {};
  bool missing = is_file_path ? stat(path.c_str(), &info) != 0 : dlerror_text.find("No such file") != std::string::npos;
  if (missing) return path + " not found";
  return path + " could not be loaded: " + dlerror_text;
}

void* DynamicLibrary::symbol(const char* name) const {
  if (handle_ == nullptr) return nullptr;
  return dlsym(handle_, name);
}

}  // namespace ct
