#include "torch_archive.h"

#include "../common/checkpoint_error.h"

namespace ct {
namespace {

PickleLimits pickle_limits(const ReadLimits& limits) {
  PickleLimits out;
  out.budget = limits.budget;
  return out;
}

}  // namespace

TorchArchive::TorchArchive(const ByteSource& source, const ReadLimits& limits)
    : zip_(source), machine_(pickle_limits(limits)) {
  // The prefix folder is whatever the writer chose (the file's stem, "archive", ...): find it.
  const ZipEntry* pickle_entry = nullptr;
  for (const ZipEntry& entry : zip_.entries()) {
    charge(limits);
    const std::string& name = entry.name;
    std::size_t slash = name.find('/');
    if (name == "data.pkl" || (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0)) {
      pickle_entry = &entry;
      prefix_ = slash == std::string::npos ? "" : name.substr(0, slash + 1);
      break;
    }
  }
  if (pickle_entry == nullptr) fail(ErrorCode::kUnsupportedFormat, "a zip archive without data.pkl: not written by torch.save");
  torchscript_ = zip_.find(prefix_ + "constants.pkl") != nullptr;
  std::string code = prefix_ + "code/";
  for (const ZipEntry& entry : zip_.entries()) {
    if (entry.name.compare(0, code.size(), code) == 0) torchscript_ = true;
  }
  if (const ZipEntry* order = zip_.find(prefix_ + "byteorder")) {
    std::string value = zip_.read(*order, 16);
    if (value != "little" && value != "big") fail(ErrorCode::kCorrupt, "byteorder is neither little nor big");
  }
  pickle_ = zip_.read(*pickle_entry, limits.max_pickle_bytes);
  root_ = machine_.load(pickle_);
}

StorageCheck TorchArchive::storage_check() const {
  // The zip reader has checked that every entry's claimed size is backed by bytes in the file.
  return [this](const StorageRef& ref, std::uint64_t storage_bytes) {
    std::string name = prefix_ + "data/";
    name.append(ref.key.data(), ref.key.size());
    const ZipEntry* data = zip_.find(name);
    std::string key(ref.key);
    if (data == nullptr) fail(ErrorCode::kCorrupt, "storage " + key + " is referenced but missing from the archive");
    if (data->uncompressed_size < storage_bytes) {
      fail(ErrorCode::kCorrupt, "storage " + key + " should hold " + std::to_string(storage_bytes) + " bytes but has " +
                                    std::to_string(data->uncompressed_size));
    }
  };
}

void record_classes_needed(const PickleMachine& machine, CheckpointContents& out) {
  for (const std::string& name : machine.classes_needed()) out.classes_needed.push_back(name);
}

}  // namespace ct
