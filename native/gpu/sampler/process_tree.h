// The watched process tree (its roots and every descendant) and the host, read from Linux's
// /proc: CPU use and resident memory of the tree, memory of the host. One pass over /proc per
// sample: /proc/<pid>/stat gives each process's parent, CPU ticks and resident pages at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ct::sampler {

struct TreeStats {
  std::set<int> pids;                     // the roots that are alive and their descendants
  std::optional<double> cpu_percent;      // over the last interval; 100 = one core busy
  std::optional<std::uint64_t> rss_bytes; // sum of the processes' resident sets
  std::string note;                       // why a figure is missing
};

struct HostMemory {
  std::optional<std::uint64_t> total_bytes;
  std::optional<std::uint64_t> available_bytes;
};

class ProcessTree {
 public:
  explicit ProcessTree(std::vector<int> roots = {});
  void set_roots(std::vector<int> roots);
  // Reads /proc now. The first call has no CPU figure (it needs a previous reading).
  TreeStats sample();

 private:
  std::vector<int> roots_;
  std::map<int, unsigned long long> previous_ticks_;  // pid -> utime + stime
  std::optional<double> previous_boot_seconds_;
  long ticks_per_second_ = 100;
  long page_size_ = 4096;
};

HostMemory read_host_memory();

// Parses one /proc/<pid>/stat line: parent pid, utime + stime (ticks), start time (ticks after
// boot), resident pages. False for a line that is not one (a process gone mid-read).
struct ProcStat {
  int ppid = 0;
  unsigned long long cpu_ticks = 0;
  unsigned long long start_ticks = 0;
  long long rss_pages = 0;
};
bool parse_proc_stat(const std::string& line, ProcStat& out);

}  // namespace ct::sampler
