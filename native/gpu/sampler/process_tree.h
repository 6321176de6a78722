// The watched process tree (its roots and every descendant): CPU use and resident memory, from one
// list of the host's processes per sample (platform::list_processes: on Linux one pass over /proc,
// each /proc/<pid>/stat giving a process's parent, CPU ticks and resident pages at once).
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

class ProcessTree {
 public:
  explicit ProcessTree(std::vector<int> roots = {});
  void set_roots(std::vector<int> roots);
  // Reads the process list now. The first call has no CPU figure (it needs a previous reading).
  TreeStats sample();

 private:
  std::vector<int> roots_;
  std::map<int, unsigned long long> previous_ticks_;  // pid -> utime + stime
  std::optional<double> previous_boot_seconds_;
  long ticks_per_second_ = 100;
  long page_size_ = 4096;
};

}  // namespace ct::sampler
