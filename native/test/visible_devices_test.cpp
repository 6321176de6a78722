// CUDA_VISIBLE_DEVICES parsing. Expected values are PyTorch's own (test/test_cuda_nvml_based_avail.py,
// TestVisibleDeviceParses), which pin down how the CUDA driver reads the variable.
#include "visible_devices.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

using ct::parse_visible_devices;
using ct::resolve_ordinals;
using ct::resolve_uuid_prefixes;
using ct::VisibleDevicesSpec;
using Kind = VisibleDevicesSpec::Kind;

namespace {

std::vector<long long> ordinals(const std::string& value) {
  VisibleDevicesSpec spec = parse_visible_devices(value);
  EXPECT_EQ(spec.kind, Kind::kOrdinals) << value;
  return spec.ordinals;
}

std::vector<std::string> uuids(const std::string& value) {
  return parse_visible_devices(value).uuid_prefixes;
}

using Ordinals = std::vector<long long>;
using Strings = std::vector<std::string>;
using Positions = std::vector<std::size_t>;

}  // namespace

TEST(VisibleDevices, UnsetMeansAll) {
  EXPECT_EQ(parse_visible_devices(std::nullopt).kind, Kind::kAll);
}

TEST(VisibleDevices, EmptyMeansNone) { EXPECT_EQ(ordinals(""), Ordinals{}); }

TEST(VisibleDevices, RestOfEntryIsIgnored) { EXPECT_EQ(ordinals("1gpu2,2ampere"), (Ordinals{1, 2})); }

TEST(VisibleDevices, NegativeEndsTheList) { EXPECT_EQ(ordinals("0, 1, 2, -1, 3"), (Ordinals{0, 1, 2})); }

TEST(VisibleDevices, RepeatedOrdinalEmptiesTheList) { EXPECT_EQ(ordinals("0, 1, 2, 1"), Ordinals{}); }

TEST(VisibleDevices, UnaryPlusAndMinus) { EXPECT_EQ(ordinals("2, +3, -0, 5"), (Ordinals{2, 3, 0, 5})); }

TEST(VisibleDevices, WordFirstMeansNone) { EXPECT_EQ(ordinals("one,two,3,4"), Ordinals{}); }

TEST(VisibleDevices, WordEndsTheList) { EXPECT_EQ(ordinals("4,3,two,one"), (Ordinals{4, 3})); }

TEST(VisibleDevices, LoneSignIsInvalid) {
  EXPECT_EQ(ordinals("0,+,1"), Ordinals{0});
  EXPECT_EQ(ordinals("-"), Ordinals{});
}

TEST(VisibleDevices, HugeOrdinalSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(ordinals("99999999999999999999999"), Ordinals{9223372036854775807LL});
}

TEST(VisibleDevices, WhitespaceAroundOrdinals) { EXPECT_EQ(ordinals(" 1 ,\t0\n"), (Ordinals{1, 0})); }

TEST(VisibleDevices, GpuUuidsAreParsed) {
  VisibleDevicesSpec spec = parse_visible_devices(std::string("GPU-9e8d35e3"));
  EXPECT_EQ(spec.kind, Kind::kGpuUuids);
  EXPECT_EQ(spec.uuid_prefixes, Strings{"GPU-9e8d35e3"});
}

TEST(VisibleDevices, OrdinalsAreNotIncludedInUuidList) { EXPECT_EQ(uuids("GPU-123, 2"), Strings{"GPU-123"}); }

TEST(VisibleDevices, MigUuidsAreParsed) {
  VisibleDevicesSpec spec = parse_visible_devices(std::string("MIG-89c850dc"));
  EXPECT_EQ(spec.kind, Kind::kMigUuids);
  EXPECT_EQ(spec.uuid_prefixes, Strings{"MIG-89c850dc"});
}

TEST(VisibleDevices, RepeatedUuidEmptiesTheList) { EXPECT_EQ(uuids("GPU-1,GPU-2,GPU-1"), Strings{}); }

TEST(VisibleDevices, OrdinalsStopAtFirstOutOfRange) {
  // PyTorch: with 2 devices, "1, 0" gives 2 and "1, 5, 0" gives 1.
  EXPECT_EQ(resolve_ordinals(ordinals("1, 0"), 2), (Positions{1, 0}));
  EXPECT_EQ(resolve_ordinals(ordinals("1, 5, 0"), 2), Positions{1});
  EXPECT_EQ(resolve_ordinals(ordinals("0"), 0), Positions{});
}

// PyTorch's test_partial_uuid_resolver, against the same eight UUIDs.
class UuidResolver : public ::testing::Test {
 protected:
  const Strings known = {
      "GPU-9942190a-aa31-4ff1-4aa9-c388d80f85f1", "GPU-9e8d35e3-a134-0fdd-0e01-23811fdbd293",
      "GPU-e429a63e-c61c-4795-b757-5132caeb8e70", "GPU-eee1dfbc-0a0f-6ad8-5ff6-dc942a8b9d98",
      "GPU-bbcd6503-5150-4e92-c266-97cc4390d04e", "GPU-472ea263-58d7-410d-cc82-f7fdece5bd28",
      "GPU-e56257c4-947f-6a5b-7ec9-0f45567ccf4e", "GPU-1c20e77d-1c1a-d9ed-fe37-18b8466a78ad",
  };
  Positions resolve(const Strings& prefixes) { return resolve_uuid_prefixes(prefixes, known); }
};

TEST_F(UuidResolver, UniquePrefixes) {
  EXPECT_EQ(resolve({"GPU-9e8d35e3"}), Positions{1});
  EXPECT_EQ(resolve({"GPU-e4", "GPU-9e8d35e3"}), (Positions{2, 1}));
  EXPECT_EQ(resolve({"GPU-9e8d35e3", "GPU-1", "GPU-47"}), (Positions{1, 7, 5}));
}

TEST_F(UuidResolver, FirstInvalidUuidEndsTheList) {
  EXPECT_EQ(resolve({"GPU-123", "GPU-9e8d35e3"}), Positions{});
  EXPECT_EQ(resolve({"GPU-9e8d35e3", "GPU-123", "GPU-47"}), Positions{1});
}

TEST_F(UuidResolver, FirstAmbiguousUuidEndsTheList) {
  EXPECT_EQ(resolve({"GPU-9e8d35e3", "GPU-e", "GPU-47"}), Positions{1});
}

TEST_F(UuidResolver, DuplicateDeviceEmptiesTheList) {
  EXPECT_EQ(resolve({"GPU-9e8d35e3", "GPU-47", "GPU-9e8"}), Positions{});
}
