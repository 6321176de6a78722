// What torch.save zip archives and TorchScript archives share: the prefix folder, data.pkl run on
// the pickle machine, and the storage check (every data/<key> entry a tensor reads exists and
// holds the bytes the tensor needs).
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../common/text_hash.h"
#include "../containers/zip_reader.h"
#include "../checkpoint/checkpoint_contents.h"
#include "../checkpoint/torch_rebuild.h"
#include "../pickle/pickle_machine.h"

namespace ct {

class TorchArchive {
 public:
  TorchArchive(const ByteSource& source, const ReadLimits& limits);  // throws when there is no data.pkl

  bool is_torchscript() const { return torchscript_; }
  // The zip directory: kept for TorchScript archives (code/ is read later), released for others.
  const ZipReader& zip() const { return *zip_; }
  const std::string& prefix() const { return prefix_; }

  // data.pkl's root value (the machine and the pickle bytes live as long as the archive).
  PickleRef root() const { return root_; }
  const PickleMachine& machine() const { return machine_; }
  // data.pkl's bytes, and an owner that keeps them alive past the archive (names view them).
  std::string_view pickle_bytes() const { return pickle_; }
  std::shared_ptr<const void> pickle_owner() const { return pickle_buffer_; }

  // A decoder whose storage check looks the storages up in this archive.
  StorageCheck storage_check() const;

 private:
  // Keeps only the sizes of the storage entries and frees the directory (100,000 entries are ~10
  // MiB): a state dict needs nothing else from the zip once data.pkl is read.
  void release_directory();
  // The size of storage `key`'s entry, or nullopt when the archive lacks it.
  std::optional<std::uint64_t> storage_size(std::string_view key) const;

  std::optional<ZipReader> zip_;
  std::string prefix_;
  static constexpr std::uint64_t kAbsent = ~std::uint64_t{0};
  std::vector<std::uint64_t> numbered_storages_;  // data/<n>'s size by n (torch numbers its storages)
  std::vector<const ZipEntry*> named_;  // data/ entries with other keys (none in torch's files)
  std::unordered_map<std::string, std::uint64_t, TextHash> named_storages_;  // their sizes, after release
  bool torchscript_ = false;
  std::shared_ptr<PageBuffer> pickle_buffer_;  // data.pkl
  std::string_view pickle_;
  PickleMachine machine_;
  PickleRef root_;
};

// Copies what the pickle machine learned about safety into the contents.
void record_classes_needed(const PickleMachine& machine, CheckpointContents& out);

}  // namespace ct
