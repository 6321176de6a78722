// TorchScript archives (torch.jit.save): data.pkl holds script objects (__torch__.* classes);
// which attributes are parameters and which are buffers is declared per class in code/.
#pragma once

#include "../common/read_limits.h"
#include "../checkpoint/checkpoint_contents.h"
#include "torch_archive.h"

namespace ct {

CheckpointContents read_torchscript(const TorchArchive& archive, const ReadLimits& limits);

}  // namespace ct
