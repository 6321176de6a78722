#include "tree_memory.h"

#include <cstdint>

namespace ct::gpu {

void attribute_tree_memory(std::vector<ProcessMemory> processes, const std::set<int>& tree, const std::string& lister,
                           const std::string& context_name, DeviceSample& out) {
  std::uint64_t total = 0;
  bool any = false;
  bool known = false;
  bool unknown = false;
  for (ProcessMemory& process : processes) {
    process.in_tree = tree.count(process.pid) != 0;
    if (!process.in_tree) continue;
    any = true;
    if (process.used_bytes) {
      total += *process.used_bytes;
      known = true;
    } else {
      unknown = true;
    }
  }
  out.processes = std::move(processes);
  if (tree.empty()) {
    out.tree_memory_note = "no process is watched";
  } else if (any) {
    if (known) out.tree_memory_bytes = total;  // what is known; null when nothing is
    if (unknown) out.tree_memory_note = "the memory of some of the tree's processes is not available";
  } else if (out.processes.empty()) {
    out.tree_memory_bytes = 0;  // nothing runs on this GPU at all
  } else {
    out.tree_memory_note = lister + " lists " + std::to_string(out.processes.size()) +
                           " process(es) on this GPU and none is in the watched tree: it has no " + context_name +
                           " context here, or " + lister + " reports PIDs of another PID namespace";
  }
}

}  // namespace ct::gpu
