#include "process_tree.h"

#include <unistd.h>

#include "../../platform/platform.h"

namespace ct::sampler {

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
  std::vector<platform::ProcessEntry> processes;
  if (!platform::list_processes(processes, stats.note)) return stats;
  std::map<int, platform::ProcessEntry> all;
  for (const platform::ProcessEntry& process : processes) all.emplace(process.pid, process);

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

  std::optional<double> now = platform::boot_seconds();
  std::map<int, unsigned long long> ticks;
  unsigned long long used_ticks = 0;
  std::uint64_t rss = 0;
  for (int pid : stats.pids) {
    const platform::ProcessEntry& stat = all[pid];
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
}

}  // namespace ct::sampler
