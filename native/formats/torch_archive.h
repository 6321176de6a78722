// What torch.save zip archives and TorchScript archives share: the prefix folder, data.pkl run on
// the pickle machine, and the storage check (every data/<key> entry a tensor reads exists and
// holds the bytes the tensor needs).
#pragma once

#include <string>

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../containers/zip_reader.h"
#include "../model/checkpoint_contents.h"
#include "../model/torch_rebuild.h"
#include "../pickle/pickle_machine.h"

namespace ct {

class TorchArchive {
 public:
  TorchArchive(const ByteSource& source, const ReadLimits& limits);  // throws when there is no data.pkl

  bool is_torchscript() const { return torchscript_; }
  const ZipReader& zip() const { return zip_; }
  const std::string& prefix() const { return prefix_; }

  // data.pkl's root value (the machine and the pickle bytes live as long as the archive).
  PickleRef root() const { return root_; }
  const PickleMachine& machine() const { return machine_; }

  // A decoder whose storage check looks the storages up in this archive.
  StorageCheck storage_check() const;

 private:
  ZipReader zip_;
  std::string prefix_;
  bool torchscript_ = false;
  std::string pickle_;
  PickleMachine machine_;
  PickleRef root_;
};

// Copies what the pickle machine learned about safety into the contents.
void record_classes_needed(const PickleMachine& machine, CheckpointContents& out);

}  // namespace ct
