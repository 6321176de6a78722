// Where the model is in what a torch.save pickle holds: a state dict, a whole pickled module, or a
// training checkpoint that nests them (model / state_dict / module ...) beside optimizer state and
// config dicts. Shared by the zip and legacy formats.
#pragma once

#include "../pickle/pickle_machine.h"
#include "checkpoint_contents.h"
#include "torch_rebuild.h"

namespace ct {

// Chooses what to count in the root object and fills `out` (tensors, roles, optimizer facts,
// architecture fields from config dicts). Throws UNSUPPORTED_FORMAT when no weights are found.
void read_pickled_model(PickleRef root, TensorDecoder& decoder, const ReadLimits& limits, CheckpointContents& out);

}  // namespace ct
