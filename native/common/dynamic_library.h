// A shared library opened with dlopen at run time. Symbols are looked up one by one, so a
// symbol the installed driver lacks leaves its own slot empty instead of failing the load.
#pragma once

#include <string>

namespace ct {

class DynamicLibrary {
 public:
  DynamicLibrary() = default;
  ~DynamicLibrary();
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;
  DynamicLibrary(DynamicLibrary&& other) noexcept;
  DynamicLibrary& operator=(DynamicLibrary&& other) noexcept;

  // Opens `path` (a soname searched the usual way, or a file path). On failure returns an empty
  // library and sets `error` to dlerror()'s text.
  static DynamicLibrary open(const std::string& path, std::string& error);

  bool is_open() const { return handle_ != nullptr; }

  // The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const;

  // The first of `names` the library exports (newest ABI first), or nullptr.
  template <typename Fn, typename... Names>
  Fn first_symbol(Names... names) const {
    for (const char* name : {names...}) {
      if (void* address = symbol(name)) return reinterpret_cast<Fn>(address);
    }
    return nullptr;
  }

 private:
  explicit DynamicLibrary(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

// Why `path` could not be opened, in words: "<path> not found" when there is no such file (or, for a
// bare soname, the loader found none), else "<path> could not be loaded: <dlerror text>".
std::string describe_load_failure(const std::string& path, const std::string& dlerror_text);

}  // namespace ct
