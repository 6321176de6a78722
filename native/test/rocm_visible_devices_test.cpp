// Which AMD GPUs a process sees: ROCR_VISIBLE_DEVICES, then HIP_VISIBLE_DEVICES or
// CUDA_VISIBLE_DEVICES on what is left. The cases are ROCm's own:
//  - ROCm's "GPU isolation techniques" page
//    (https://rocm.docs.amd.com/en/docs-6.2.2/conceptual/gpu-isolation.html): Listing 1
//    ROCR_VISIBLE_DEVICES="0,GPU-DEADBEEFDEADBEEF" exposes the first device and the one with that
//    UUID; Listing 3 HIP_VISIBLE_DEVICES="0,2" exposes the first and third; CUDA_VISIBLE_DEVICES
//    "has the same effect as HIP_VISIBLE_DEVICES on the AMD platform";
//  - ROCm's environment variable reference (rocm.docs.amd.com, reference/env-variables.html): "the
//    ROCR env var is processed first which then reduces the number of GPUs that HIP can select from"
//    and its example ROCR_VISIBLE_DEVICES="0,GPU-4b2c1a9f-8d3e-6f7a-b5c9-2e4d8a1f6c3b";
//  - PyTorch's test_hip_device_count (test/test_cuda.py), the ROCm builds' count of devices under
//    each combination;
// and the edge rules of the runtimes' code (rocr-runtime amd_filter_device.cpp, clr rocdevice.cpp),
// summarised in native/gpu/amd/rocm_visible_devices.h.
#include "rocm_visible_devices.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amd_probe.h"

namespace {

using Positions = std::vector<std::size_t>;
using ct::gpu::apply_hip_visible_devices;
using ct::gpu::apply_rocr_visible_devices;

// Four GPUs in KFD order; GPU 2 has the unique id of the docs' example UUID.
const std::vector<std::uint64_t> kIds = {0x1a2b3c4d5e6f7081, 0x9f8e7d6c5b4a3928, 0xdeadbeefdeadbeef, 0x4b2c1a9f8d3e6f7a};

Positions rocr(const std::string& value) { return apply_rocr_visible_devices(value, kIds).positions; }
Positions hip(const std::string& value) { return apply_hip_visible_devices(value, kIds); }

// The whole selection, as the probe makes it, naming the GPUs it leaves by KFD position.
std::vector<std::uint32_t> visible(const std::map<std::string, std::string>& environment) {
  ct::gpu::VendorReport report;
  for (std::size_t i = 0; i < kIds.size(); ++i) {
    ct::gpu::GpuInfo gpu;
    gpu.physical_index = static_cast<unsigned>(i);
    gpu.uuid = ct::gpu::rocm_uuid(kIds[i]);
    report.gpus.push_back(gpu);
  }
  report.host_gpu_count = static_cast<unsigned>(kIds.size());
  ct::gpu::GpuOptions options;
  options.environment = environment;
  ct::gpu::select_amd_visible(report, options);
  std::vector<std::uint32_t> out;
  for (const auto& gpu : report.visible) {
    EXPECT_EQ(gpu.index, static_cast<int>(out.size()));  // HIP numbers what it sees from 0
    out.push_back(gpu.info.physical_index);
  }
  return out;
}

using Gpus = std::vector<std::uint32_t>;

}  // namespace

TEST(RocmUuid, IsGpuAndSixteenLowerCaseHexDigits) {
  EXPECT_EQ(ct::gpu::rocm_uuid(0xdeadbeefdeadbeef), "GPU-deadbeefdeadbeef");
  EXPECT_EQ(ct::gpu::rocm_uuid(0x12), "GPU-0000000000000012");
  EXPECT_EQ(ct::gpu::rocm_uuid(0), "GPU-XX");  // a GPU without a unique id (gfx8)
}

TEST(RocmVisibleDevices, DocsListing1FirstDeviceAndOneByUuid) {
  EXPECT_EQ(visible({{"ROCR_VISIBLE_DEVICES", "0,GPU-DEADBEEFDEADBEEF"}}), (Gpus{0, 2}));
}

TEST(RocmVisibleDevices, DocsListing3FirstAndThirdDevice) {
  EXPECT_EQ(visible({{"HIP_VISIBLE_DEVICES", "0,2"}}), (Gpus{0, 2}));
}

TEST(RocmVisibleDevices, CudaVisibleDevicesHasTheSameEffectAsHip) {
  EXPECT_EQ(visible({{"CUDA_VISIBLE_DEVICES", "0,2"}}), (Gpus{0, 2}));
}

TEST(RocmVisibleDevices, RocrFirstThenHipIndexesWhatIsLeft) {
  // ROCr leaves GPUs 3, 1, 2 (in that order); HIP's 0 and 2 are the first and third of those.
  EXPECT_EQ(visible({{"ROCR_VISIBLE_DEVICES", "3,1,2"}, {"HIP_VISIBLE_DEVICES", "0,2"}}), (Gpus{3, 2}));
  // An index past what ROCr left ends HIP's list.
  EXPECT_EQ(visible({{"ROCR_VISIBLE_DEVICES", "1"}, {"HIP_VISIBLE_DEVICES", "0,1"}}), (Gpus{1}));
}

TEST(RocmVisibleDevices, PyTorchHipDeviceCountCases) {
  EXPECT_EQ(visible({{"CUDA_VISIBLE_DEVICES", "0"}}).size(), 1u);
  EXPECT_EQ(visible({{"HIP_VISIBLE_DEVICES", "0"}}).size(), 1u);
  EXPECT_EQ(visible({{"CUDA_VISIBLE_DEVICES", "0,1,2,3"}, {"HIP_VISIBLE_DEVICES", "0"}}).size(), 1u);  // HIP wins
  EXPECT_EQ(visible({{"ROCR_VISIBLE_DEVICES", "0,1,2,3"}, {"HIP_VISIBLE_DEVICES", "0"}}).size(), 1u);
  EXPECT_EQ(visible({{"ROCR_VISIBLE_DEVICES", "0"}}).size(), 1u);
  EXPECT_EQ(visible({}).size(), 4u);
}

TEST(RocmVisibleDevices, EmptyHipFallsBackToCudaThenToEveryGpu) {
  // HIP reads HIP_VISIBLE_DEVICES only when it is not empty (clr: HIP_VISIBLE_DEVICES[0] != '\0').
  EXPECT_EQ(visible({{"HIP_VISIBLE_DEVICES", ""}, {"CUDA_VISIBLE_DEVICES", "1"}}), (Gpus{1}));
  EXPECT_EQ(visible({{"HIP_VISIBLE_DEVICES", ""}}).size(), 4u);
  EXPECT_EQ(visible({{"CUDA_VISIBLE_DEVICES", ""}}).size(), 4u);  // unlike CUDA, where "" hides all
}

TEST(RocrVisibleDevices, SetButEmptyHidesEveryGpu) {
  EXPECT_EQ(rocr(""), Positions{});
  EXPECT_TRUE(visible({{"ROCR_VISIBLE_DEVICES", ""}}).empty());
}

TEST(RocrVisibleDevices, UuidsAreUpperCasedPrefixesOfFiveToTwentyCharacters) {
  EXPECT_EQ(rocr("gpu-deadbeef"), Positions{2});  // entries are upper-cased, as UUIDs are
  EXPECT_EQ(rocr("0,GPU-4B"), (Positions{0, 3}));  // a unique prefix
  EXPECT_EQ(rocr("GPU-"), Positions{});           // 4 characters: too short
  EXPECT_EQ(rocr("1,GPU-ff,0"), Positions{1});    // no GPU's UUID starts so: the list ends
  // Two GPUs whose UUIDs both start "GPU-AB": ambiguous, the list ends.
  EXPECT_EQ(apply_rocr_visible_devices(std::string("GPU-ab,0"), {0xab00000000000001, 0xab00000000000002}).positions,
            Positions{});
  // The 36-character UUID of the newer docs' example is longer than the runtime reads (20): the
  // list ends there, after device 0.
  EXPECT_EQ(rocr("0,GPU-4b2c1a9f-8d3e-6f7a-b5c9-2e4d8a1f6c3b"), Positions{0});
}

TEST(RocrVisibleDevices, IndicesAreWholeStrtolNumbersInAnyBase) {
  EXPECT_EQ(rocr(" 1 ,\t3"), (Positions{1, 3}));  // trimmed
  EXPECT_EQ(rocr("0x2,01"), (Positions{2, 1}));   // strtol(, 0): hex and octal
  EXPECT_EQ(rocr("1,2gpu"), Positions{1});        // the whole entry must be the number
  EXPECT_EQ(rocr("1,-1,2"), Positions{1});        // negative ends the list
  EXPECT_EQ(rocr("1,7,2"), Positions{1});         // out of range ends the list
}

TEST(RocrVisibleDevices, ARepeatEndsTheListInsteadOfEmptyingIt) {
  EXPECT_EQ(rocr("2,0,2,1"), (Positions{2, 0}));
  EXPECT_EQ(rocr("GPU-deadbeef,2"), Positions{2});
}

TEST(RocrVisibleDevices, OnlyAsManyEntriesAsGpusAreRead) {
  // Four GPUs: the fifth entry is never looked at, even an invalid one.
  EXPECT_EQ(rocr("3,2,1,0,bogus"), (Positions{3, 2, 1, 0}));
  EXPECT_EQ(apply_rocr_visible_devices(std::string("1,0"), {7}).positions, Positions{});  // "1" is past the only GPU
}

TEST(RocrVisibleDevices, AnEmptyEntryStopsTheRuntime) {
  // RvdFilter reads token.at(0) of an empty entry: std::out_of_range, and hsa_init fails.
  ct::gpu::RocrSelection selection = apply_rocr_visible_devices(std::string("0,,1"), kIds);
  EXPECT_TRUE(selection.runtime_fails);
  EXPECT_TRUE(selection.positions.empty());
  EXPECT_FALSE(apply_rocr_visible_devices(std::string("0,1,"), kIds).runtime_fails);  // no entry after the last comma
  EXPECT_TRUE(visible({{"ROCR_VISIBLE_DEVICES", "0,,1"}}).empty());
}

TEST(HipVisibleDevices, IndicesMustBePlainDecimals) {
  EXPECT_EQ(hip("1,3"), (Positions{1, 3}));
  EXPECT_EQ(hip("1,03"), Positions{1});   // "03" is not to_string(3)
  EXPECT_EQ(hip("1, 3"), Positions{1});   // nor is " 3"
  EXPECT_EQ(hip("+1"), Positions{});
  EXPECT_EQ(hip("1,9,2"), Positions{1});  // out of range ends the list
  EXPECT_EQ(hip(",1"), Positions{});      // an empty entry is invalid
  EXPECT_EQ(hip("1,"), Positions{1});
}

TEST(HipVisibleDevices, ARepeatIsSkipped) { EXPECT_EQ(hip("2,2,0,2"), (Positions{2, 0})); }

TEST(HipVisibleDevices, UuidsMatchAsCaseSensitiveSubstrings) {
  EXPECT_EQ(hip("GPU-deadbeef,0"), (Positions{2, 0}));
  EXPECT_EQ(hip("GPU-DEADBEEF,0"), Positions{});  // HIP compares as given: UUIDs are lower case
  EXPECT_EQ(hip("GPU-"), Positions{0});           // the first GPU whose UUID contains it
  EXPECT_EQ(hip("GPU-ffff,1"), Positions{});      // no match: not a number either, the list ends
}
