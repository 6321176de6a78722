#include "torch_archive.h"

#include "../common/checkpoint_error.h"
#include "../common/flat_index.h"

namespace ct {
namespace {

PickleLimits pickle_limits(const ReadLimits& limits) {
  PickleLimits out;
  out.budget = limits.budget;
  return out;
}

// "<folder>/data.pkl" or "data.pkl".
bool is_data_pkl(std::string_view name) {
  if (name.empty() || name.back() != 'l') return false;  // most entries: data/<n>
  std::size_t slash = name.find('/');
  return name == "data.pkl" || (slash != std::string_view::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0);
}

[[noreturn]] void twice(std::string_view name) {
  fail(ErrorCode::kCorrupt, "the zip archive has two entries named " + std::string(name) +
                                ": readers would disagree on which one it means");
}

// Storage keys torch writes: 0, 1, 2, ... (decimal, no leading zero, at most 7 digits).
std::optional<std::size_t> storage_number(std::string_view key) {
  if (key.empty() || key.size() > 7 || (key[0] == '0' && key.size() > 1)) return std::nullopt;
  std::size_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

}  // namespace

TorchArchive::TorchArchive(const ByteSource& source, const ReadLimits& limits)
    : machine_(pickle_limits(limits)) {
  zip_.emplace(source, limits.budget);
  // The prefix folder is whatever the writer chose (the file's stem, "archive", ...): data.pkl's.
  // torch writes it first.
  const ZipEntry* pickle_entry = nullptr;
  for (const ZipEntry& entry : zip_->entries()) {
    charge(limits);
    if (is_data_pkl(entry.name)) {
      pickle_entry = &entry;
      std::size_t slash = entry.name.find('/');
      prefix_ = slash == std::string_view::npos ? "" : std::string(entry.name.substr(0, slash + 1));
      break;
    }
  }
  if (pickle_entry == nullptr) fail(ErrorCode::kUnsupportedFormat, "a zip archive without data.pkl: not written by torch.save");
  // One pass over the directory: TorchScript's marks, the byteorder entry, and the storages, which
  // torch names 0, 1, 2, ...: indexed by number, without hashing 100,000 names. The same pass
  // refuses an entry name given twice, and a second data.pkl under another folder: which of two
  // a reader takes depends on the reader (storages by their number, other names in a hash index).
  std::string code = prefix_ + "code/";
  std::string data = prefix_ + "data/";
  std::string constants = prefix_ + "constants.pkl";
  std::string byteorder = prefix_ + "byteorder";
  const ZipEntry* order = nullptr;
  const std::vector<ZipEntry>& entries = zip_->entries();
  numbered_storages_.assign(entries.size() + 1, kAbsent);  // a storage's number is at most the entry count
  FlatIndex other_names;
  auto name_of = [&](std::uint32_t k) { return entries[k].name; };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ZipEntry& entry = entries[i];
    std::string_view name = entry.name;
    if (&entry != pickle_entry && is_data_pkl(name) && name != pickle_entry->name) {
      fail(ErrorCode::kCorrupt, "the archive has two data.pkl entries (" + std::string(pickle_entry->name) + " and " +
                                    std::string(name) + "): readers would disagree on which one is the checkpoint");
    }
    if (name == constants || name.substr(0, code.size()) == code) torchscript_ = true;
    if (name == byteorder) order = &entry;
    bool in_data = name.size() > data.size() && name.compare(0, data.size(), data) == 0;
    std::optional<std::size_t> n = in_data ? storage_number(name.substr(data.size())) : std::nullopt;
    if (n && *n <= entries.size()) {
      if (numbered_storages_[*n] != kAbsent) twice(name);
      numbered_storages_[*n] = entry.uncompressed_size;
      continue;
    }
    auto position = static_cast<std::uint32_t>(i);
    if (other_names.insert(name, position, name_of) != position) twice(name);
    if (in_data) named_.push_back(&entry);  // a key torch would not write: looked up by name
  }
  if (order != nullptr) {
    std::string value = zip_->read(*order, 16);
    if (value != "little" && value != "big") fail(ErrorCode::kCorrupt, "byteorder is neither little nor big");
  }
  pickle_buffer_ = std::make_shared<PageBuffer>(zip_->read_buffer(*pickle_entry, limits.max_pickle_bytes));
  pickle_ = std::string_view(pickle_buffer_->get(), static_cast<std::size_t>(pickle_entry->uncompressed_size));
  // A state dict needs nothing more from the directory: free it before the pickle's values grow.
  if (!torchscript_) release_directory();
  root_ = machine_.load(pickle_);
}

std::optional<std::uint64_t> TorchArchive::storage_size(std::string_view key) const {
  if (std::optional<std::size_t> n = storage_number(key)) {
    if (*n < numbered_storages_.size() && numbered_storages_[*n] != kAbsent) return numbered_storages_[*n];
    return std::nullopt;
  }
  if (zip_) {
    const ZipEntry* entry = zip_->find(prefix_ + "data/" + std::string(key));
    return entry == nullptr ? std::nullopt : std::optional<std::uint64_t>(entry->uncompressed_size);
  }
  auto found = named_storages_.find(std::string(key));
  return found == named_storages_.end() ? std::nullopt : std::optional<std::uint64_t>(found->second);
}

void TorchArchive::release_directory() {
  std::size_t data = prefix_.size() + 5;  // "<prefix>data/"
  for (const ZipEntry* entry : named_) named_storages_.emplace(std::string(entry->name.substr(data)), entry->uncompressed_size);
  named_ = {};
  zip_.reset();
}

StorageCheck TorchArchive::storage_check() const {
  // The zip reader has checked that every entry's claimed size is backed by bytes in the file.
  return [this](const StorageRef& ref, std::uint64_t storage_bytes) {
    std::optional<std::uint64_t> size = storage_size(ref.key);
    if (!size) fail(ErrorCode::kCorrupt, "storage " + std::string(ref.key) + " is referenced but missing from the archive");
    if (*size < storage_bytes) {
      fail(ErrorCode::kCorrupt, "storage " + std::string(ref.key) + " should hold " + std::to_string(storage_bytes) +
                                    " bytes but has " + std::to_string(*size));
    }
  };
}

void record_classes_needed(const PickleMachine& machine, CheckpointContents& out) {
  for (const std::string& name : machine.classes_needed()) out.classes_needed.push_back(name);
}

}  // namespace ct
