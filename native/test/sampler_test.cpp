// The sampling session against the stand-in NVML (test/support/fake_nvml.c): values that move
// between samples, the process tree's GPU memory, GPM, a GPU lost mid-run, an old driver's
// library, no library at all; and the /proc side (CPU and memory of a real child process).
#include "session.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "nvml_backend.h"
#include "process_tree.h"
#include "support/scratch.h"

namespace {

const std::string kScratch = scratch_dir() + "/sampler";

// GPU 0: an H100 with GPM; GPU 1: an A100 (no GPM) that falls off the bus after 350 ms.
std::string two_gpus(int lost_after_ms) {
  return std::string(
             "driver 580.65.06\n"
             "cuda 13000\n"
             "gpu name=\"NVIDIA H100 80GB HBM3\" uuid=GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293 memory=85520809984 "
             "cc=9.0 bus=00000000:18:00.0 mig=0 util=10..90:5..30 mem_used=1000000000..8000000000 power=100..600 "
             "power_limit=700 temp=41..71 sm_clock=1980 reasons=0x4 gpm=1 gpm_sm=96.6 gpm_occupancy=14.3 "
             "gpm_tensor=93.7 gpm_dram=16.1\n"
             "gpu name=\"NVIDIA A100-SXM4-80GB\" uuid=GPU-bbbbbbbb-c61c-4795-b757-5132caeb8e70 memory=85899345920 "
             "cc=8.0 bus=00000000:2A:00.0 mig=0 util=50:10 power=250 power_limit=400 temp=50 sm_clock=1410 "
             "reasons=0x41 gpm=0 lost_after_ms=") +
         std::to_string(lost_after_ms) + "\n";
}

void write_file(const std::string& path, const std::string& text) {
  mkdir(kScratch.c_str(), 0755);
  std::string temporary = path + ".tmp";
  std::ofstream(temporary) << text;
  std::rename(temporary.c_str(), path.c_str());  // the fake re-reads it on every call: whole or old
}

void use_scenario(const std::string& scenario, const std::string& processes) {
  write_file(kScratch + "/scenario.txt", scenario);
  write_file(kScratch + "/processes.txt", processes);
  setenv("FAKE_NVML_CONFIG", (kScratch + "/scenario.txt").c_str(), 1);
  setenv("FAKE_NVML_PROCESSES", (kScratch + "/processes.txt").c_str(), 1);
}

// The stand-in NVML (or none), and no ROCm SMI.
void use_libraries(ct::sampler::SessionOptions& options, const char* nvml) {
  options.gpu.settings["CONFIG_TRACKER_NVML_LIBRARY"] = nvml;
  options.gpu.settings["CONFIG_TRACKER_ROCM_SMI_LIBRARY"] = "/nonexistent/librocm_smi64.so.1";
}

std::vector<ct::sampler::SystemSample> run_for(ct::sampler::SessionOptions options, int ms) {
  ct::sampler::Session session(std::move(options));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  session.stop();
  return session.drain();
}

}  // namespace

TEST(Sampler, SamplesEveryGpuTheTreeAndTheHost) {
  const int self = static_cast<int>(getpid());
  // This process holds 2 GiB on GPU 0; another process (not ours) 1 GiB there, and GPU 1 too.
  use_scenario(two_gpus(100000), std::to_string(self) + " 2147483648 0\n999999 1073741824 0\n999999 5 1\n");
  ct::sampler::SessionOptions options;
  options.interval_ms = 40;
  options.pids = {self};
  use_libraries(options, FAKE_NVML_PATH);
  auto samples = run_for(options, 800);  // the ramps reach their ends on the 11th call
  ASSERT_GE(samples.size(), 12u);
  const auto& first = samples.front();
  const auto& last = samples.back();
  ASSERT_EQ(last.gpus.size(), 2u);
  const auto& h100 = last.gpus[0];
  EXPECT_EQ(h100.index, 0);
  EXPECT_EQ(h100.uuid, "GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293");
  // Ramps move between samples: the first sample is near the start, later ones near the end.
  EXPECT_LT(*first.gpus[0].utilization_gpu_percent, 30);
  EXPECT_EQ(*h100.utilization_gpu_percent, 90);
  EXPECT_EQ(*h100.utilization_memory_percent, 30);
  EXPECT_EQ(*h100.memory_used_bytes, 8000000000u);
  EXPECT_EQ(*h100.memory_total_bytes, 85520809984u);
  EXPECT_DOUBLE_EQ(*h100.power_watts, 600.0);
  EXPECT_DOUBLE_EQ(*h100.power_limit_watts, 700.0);
  EXPECT_DOUBLE_EQ(*h100.temperature_c, 71.0);
  EXPECT_DOUBLE_EQ(*h100.sm_clock_mhz, 1980.0);
  EXPECT_EQ(*h100.clock_event_reasons, 0x4u);
  EXPECT_EQ(h100.clock_event_reason_names, std::vector<std::string>{"sw_power_cap"});
  // Only this process's memory counts as the tree's.
  EXPECT_EQ(*h100.tree_memory_bytes, 2147483648u);
  ASSERT_EQ(h100.processes.size(), 2u);
  EXPECT_TRUE(h100.processes[0].in_tree);
  EXPECT_FALSE(h100.processes[1].in_tree);
  // GPM on the H100 (from the second sample on: each interval is between two GPM samples).
  EXPECT_DOUBLE_EQ(*h100.sm_active_percent, 96.6);
  EXPECT_DOUBLE_EQ(*h100.sm_occupancy_percent, 14.3);
  EXPECT_DOUBLE_EQ(*h100.tensor_active_percent, 93.7);
  EXPECT_DOUBLE_EQ(*h100.dram_bandwidth_percent, 16.1);
  EXPECT_EQ(h100.activity_unavailable_reason, "");
  // The A100: no GPM, said so; another process there, none of ours: no tree figure, a note.
  const auto& a100 = last.gpus[1];
  EXPECT_FALSE(a100.sm_active_percent.has_value());
  EXPECT_EQ(a100.activity_unavailable_reason, "GPM is not supported on this GPU (Hopper or newer has it)");
  EXPECT_FALSE(a100.tree_memory_bytes.has_value());
  EXPECT_NE(a100.tree_memory_note.find("none is in the watched tree"), std::string::npos);
  EXPECT_EQ(a100.clock_event_reason_names, (std::vector<std::string>{"gpu_idle", "hw_thermal_slowdown"}));
  // The tree (this process) and the host.
  EXPECT_EQ(last.tree.pids, std::set<int>{self});
  EXPECT_GT(*last.tree.rss_bytes, 0u);
  EXPECT_TRUE(last.tree.cpu_percent.has_value());
  EXPECT_GT(*last.host.total_bytes, 0u);
  EXPECT_GT(*last.host.available_bytes, 0u);
  // Samples are an interval apart (the median gap: a loaded machine may delay one).
  std::vector<double> gaps;
  for (std::size_t i = 1; i < samples.size(); ++i) gaps.push_back(samples[i].time - samples[i - 1].time);
  std::sort(gaps.begin(), gaps.end());
  EXPECT_NEAR(gaps[gaps.size() / 2], 0.04, 0.015);
}

// The stand-in counts "lost after N ms" from the first nvmlInit of the process, so this runs in
// a process of its own (a death-test fork) whatever ran before it.
void lost_gpu_scenario() {
  use_scenario(two_gpus(200), "");
  ct::sampler::SessionOptions options;
  options.interval_ms = 40;
  use_libraries(options, FAKE_NVML_PATH);
  auto samples = run_for(options, 600);
  auto fail = [](const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::_Exit(1);
  };
  if (samples.size() < 10) fail("too few samples");
  const auto& first = samples.front().gpus.at(1);
  if (first.lost || !first.power_watts || *first.power_watts != 250.0) fail("GPU 1 lost from the start");
  const auto& last = samples.back();
  if (!last.gpus.at(1).lost || last.gpus.at(1).error.find("NVML_ERROR_GPU_IS_LOST") == std::string::npos) {
    fail("GPU 1 not reported lost");
  }
  if (last.gpus.at(1).power_watts.has_value()) fail("a lost GPU still has readings");
  if (last.gpus.at(0).lost || !last.gpus.at(0).power_watts) fail("GPU 0 stopped being sampled");
  // No process is watched: the tree says so, and so do the GPUs' tree figures.
  if (last.tree.note != "no process is watched" || last.gpus.at(0).tree_memory_note != "no process is watched") {
    fail("no note about the missing tree");
  }
  std::fprintf(stderr, "lost scenario ok\n");
  std::_Exit(0);
}

TEST(Sampler, AGpuLostMidRunIsRecordedAndTheOthersGoOn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(lost_gpu_scenario(), ::testing::ExitedWithCode(0), "lost scenario ok");
}

TEST(Sampler, CudaVisibleDevicesPicksAndRenumbers) {
  use_scenario(two_gpus(100000), "");
  ct::sampler::SessionOptions options;
  options.interval_ms = 30;
  use_libraries(options, FAKE_NVML_PATH);
  options.gpu.environment["CUDA_VISIBLE_DEVICES"] = "GPU-bbbb";
  auto samples = run_for(options, 150);
  ASSERT_FALSE(samples.empty());
  ASSERT_EQ(samples.back().gpus.size(), 1u);
  EXPECT_EQ(samples.back().gpus[0].index, 0);
  EXPECT_EQ(samples.back().gpus[0].name, "NVIDIA A100-SXM4-80GB");
}

TEST(Sampler, AnOldDriversLibraryHasNoGpmAndOnlyTheFirstProcessCall) {
  const int self = static_cast<int>(getpid());
  use_scenario(two_gpus(100000), std::to_string(self) + " na 0\n");
  ct::sampler::SessionOptions options;
  options.interval_ms = 30;
  options.pids = {self};
  use_libraries(options, FAKE_NVML_LEGACY_PATH);
  auto samples = run_for(options, 200);
  ASSERT_FALSE(samples.empty());
  const auto& h100 = samples.back().gpus.at(0);
  EXPECT_EQ(h100.activity_unavailable_reason, "this driver's NVML has no GPM (needs R520 or newer)");
  EXPECT_GT(*h100.utilization_gpu_percent, 10);
  ASSERT_EQ(h100.processes.size(), 1u);
  EXPECT_FALSE(h100.processes[0].used_bytes.has_value());  // NVML_VALUE_NOT_AVAILABLE
  EXPECT_FALSE(h100.tree_memory_bytes.has_value());        // nothing known is not 0
  EXPECT_NE(h100.tree_memory_note.find("not available"), std::string::npos);
}

TEST(Sampler, WithoutNvmlTheTreeAndHostAreStillSampled) {
  ct::sampler::SessionOptions options;
  options.interval_ms = 30;
  options.pids = {static_cast<int>(getpid())};
  use_libraries(options, "/nonexistent/libnvidia-ml.so.1");
  ct::sampler::Session session(options);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  session.stop();
  auto status = session.status();
  EXPECT_TRUE(status.opened);
  EXPECT_EQ(status.backend, "");
  EXPECT_EQ(status.gpu_unavailable_reason,
            "/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found");
  auto samples = session.drain();
  ASSERT_FALSE(samples.empty());
  EXPECT_TRUE(samples.back().gpus.empty());
  EXPECT_TRUE(samples.back().tree.rss_bytes.has_value());
  EXPECT_EQ(status.samples, samples.size());
}

TEST(Sampler, AFullQueueDropsTheOldestAndCountsThem) {
  ct::sampler::SessionOptions options;
  options.interval_ms = 10;
  options.max_queued = 3;
  use_libraries(options, "/nonexistent/libnvidia-ml.so.1");
  ct::sampler::Session session(options);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  session.stop();
  auto status = session.status();
  auto samples = session.drain();
  EXPECT_EQ(samples.size(), 3u);
  EXPECT_EQ(status.dropped, status.samples - 3);
  EXPECT_LT(samples[0].time, samples[2].time);
}

// The CPU seconds the kernel has charged to these processes so far (its own clock, not /proc's
// ticks): what the tree's measurement is held against, whatever share of the cores they get.
static double cpu_seconds_of(const std::set<int>& pids) {
  double total = 0;
  for (int pid : pids) {
    clockid_t clock;
    timespec now{};
    if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &now) == 0) {
      total += static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
    }
  }
  return total;
}

TEST(ProcessTree, FollowsChildrenAndMeasuresTheirCpu) {
  pid_t child = fork();
  if (child == 0) {
    // A child that starts a grandchild; both spin.
    if (fork() < 0) _exit(1);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    volatile unsigned long spin = 0;
    while (std::chrono::steady_clock::now() < end) spin = spin + 1;
    _exit(0);
  }
  ct::sampler::ProcessTree tree({static_cast<int>(child)});
  // Until the grandchild has been started (a busy machine may take a while to run the child).
  ct::sampler::TreeStats first = tree.sample();
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (first.pids.size() < 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    first = tree.sample();
  }
  ASSERT_EQ(first.pids.size(), 2u);  // the child and its child
  double cpu_before = cpu_seconds_of(first.pids);
  auto wall_before = std::chrono::steady_clock::now();
  // Long enough for the two to have run a fair while, however loaded the machine is.
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (cpu_seconds_of(first.pids) - cpu_before < 0.3 && std::chrono::steady_clock::now() < give_up);
  ct::sampler::TreeStats stats = tree.sample();
  double cpu_used = cpu_seconds_of(first.pids) - cpu_before;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  EXPECT_EQ(stats.pids, first.pids);
  EXPECT_TRUE(stats.pids.count(static_cast<int>(child)));
  ASSERT_TRUE(stats.cpu_percent.has_value());
  // Both processes' time, as the kernel charged it: /proc's ticks (1/100 s each) and /proc/uptime
  // against the kernel's nanosecond clocks.
  double expected = 100.0 * cpu_used / wall;
  EXPECT_GT(*stats.cpu_percent, 0.0);
  EXPECT_NEAR(*stats.cpu_percent, expected, 10.0 + 0.15 * expected) << "cpu " << cpu_used << " s in " << wall << " s";
  EXPECT_GT(*stats.rss_bytes, 0u);
  for (int pid : stats.pids) kill(pid, SIGKILL);
  waitpid(child, nullptr, 0);
  ct::sampler::TreeStats after = tree.sample();
  EXPECT_EQ(after.note, "the watched processes have exited");
}

TEST(ProcessTree, ParsesStatLinesWhoseNameHasSpacesAndParentheses) {
  ct::platform::ProcessEntry stat;
  std::string line =
      "4242 (python3 (worker) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 731 42 0 0 20 0 8 0 123456 1000000 5120 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0";
  ASSERT_TRUE(ct::platform::parse_proc_stat(line, stat));
  EXPECT_EQ(stat.ppid, 4200);
  EXPECT_EQ(stat.cpu_ticks, 773u);
  EXPECT_EQ(stat.start_ticks, 123456u);
  EXPECT_EQ(stat.rss_pages, 5120);
  EXPECT_FALSE(ct::platform::parse_proc_stat("4242 (cut", stat));
  EXPECT_FALSE(ct::platform::parse_proc_stat("4242 (x) S 1 2", stat));
}

TEST(ClockEventReasons, NamesEveryBitAndSaysWhenOneIsUnknown) {
  EXPECT_TRUE(ct::gpu::clock_event_reason_names(0).empty());
  EXPECT_EQ(ct::gpu::clock_event_reason_names(0x4 | 0x20 | 0x100),
            (std::vector<std::string>{"sw_power_cap", "sw_thermal_slowdown", "display_clock_setting"}));
  EXPECT_EQ(ct::gpu::clock_event_reason_names(0x1000), (std::vector<std::string>{"other"}));
}
