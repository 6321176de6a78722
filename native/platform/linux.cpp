// Linux: getrandom, /proc, fstatfs, unshare(CLONE_FILES), madvise, dl_iterate_phdr.
#include "platform.h"

#include <sstream>

namespace ct::platform {

bool parse_proc_stat(const std::string& line, ProcessEntry& out) {
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
  //  stime cutime cstime priority nice threads itrealvalue starttime vsize rss ..."; comm may
  // hold spaces and parentheses, so fields are counted after the last ')'.
  std::size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  long long values[21] = {};  // fields 4..24 (1-based in proc(5)); 25, rsslim, can overflow
  fields >> state;
  for (long long& value : values) {
    if (!(fields >> value)) return false;
  }
  out.ppid = static_cast<int>(values[0]);                                     // field 4
  out.cpu_ticks = static_cast<unsigned long long>(values[10] + values[11]);  // 14 utime, 15 stime
  out.start_ticks = static_cast<unsigned long long>(values[18]);             // 22 starttime
  out.rss_pages = values[20];                                                 // 24 rss
  return true;
}

}  // namespace ct::platform

#if defined(__linux__)

#include <dirent.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ct::platform {
namespace {

constexpr long kProcMagic = 0x9fa0;       // PROC_SUPER_MAGIC (linux/magic.h)
constexpr long kSysfsMagic = 0x62656572;  // SYSFS_MAGIC

// Reads a small /proc file whole (they are generated on read; one read(2) gets them).
template <std::size_t Size = 4096>
bool read_small_file(const char* path, std::string& out) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[Size];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  ::close(fd);
  if (n <= 0) return false;
  out.assign(buffer, static_cast<std::size_t>(n));
  return true;
}

// Closes every descriptor from 3 up in this thread's table (a copy of the process's when it was
// made): a copy kept open here would keep what the rest of the process closes open, such as the
// write end of a child's stdout pipe, whose reader would then never see the end.
void close_copied_descriptors() {
#if defined(SYS_close_range)
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;  // Linux 5.9 and newer
#endif
  // /proc/thread-self: /proc/self would list the process's table, not this thread's.
  std::vector<int> open_fds;
  if (DIR* dir = opendir("/proc/thread-self/fd")) {
    int own = dirfd(dir);
    while (struct dirent* entry = readdir(dir)) {
      int fd = std::atoi(entry->d_name);
      if (fd > 2 && fd != own) open_fds.push_back(fd);
    }
    closedir(dir);
  }
  for (int fd : open_fds) close(fd);
}

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

}  // namespace

bool random_bytes(void* out, std::size_t size) {
  // The raw system call: no libc symbol newer than the glibc floor (getrandom() is 2.25).
  return syscall(SYS_getrandom, out, size, 0) == static_cast<long>(size);
}

bool is_kernel_pseudo_file(int fd) {
  struct statfs fs {};
  return fstatfs(fd, &fs) == 0 && (fs.f_type == kProcMagic || fs.f_type == kSysfsMagic);
}

bool lstat_figures(const char* path, double out[6]) {
  struct stat info;
  if (lstat(path, &info) != 0) return false;
  out[0] = static_cast<double>(info.st_size);
  out[1] = static_cast<double>(info.st_mtim.tv_sec);
  out[2] = static_cast<double>(info.st_mtim.tv_nsec);
  out[3] = static_cast<double>(info.st_ctim.tv_sec);
  out[4] = static_cast<double>(info.st_ctim.tv_nsec);
  out[5] = static_cast<double>(info.st_ino);
  return true;
}

void advise_huge_pages(const void* memory, std::size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  auto begin = (reinterpret_cast<std::uintptr_t>(memory) + kHuge - 1) & ~(kHuge - 1);
  auto end = (reinterpret_cast<std::uintptr_t>(memory) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)memory;
  (void)bytes;
#endif
}

std::string silence_thread_descriptors() {
  if (unshare(CLONE_FILES) != 0) return std::string("unshare(CLONE_FILES): ") + std::strerror(errno);
  close_copied_descriptors();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return std::string("/dev/null: ") + std::strerror(errno);
  dup2(null_fd, STDIN_FILENO);  // nor a copy of the process's stdin
  dup2(null_fd, STDOUT_FILENO);
  dup2(null_fd, STDERR_FILENO);
  close(null_fd);
  return "";
}

bool list_processes(std::vector<ProcessEntry>& out, std::string& note) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    note = "/proc is not readable";
    return false;
  }
  std::string line;
  char path[64];
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    std::snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    ProcessEntry process;
    process.pid = static_cast<int>(pid);
    if (read_small_file(path, line) && parse_proc_stat(line, process)) out.push_back(process);
  }
  closedir(proc);
  return true;
}

std::optional<double> boot_seconds() {
  timespec now{};
  if (clock_gettime(CLOCK_BOOTTIME, &now) == 0) return now.tv_sec + now.tv_nsec / 1e9;
  return std::nullopt;
}

HostMemory host_memory() {
  HostMemory memory;
  std::string text;
  if (!read_small_file<8192>("/proc/meminfo", text)) return memory;  // a few KB
  auto field = [&](const char* name) -> std::optional<std::uint64_t> {
    std::size_t at = text.find(name);
    if (at == std::string::npos) return std::nullopt;
    unsigned long long kib = std::strtoull(text.c_str() + at + std::strlen(name), nullptr, 10);
    return static_cast<std::uint64_t>(kib) * 1024;
  };
  memory.total_bytes = field("MemTotal:");
  memory.available_bytes = field("MemAvailable:");
  return memory;
}

std::string loaded_object_path(const void* address) {
  ObjectSearch search{address, ""};
  dl_iterate_phdr(find_object, &search);
  return search.path;
}

}  // namespace ct::platform

#endif  // __linux__
