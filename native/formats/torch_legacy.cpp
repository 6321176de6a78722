#include "torch_legacy.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <unordered_map>

#include "../common/checked_math.h"
#include "../common/checkpoint_error.h"
#include "../common/text_hash.h"
#include "../checkpoint/pickled_model.h"
#include "../checkpoint/torch_rebuild.h"
#include "../pickle/pickle_machine.h"

namespace ct {
namespace {

using Kind = PickleKind;

// The legacy format starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes.
constexpr unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

struct StorageFacts {
  std::uint64_t element_bits = 0;
  std::uint64_t needed_bytes = 0;  // the most any tensor read needs
  bool read_by_a_tensor = false;
  bool in_the_file = false;        // listed in the storage keys and walked
};

}  // namespace

bool is_legacy_torch(const ByteSource& source) {
  if (source.size() < sizeof(kLegacyMagic)) return false;
  unsigned char head[sizeof(kLegacyMagic)];
  source.read(0, head, sizeof(head));
  return std::equal(std::begin(head), std::end(head), std::begin(kLegacyMagic));
}

CheckpointContents read_torch_legacy(const ByteSource& source, const ReadLimits& limits) {
  // Five pickles, then the storages. Their total length is unknown up front: parse a prefix of the
  // file, and when the pickles run off its end, parse again from a prefix four times longer.
  std::string head;
  std::unique_ptr<PickleMachine> machine;
  PickleRef root;
  PickleRef keys;
  std::size_t pos = 0;
  PickleLimits pickle_limits;
  pickle_limits.budget = limits.budget;
  for (std::uint64_t chunk = std::min(source.size(), std::max<std::uint64_t>(limits.legacy_first_read, 1));;) {
    head = source.read_string(0, static_cast<std::size_t>(chunk));
    machine = std::make_unique<PickleMachine>(pickle_limits, PickleDialect::kTorchLegacy);
    try {
      pos = 0;
      PickleRef magic = machine->load(head, pos, &pos);
      PickleRef protocol = machine->load(head, pos, &pos);
      if (!magic.is(Kind::kBigInt) || protocol.as_int() != 1001) fail(ErrorCode::kCorrupt, "bad legacy header");
      machine->load(head, pos, &pos);  // sys_info
      root = machine->load(head, pos, &pos);
      keys = machine->load(head, pos, &pos);
      break;
    } catch (const CheckpointError& error) {
      bool can_grow = chunk < source.size() && chunk < limits.max_pickle_bytes;
      if (error.code() != ErrorCode::kTruncated || !can_grow) throw;
      chunk = std::min<std::uint64_t>({chunk * 4, source.size(), limits.max_pickle_bytes});
    }
  }
  if (!keys.is(Kind::kList)) fail(ErrorCode::kCorrupt, "legacy storage key list missing");

  // Element sizes of every storage the pickle names (not only those of the tensors counted), so
  // every storage record can be walked.
  std::unordered_map<std::string_view, StorageFacts, TextHash> storages;
  for (ValueId id : machine->persistent_ids()) {
    charge(limits);
    if (std::optional<StorageRef> ref = storage_ref(machine->ref(id))) storages[ref->key].element_bits = ref->dtype->bits;
  }
  CheckpointContents out;
  out.format = "torch-legacy";
  TensorDecoder decoder(
      [&](const StorageRef& ref, std::uint64_t storage_bytes) {
        StorageFacts& facts = storages[ref.key];
        facts.needed_bytes = std::max(facts.needed_bytes, storage_bytes);
        facts.read_by_a_tensor = true;
      },
      limits, out.text);
  read_pickled_model(root, decoder, limits, out);
  out.not_understood = decoder.not_understood();
  for (const std::string& name : machine->classes_needed()) out.classes_needed.push_back(name);

  // Walk every storage record (an int64 element count, then the bytes) to check the file holds
  // them, reading 8 bytes per storage and none of the data.
  std::uint64_t offset = pos;
  for (std::size_t i = 0, n = keys.size(); i < n; ++i) {
    charge(limits);
    std::optional<std::string_view> key = keys.item(i).string();
    if (!key) fail(ErrorCode::kCorrupt, "legacy storage key is not a string");
    auto facts = storages.find(*key);
    if (facts == storages.end()) fail(ErrorCode::kCorrupt, "legacy storage " + std::string(*key) + " is listed but never referenced");
    unsigned char count_bytes[8];
    source.read(offset, count_bytes, sizeof(count_bytes));
    std::uint64_t bytes = checked_mul(le64(count_bytes), facts->second.element_bits, "legacy storage size") / 8;
    if (facts->second.needed_bytes > bytes) fail(ErrorCode::kCorrupt, "legacy storage " + std::string(*key) + " is smaller than its tensors");
    offset = checked_add(checked_add(offset, 8, "legacy offset"), bytes, "legacy offset");
    if (offset > source.size()) fail(ErrorCode::kTruncated, "the file ends inside storage " + std::string(*key));
    facts->second.in_the_file = true;
  }
  // A storage the key list leaves out has no bytes in the file (torch.load would leave it
  // uninitialised): its tensors cannot be counted as the file's.
  for (const auto& [key, facts] : storages) {
    charge(limits);
    if (facts.read_by_a_tensor && !facts.in_the_file) {
      fail(ErrorCode::kCorrupt, "legacy storage " + std::string(key) + " is read by a tensor but not stored in the file");
    }
  }
  return out;
}

}  // namespace ct
