// Architecture from names and shapes: d_model, layers, heads, vocabulary, inferred from the
// parameters' keys when no config says them.
#pragma once

#include <vector>

#include "checkpoint_contents.h"

namespace ct {

ArchitectureFields infer_from_keys(const std::vector<const TensorRecord*>& tensors);

// Fields of `from` fill the ones `into` lacks.
void fill_missing(ArchitectureFields& into, const ArchitectureFields& from);

}  // namespace ct
