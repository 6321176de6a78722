// The sampling session on AMD GPUs, against the stand-in ROCm SMI (test/support/fake_rocm_smi.c):
// values that move between samples, unit conversions, the frequency table in both layouts, the
// process tree's VRAM with processes inside and outside it, a GPU lost mid-run, an older library,
// and the visibility variables.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "session.h"
#include "support/scratch.h"

namespace {

const std::string kScratch = scratch_dir() + "/amd-sampler";

// GPU 0: an MI250X's GCD (average power, edge sensor); GPU 1: an MI300X (socket power only,
// junction sensor only), which falls off the bus after `lost_after_ms`.
std::string two_gpus(const std::string& version, int lost_after_ms) {
  return "version " + version +
         "\n"
         "driver 6.8.5\n"
         "gpu name=\"AMD Instinct MI250X\" unique_id=0x2f1e0d4c3b2a1908 bdf=0x2d00 vram=68702699520 "
         "busy=10..90 mem_busy=5..30 vram_used=1000000000..8000000000 power=150..450 power_cap=560 temp_edge=41..71 "
         "sclk=500,1100,1700@0..2 mclk=400,1600@1\n"
         "gpu name=\"AMD Instinct MI300X\" unique_id=0x5f10b7a9c2e3d481 bdf=0xc100 vram=205822885888 busy=50 "
         "mem_busy=12 vram_used=4000000000 socket_power=640.5 power_cap=750 temp_junction=64 sclk=800,2100@1 "
         "mclk=900,1300@1 lost_after_ms=" +
         std::to_string(lost_after_ms) + "\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(kScratch);
  std::string temporary = path + ".tmp";
  std::ofstream(temporary) << text;
  std::rename(temporary.c_str(), path.c_str());  // the stand-in re-reads it on every call
}

// A copy of the stand-in of its own per session (ROCm SMI is started once per library and process).
std::string stub(const std::string& name, const char* built = FAKE_ROCM_SMI_PATH) {
  std::string dir = kScratch + "/" + name;
  std::filesystem::create_directories(dir);
  std::string path = dir + "/librocm_smi64.so.1";
  std::filesystem::copy_file(built, path, std::filesystem::copy_options::overwrite_existing);
  return path;
}

ct::sampler::SessionOptions session_options(const std::string& library, const std::string& scenario,
                                            const std::string& processes) {
  write_file(kScratch + "/scenario.txt", scenario);
  write_file(kScratch + "/processes.txt", processes);
  setenv("FAKE_RSMI_CONFIG", (kScratch + "/scenario.txt").c_str(), 1);
  setenv("FAKE_RSMI_PROCESSES", (kScratch + "/processes.txt").c_str(), 1);
  ct::sampler::SessionOptions options;
  options.interval_ms = 40;
  options.gpu.settings = {{"CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1"},
                          {"CONFIG_TRACKER_ROCM_SMI_LIBRARY", library},
                          {"CONFIG_TRACKER_HIP_LIBRARY", "/nonexistent/libamdhip64.so"}};
  return options;
}

std::vector<ct::sampler::SystemSample> run_for(ct::sampler::SessionOptions options, int ms) {
  ct::sampler::Session session(std::move(options));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  session.stop();
  EXPECT_EQ(session.status().backend, "amd") << session.status().gpu_unavailable_reason;
  return session.drain();
}

}  // namespace

TEST(AmdSampler, SamplesEveryGpuAndTheTreesVram) {
  const int self = static_cast<int>(getpid());
  // This process: 2 GiB on GPU 0 and 1 GiB on GPU 1; another process 3 GiB on GPU 1 only.
  std::string processes = std::to_string(self) + " 0 2147483648\n" + std::to_string(self) + " 1 1073741824\n" +
                          "999999 1 3221225472\n";
  auto options = session_options(stub("two"), two_gpus("7.1.0", 100000), processes);
  options.pids = {self};
  auto samples = run_for(options, 800);  // the ramps reach their ends on the 11th call
  ASSERT_GE(samples.size(), 12u);
  const auto& first = samples.front().gpus.at(0);
  const auto& last = samples.back();
  ASSERT_EQ(last.gpus.size(), 2u);
  const auto& mi250x = last.gpus[0];
  EXPECT_EQ(mi250x.vendor, "amd");
  EXPECT_EQ(mi250x.index, 0);
  EXPECT_EQ(mi250x.uuid, "GPU-2f1e0d4c3b2a1908");
  EXPECT_EQ(mi250x.name, "AMD Instinct MI250X");
  EXPECT_LT(*first.utilization_gpu_percent, 30);  // ramps move between samples
  EXPECT_EQ(*mi250x.utilization_gpu_percent, 90);
  EXPECT_EQ(*mi250x.utilization_memory_percent, 30);
  EXPECT_EQ(*mi250x.memory_used_bytes, 8000000000u);
  EXPECT_EQ(*mi250x.memory_total_bytes, 68702699520u);
  EXPECT_DOUBLE_EQ(*mi250x.power_watts, 450.0);     // microwatts converted
  EXPECT_DOUBLE_EQ(*mi250x.power_limit_watts, 560.0);
  EXPECT_DOUBLE_EQ(*mi250x.temperature_c, 71.0);    // millidegrees converted
  EXPECT_EQ(mi250x.temperature_sensor, "edge");
  EXPECT_DOUBLE_EQ(*first.sm_clock_mhz, 500.0);     // the current level of the table, in MHz
  EXPECT_DOUBLE_EQ(*mi250x.sm_clock_mhz, 1700.0);
  EXPECT_DOUBLE_EQ(*mi250x.memory_clock_mhz, 1600.0);
  EXPECT_FALSE(mi250x.lost);
  EXPECT_EQ(*mi250x.tree_memory_bytes, 2147483648u);
  ASSERT_EQ(mi250x.processes.size(), 1u);
  EXPECT_TRUE(mi250x.processes[0].in_tree);

  const auto& mi300x = last.gpus[1];
  EXPECT_DOUBLE_EQ(*mi300x.power_watts, 640.5);  // no average on MI300: the socket power
  EXPECT_DOUBLE_EQ(*mi300x.temperature_c, 64.0);
  EXPECT_EQ(mi300x.temperature_sensor, "junction");
  EXPECT_DOUBLE_EQ(*mi300x.sm_clock_mhz, 2100.0);
  // Only this process's VRAM counts as the tree's; the other process is listed, not counted.
  EXPECT_EQ(*mi300x.tree_memory_bytes, 1073741824u);
  ASSERT_EQ(mi300x.processes.size(), 2u);
  EXPECT_EQ(*mi300x.processes[1].used_bytes, 3221225472u);
  EXPECT_FALSE(mi300x.processes[1].in_tree);
}

TEST(AmdSampler, TheOlderFrequencyLayout) {
  // ROCm 5 libraries (version below 7) fill rsmi_frequencies_t without has_deep_sleep.
  auto samples = run_for(session_options(stub("v1"), two_gpus("5.7.0", 100000), ""), 200);
  ASSERT_FALSE(samples.empty());
  EXPECT_DOUBLE_EQ(*samples.back().gpus.at(1).sm_clock_mhz, 2100.0);
  EXPECT_DOUBLE_EQ(*samples.back().gpus.at(1).memory_clock_mhz, 1300.0);
}

TEST(AmdSampler, AnOlderLibraryWithoutTheNewerEntryPoints) {
  const int self = static_cast<int>(getpid());
  // No rsmi_compute_process_info_by_device_get: a process on one GPU is still attributed (its VRAM
  // over all GPUs is that GPU's); one on two GPUs cannot be split. No socket power: MI300's null.
  std::string processes = std::to_string(self) + " 0 2147483648\n" + std::to_string(self) + " 1 1073741824\n" +
                          "999999 1 3221225472\n";
  auto options = session_options(stub("old", FAKE_ROCM_SMI_OLD_PATH), two_gpus("5.2.0", 100000), processes);
  options.pids = {self};
  auto samples = run_for(options, 200);
  ASSERT_FALSE(samples.empty());
  const auto& mi250x = samples.back().gpus.at(0);
  const auto& mi300x = samples.back().gpus.at(1);
  EXPECT_FALSE(mi250x.processes.at(0).used_bytes.has_value());  // split over two GPUs: unknown
  EXPECT_FALSE(mi250x.tree_memory_bytes.has_value());
  EXPECT_NE(mi250x.tree_memory_note.find("not available"), std::string::npos);
  EXPECT_EQ(*mi300x.processes.at(1).used_bytes, 3221225472u);   // one GPU: all of it is there
  EXPECT_FALSE(mi300x.power_watts.has_value());
  EXPECT_TRUE(mi250x.power_watts.has_value());
  EXPECT_DOUBLE_EQ(*mi300x.sm_clock_mhz, 2100.0);
}

// A GPU lost mid-run, in a process of its own (the stand-in counts from its first rsmi_init).
void lost_amd_gpu_scenario() {
  auto samples = run_for(session_options(stub("lost"), two_gpus("7.1.0", 200), ""), 600);
  auto fail = [](const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::_Exit(1);
  };
  if (samples.size() < 10) fail("too few samples");
  const auto& first = samples.front().gpus.at(1);
  if (first.lost || !first.utilization_gpu_percent) fail("GPU 1 lost from the start");
  const auto& last = samples.back();
  if (!last.gpus.at(1).lost || last.gpus.at(1).error.find("stopped answering") == std::string::npos) {
    fail("GPU 1 not reported lost");
  }
  if (last.gpus.at(1).utilization_gpu_percent || last.gpus.at(1).power_watts) fail("a lost GPU still has readings");
  if (last.gpus.at(0).lost || !last.gpus.at(0).utilization_gpu_percent) fail("GPU 0 stopped being sampled");
  if (last.tree.note != "no process is watched" || last.gpus.at(0).tree_memory_note != "no process is watched") {
    fail("no note about the missing tree");
  }
  std::fprintf(stderr, "lost scenario ok\n");
  std::_Exit(0);
}

TEST(AmdSampler, AGpuLostMidRunIsRecordedAndTheOthersGoOn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(lost_amd_gpu_scenario(), ::testing::ExitedWithCode(0), "lost scenario ok");
}

TEST(AmdSampler, RocrThenHipVisibilityPicksAndRenumbers) {
  auto options = session_options(stub("visible"), two_gpus("7.1.0", 100000), "");
  options.gpu.environment = {{"ROCR_VISIBLE_DEVICES", "GPU-5f10b7a9,0"}, {"HIP_VISIBLE_DEVICES", "1"}};
  auto samples = run_for(options, 150);
  ASSERT_FALSE(samples.empty());
  ASSERT_EQ(samples.back().gpus.size(), 1u);
  EXPECT_EQ(samples.back().gpus[0].index, 0);
  EXPECT_EQ(samples.back().gpus[0].name, "AMD Instinct MI250X");
}

TEST(AmdSampler, BothVendorsAreSampledSideBySide) {
  write_file(kScratch + "/nvml.txt",
             "driver 580.65.06\ngpu name=\"NVIDIA H100 80GB HBM3\" uuid=GPU-aaaaaaaa memory=85520809984 cc=9.0 "
             "bus=00000000:18:00.0 mig=0 util=70:20\n");
  setenv("FAKE_NVML_CONFIG", (kScratch + "/nvml.txt").c_str(), 1);
  auto options = session_options(stub("both"), two_gpus("7.1.0", 100000), "");
  options.gpu.settings["CONFIG_TRACKER_NVML_LIBRARY"] = FAKE_NVML_PATH;
  ct::sampler::Session session(options);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  session.stop();
  EXPECT_EQ(session.status().backend, "nvidia,amd");
  auto samples = session.drain();
  ASSERT_FALSE(samples.empty());
  const auto& gpus = samples.back().gpus;
  ASSERT_EQ(gpus.size(), 3u);
  EXPECT_EQ(gpus[0].vendor, "nvidia");
  EXPECT_EQ(gpus[0].index, 0);
  EXPECT_EQ(gpus[1].vendor, "amd");
  EXPECT_EQ(gpus[1].index, 0);  // HIP numbers its own GPUs
  EXPECT_EQ(gpus[2].index, 1);
}
