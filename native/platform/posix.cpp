// Every POSIX system but Linux (macOS among them): the portable calls where there are some, and
// an honest "not here" (a note, an empty answer) where a fact needs Linux's /proc. Not built or
// run in CI on a non-Linux system: scripts/check-portable.sh compiles it on Linux, with __linux__
// undefined, to show that it compiles.
#if !defined(__linux__)

#include "platform.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace ct::platform {

bool random_bytes(void* out, std::size_t size) {
  // arc4random_buf: macOS and the BSDs (glibc 2.36 too); it never fails.
  arc4random_buf(out, size);
  return true;
}

bool is_kernel_pseudo_file(int) { return false; }

void advise_huge_pages(const void*, std::size_t) {}

bool lstat_figures(const char* path, double out[6]) {
  struct stat info;
  if (lstat(path, &info) != 0) return false;
#if defined(__APPLE__)
  const struct timespec& modified = info.st_mtimespec;
  const struct timespec& changed = info.st_ctimespec;
#else
  const struct timespec& modified = info.st_mtim;
  const struct timespec& changed = info.st_ctim;
#endif
  out[0] = static_cast<double>(info.st_size);
  out[1] = static_cast<double>(modified.tv_sec);
  out[2] = static_cast<double>(modified.tv_nsec);
  out[3] = static_cast<double>(changed.tv_sec);
  out[4] = static_cast<double>(changed.tv_nsec);
  out[5] = static_cast<double>(info.st_ino);
  return true;
}

std::string silence_thread_descriptors() { return "a private descriptor table needs Linux"; }

bool list_processes(std::vector<ProcessEntry>&, std::string& note) {
  note = "process statistics need Linux's /proc";
  return false;
}

std::optional<double> boot_seconds() { return std::nullopt; }

HostMemory host_memory() {
  HostMemory memory;
#if defined(__APPLE__)
  std::uint64_t bytes = 0;
  std::size_t size = sizeof(bytes);
  if (sysctlbyname("hw.memsize", &bytes, &size, nullptr, 0) == 0) memory.total_bytes = bytes;
#endif
  return memory;
}

std::string loaded_object_path(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_fname != nullptr) return info.dli_fname;
  return "";
}

}  // namespace ct::platform

#endif  // !__linux__
