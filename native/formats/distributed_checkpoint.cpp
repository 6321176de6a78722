#include "distributed_checkpoint.h"

#include "../common/checkpoint_error.h"
#include "../checkpoint/dtypes.h"
#include "../checkpoint/torch_rebuild.h"
#include "../pickle/pickle_machine.h"

namespace ct {

using Kind = PickleKind;

CheckpointContents read_distributed_metadata(const ByteSource& source, const ReadLimits& limits) {
  if (source.size() > limits.max_pickle_bytes) fail(ErrorCode::kLimitExceeded, ".metadata is too large");
  std::string pickle = source.read_string(0, static_cast<std::size_t>(source.size()));
  PickleLimits pickle_limits;
  pickle_limits.budget = limits.budget;
  PickleMachine machine(pickle_limits, PickleDialect::kDistributedCheckpoint);
  PickleRef root = machine.load(pickle);
  PickleRef entries = object_state(root).get("state_dict_metadata").as_dict();
  if (!entries) fail(ErrorCode::kUnsupportedFormat, ".metadata is not torch.distributed.checkpoint metadata");

  CheckpointContents out;
  out.format = "torch-distributed-checkpoint";
  // The optimizer's entries ("optim.state.0.exp_avg", ...) are not the model's. The rest is the
  // model: saved as {"model": ..., "optim": ...} when every one of them starts with "model." (a
  // model's own names may start so too, as Hugging Face's model.layers... beside lm_head.weight).
  auto optimizer_entry = [](std::string_view name) { return name.substr(0, name.find('.')).rfind("optim", 0) == 0; };
  bool nested = false;
  bool all_nested = true;
  for (std::size_t i = 0, n = entries.size(); i < n; ++i) {
    charge(limits);
    std::optional<std::string_view> name = entries.key(i).string();
    if (!name || optimizer_entry(*name)) continue;
    bool under_model = name->rfind("model.", 0) == 0;
    nested = nested || under_model;
    all_nested = all_nested && under_model;
  }
  if (nested && all_nested) out.state_dict_key = "model";
  for (std::size_t i = 0, n = entries.size(); i < n; ++i) {
    charge(limits);
    std::optional<std::string_view> name = entries.key(i).string();
    PickleRef value = entries.value(i);
    if (!name || !value.callable() || optimizer_entry(*name)) continue;
    if (value.callable().name() != "TensorStorageMetadata") continue;  // BytesStorageMetadata: not a tensor
    PickleRef fields = object_state(value);
    std::string key(*name);
    if (!fields) fail(ErrorCode::kCorrupt, "tensor metadata of " + key + " has no fields");
    std::optional<Shape> size = int_list(fields.get("size"));
    if (!size) fail(ErrorCode::kCorrupt, "tensor metadata of " + key + " has no size");
    const DtypeInfo* dtype = nullptr;
    PickleRef props = fields.get("properties").state();
    PickleRef d = props.is(Kind::kTuple) ? props.item(0) : props.get("dtype");
    if (d.is(Kind::kGlobal)) dtype = dtype_from_torch_name(d.name());
    TensorRecord t;
    t.name = out.text.copy(key);
    t.numel = numel_of(*size);
    t.shape = std::move(*size);
    t.dtype = dtype != nullptr ? dtype->name : "unknown";
    t.element_bits = dtype != nullptr ? dtype->bits : 0;
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace ct
