// torch.save zip archives (the default since torch 1.6): state dicts, training checkpoints and
// whole pickled modules. Only the archive directory and data.pkl are read.
#pragma once

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

// Reads a torch.save zip, or a TorchScript archive (torchscript.h) when the zip is one.
CheckpointContents read_torch_zip(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
