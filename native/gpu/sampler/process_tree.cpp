#include "process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ct::sampler {
namespace {

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

std::optional<double> boot_seconds() {
#ifdef CLOCK_BOOTTIME
  timespec now{};
  if (clock_gettime(CLOCK_BOOTTIME, &now) == 0) return now.tv_sec + now.tv_nsec / 1e9;
#endif
  return std::nullopt;
}

}  // namespace

bool parse_proc_stat(const std::string& line, ProcStat& out) {
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
  out.ppid = static_cast<int>(values[0]);                                      // field 4
  out.cpu_ticks = static_cast<unsigned long long>(values[10] + values[11]);   // 14 utime, 15 stime
  out.start_ticks = static_cast<unsigned long long>(values[18]);              // 22 starttime
  out.rss_pages = values[20];                                                  // 24 rss
  return true;
}

ProcessTree::ProcessTree(std::vector<int> roots) : roots_(std::move(roots)) {
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0) ticks_per_second_ = ticks;
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) page_size_ = page;
}

void ProcessTree::set_roots(std::vector<int> roots) { roots_ = std::move(roots); }

TreeStats ProcessTree::sample() {
  TreeStats stats;
  if (roots_.empty()) {
    stats.note = "no process is watched";
    return stats;
  }
#ifndef __linux__
  stats.note = "process statistics need Linux's /proc";
  return stats;
#else
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    stats.note = "/proc is not readable";
    return stats;
  }
  std::map<int, ProcStat> all;
  std::string line;
  char path[64];
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    std::snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    ProcStat stat;
    if (read_small_file(path, line) && parse_proc_stat(line, stat)) all.emplace(static_cast<int>(pid), stat);
  }
  closedir(proc);

  // The tree: the roots alive now, then every process whose parent is in it.
  std::multimap<int, int> children;
  for (const auto& [pid, stat] : all) children.emplace(stat.ppid, pid);
  std::vector<int> pending;
  for (int root : roots_) {
    if (all.count(root) != 0 && stats.pids.insert(root).second) pending.push_back(root);
  }
  while (!pending.empty()) {
    int pid = pending.back();
    pending.pop_back();
    auto range = children.equal_range(pid);
    for (auto it = range.first; it != range.second; ++it) {
      if (stats.pids.insert(it->second).second) pending.push_back(it->second);
    }
  }
  if (stats.pids.empty()) {
    stats.note = "the watched processes have exited";
    previous_ticks_.clear();
    return stats;
  }

  std::optional<double> now = boot_seconds();
  std::map<int, unsigned long long> ticks;
  unsigned long long used_ticks = 0;
  std::uint64_t rss = 0;
  for (int pid : stats.pids) {
    const ProcStat& stat = all[pid];
    ticks[pid] = stat.cpu_ticks;
    if (stat.rss_pages > 0) rss += static_cast<std::uint64_t>(stat.rss_pages) * static_cast<std::uint64_t>(page_size_);
    auto before = previous_ticks_.find(pid);
    if (before != previous_ticks_.end()) {
      if (stat.cpu_ticks >= before->second) used_ticks += stat.cpu_ticks - before->second;
    } else if (previous_boot_seconds_ &&
               static_cast<double>(stat.start_ticks) / ticks_per_second_ >= *previous_boot_seconds_) {
      used_ticks += stat.cpu_ticks;  // started during the interval: all its time is in it
    }
  }
  stats.rss_bytes = rss;
  if (now && previous_boot_seconds_ && *now > *previous_boot_seconds_) {
    stats.cpu_percent = 100.0 * (static_cast<double>(used_ticks) / ticks_per_second_) / (*now - *previous_boot_seconds_);
  }
  previous_ticks_ = std::move(ticks);
  previous_boot_seconds_ = now;
  return stats;
#endif
}

HostMemory read_host_memory() {
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

}  // namespace ct::sampler
