// What the operating system does differently, declared once. linux.cpp defines it for Linux;
// posix.cpp for every other POSIX system (macOS among them), with the portable call where there
// is one and an honest "not here" where there is none. Nothing above this layer includes an OS
// header for these facts or tests __linux__.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ct::platform {

// Fills `out` with bytes from the kernel's random source. False when it gave none.
bool random_bytes(void* out, std::size_t size);

// Whether the open file lives on a kernel pseudo file system (Linux's /proc and /sys): such files
// claim a size they do not have, and some block or have side effects when read.
bool is_kernel_pseudo_file(int fd);

// Asks for huge pages under the whole 2 MiB stretches of [memory, memory + bytes), an anonymous
// block about to be filled: a few page faults instead of thousands. Advice only: ignored where the
// system has none (the memory then has ordinary pages).
void advise_huge_pages(const void* memory, std::size_t bytes);

// Gives the calling thread a descriptor table of its own, holding only 0, 1 and 2 on /dev/null
// (the copies of the process's other descriptors closed). Returns why not, or "" when done.
std::string silence_thread_descriptors();

// One process as the system reports it.
struct ProcessEntry {
  int pid = 0;
  int ppid = 0;
  unsigned long long cpu_ticks = 0;    // user + system time, in clock ticks
  unsigned long long start_ticks = 0;  // start time, in clock ticks after boot
  long long rss_pages = 0;             // resident pages
};

// Every process on the host. False with `note` saying why where the system gives no such list.
bool list_processes(std::vector<ProcessEntry>& out, std::string& note);

// Seconds since boot on the clock list_processes' start_ticks count from.
std::optional<double> boot_seconds();

struct HostMemory {
  std::optional<std::uint64_t> total_bytes;
  std::optional<std::uint64_t> available_bytes;
};
HostMemory host_memory();

// lstat(path) as six figures: size, modification time (seconds, nanoseconds), change time
// (seconds, nanoseconds), inode; a symbolic link's own. False where it fails.
bool lstat_figures(const char* path, double out[6]);

// The path of the loaded object (shared library) whose code holds `address`; "" when unknown.
std::string loaded_object_path(const void* address);

// Parses one Linux /proc/<pid>/stat line into `out` (pid left as is). False for a line that is
// not one (a process gone mid-read). Pure text: defined on every system, for its tests.
bool parse_proc_stat(const std::string& line, ProcessEntry& out);

}  // namespace ct::platform
