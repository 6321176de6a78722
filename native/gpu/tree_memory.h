// The GPU memory of the watched process tree, from a vendor's list of the processes on one GPU.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "device.h"

namespace ct::gpu {

// Marks which of `processes` are in `tree`, stores them in `out`, and sets out.tree_memory_bytes
// (the sum of what is known, with a note when some is not), or leaves it null with a note where a
// sum would mislead: none of the tree's memory is known, processes are listed but none is the
// tree's (no GPU context there yet, or the driver lists PIDs of another PID namespace, as in a
// container), or none is watched. `lister` names the library ("NVML"), `context_name` the runtime.
void attribute_tree_memory(std::vector<ProcessMemory> processes, const std::set<int>& tree, const std::string& lister,
                           const std::string& context_name, DeviceSample& out);

}  // namespace ct::gpu
