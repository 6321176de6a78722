// The NVIDIA probe against the stand-in NVML (test/support/fake_nvml.c), one scenario file per test.
#include "gpu_probe.h"
#include "probe.h"
#include "support/scratch.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

namespace {

const char kTwoH100[] =
    "driver 550.54.15\n"
    "cuda 12040\n"
    "gpu name=\"NVIDIA H100 80GB HBM3\" uuid=GPU-9e8d35e3-a134-0fdd-0e01-23811fdbd293 "
    "memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0\n"
    "gpu name=\"NVIDIA H100 80GB HBM3\" uuid=GPU-e429a63e-c61c-4795-b757-5132caeb8e70 "
    "memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0\n";

using ct::gpu::GpuInfo;
using ct::gpu::VendorReport;

VendorReport query(const std::string& scenario, const char* library = FAKE_NVML_PATH) {
  std::string path = scratch_dir() + "/scenario.txt";
  std::ofstream(path) << scenario;
  setenv("FAKE_NVML_CONFIG", path.c_str(), 1);
  return ct::gpu::query_host_gpus(ct::NvmlLibrary::load(library), FAKE_CUDA_PATH);
}

// The probe's options with the stand-in libraries (and no ROCm SMI at all).
ct::gpu::GpuOptions probe_options(const char* cuda_library) {
  ct::gpu::GpuOptions options;
  options.settings = {{"CONFIG_TRACKER_NVML_LIBRARY", FAKE_NVML_PATH},
                      {"CONFIG_TRACKER_CUDA_LIBRARY", cuda_library},
                      {"CONFIG_TRACKER_ROCM_SMI_LIBRARY", "/nonexistent/librocm_smi64.so.1"}};
  return options;
}

std::vector<ct::gpu::VisibleGpu> select(const VendorReport& host, std::optional<std::string> value) {
  return ct::gpu::select_visible_gpus(host.gpus, value);
}

}  // namespace

TEST(GpuProbe, ReadsEveryFieldOfTwoGpus) {
  VendorReport host = query(kTwoH100);
  EXPECT_EQ(host.unavailable_code, "");
  EXPECT_EQ(host.driver_version, "550.54.15");
  ASSERT_TRUE(host.runtime.has_value());
  EXPECT_EQ(host.runtime->name, "cuda");
  EXPECT_EQ(host.runtime->version, "12.4");
  EXPECT_EQ(host.runtime->number, 12040);
  ASSERT_EQ(host.host_gpu_count, 2u);
  ASSERT_EQ(host.gpus.size(), 2u);
  const GpuInfo& gpu = host.gpus[1];
  EXPECT_EQ(gpu.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu.uuid, "GPU-e429a63e-c61c-4795-b757-5132caeb8e70");
  EXPECT_EQ(gpu.memory_total_bytes, 85520809984ull);
  EXPECT_EQ(gpu.compute_capability_major, 9);
  EXPECT_EQ(gpu.compute_capability_minor, 0);
  EXPECT_EQ(gpu.pci_bus_id, "00000000:2A:00.0");
  EXPECT_EQ(gpu.mig_mode, false);
}

TEST(GpuProbe, VisibleDevicesReorderAndNumberFromZero) {
  VendorReport host = query(kTwoH100);
  auto visible = select(host, std::string("1,0"));
  ASSERT_EQ(visible.size(), 2u);
  EXPECT_EQ(visible[0].index, 0);
  EXPECT_EQ(visible[0].info.physical_index, 1u);
  EXPECT_EQ(visible[1].info.physical_index, 0u);
  EXPECT_EQ(select(host, std::string("GPU-e4")).at(0).info.physical_index, 1u);
  EXPECT_TRUE(select(host, std::string("")).empty());
  EXPECT_EQ(select(host, std::string("1,7,0")).size(), 1u);
}

TEST(GpuProbe, InitFailuresBecomeReasons) {
  VendorReport host = query("init 9\n");
  EXPECT_EQ(host.unavailable_code, "NVML_DRIVER_NOT_LOADED");
  EXPECT_EQ(host.unavailable_reason, "NVIDIA driver not loaded");
  host = query("init 18\n");
  EXPECT_EQ(host.unavailable_code, "NVML_LIB_RM_VERSION_MISMATCH");
  EXPECT_EQ(host.unavailable_reason,
            "driver/library version mismatch: reboot or reload the nvidia kernel module");
  host = query("init 4\n");
  EXPECT_EQ(host.unavailable_code, "NVML_NO_PERMISSION");
}

TEST(GpuProbe, ZeroDevices) {
  VendorReport host = query("driver 550.54.15\ncuda 12040\n");
  EXPECT_EQ(host.unavailable_code, "NO_GPU");
  EXPECT_EQ(host.host_gpu_count, 0u);
  EXPECT_EQ(host.driver_version, "550.54.15");
}

TEST(GpuProbe, MissingLibrary) {
  VendorReport host = query("", "/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(host.library_loaded);
  EXPECT_EQ(host.unavailable_code, "NVML_LIBRARY_NOT_FOUND");
  EXPECT_EQ(host.unavailable_reason, "/nonexistent/libnvidia-ml.so.1 not found");
}

TEST(GpuProbe, LegacyLibraryNullsOnlyWhatItLacks) {
  setenv("FAKE_CUDA_VERSION", "11040", 1);
  VendorReport host = query(kTwoH100, FAKE_NVML_LEGACY_PATH);
  unsetenv("FAKE_CUDA_VERSION");
  ASSERT_EQ(host.gpus.size(), 2u);
  const GpuInfo& gpu = host.gpus[0];
  EXPECT_EQ(gpu.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu.memory_total_bytes, 85520809984ull);     // from nvmlDeviceGetMemoryInfo
  EXPECT_EQ(gpu.pci_bus_id, "0000:18:00.0");               // the v1 struct's busId
  EXPECT_FALSE(gpu.compute_capability_major.has_value());  // symbol absent
  EXPECT_FALSE(gpu.mig_mode.has_value());
  EXPECT_EQ(host.runtime->number, 11040);                  // from libcuda's cuDriverGetVersion
}

TEST(GpuProbe, PerDeviceHandleFailureKeepsTheOthers) {
  VendorReport host = query(std::string(kTwoH100) + "gpu handle_error=4\n");
  ASSERT_EQ(host.gpus.size(), 3u);
  EXPECT_EQ(host.gpus[2].error, "NVML_NO_PERMISSION");
  EXPECT_FALSE(host.gpus[2].name.has_value());
  EXPECT_EQ(host.gpus[0].name, "NVIDIA H100 80GB HBM3");
}

TEST(GpuProbe, MigDevicesReplaceTheirParent) {
  VendorReport host = query(
      "gpu name=\"NVIDIA A100-SXM4-40GB\" uuid=GPU-aaaa1111 memory=42949672960 cc=8.0 "
      "bus=00000000:07:00.0 mig=1\n"
      "mig name=\"NVIDIA A100-SXM4-40GB MIG 3g.20gb\" uuid=MIG-1111aaaa memory=20937965568\n"
      "mig name=\"NVIDIA A100-SXM4-40GB MIG 1g.5gb\" uuid=MIG-2222bbbb memory=4836032512\n"
      "gpu name=\"NVIDIA V100\" uuid=GPU-bbbb2222 memory=17179869184 cc=7.0 bus=00000000:08:00.0 "
      "mig=unsupported\n");
  ASSERT_EQ(host.gpus.size(), 2u);
  EXPECT_EQ(host.gpus[0].mig_mode, true);
  EXPECT_EQ(host.gpus[1].mig_mode, false);  // NOT_SUPPORTED before Ampere
  ASSERT_EQ(host.gpus[0].mig_devices.size(), 2u);
  EXPECT_EQ(host.gpus[0].mig_devices[1].parent_uuid, "GPU-aaaa1111");
  EXPECT_EQ(host.gpus[0].mig_devices[1].compute_capability_major, 8);

  auto all = select(host, std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].info.uuid, "MIG-1111aaaa");
  EXPECT_EQ(all[2].info.uuid, "GPU-bbbb2222");
  auto one = select(host, std::string("MIG-2222"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].info.memory_total_bytes, 4836032512ull);
  EXPECT_EQ(one[0].index, 0);
}

TEST(GpuProbe, SlowInitIsBoundedByTimeout) {
  std::string path = scratch_dir() + "/slow.txt";
  std::ofstream(path) << "init_delay_ms 400\n" << kTwoH100;
  setenv("FAKE_NVML_CONFIG", path.c_str(), 1);
  ct::gpu::GpuOptions options = probe_options(FAKE_CUDA_PATH);
  options.timeout_ms = 50;
  ct::gpu::GpuReport first = ct::gpu::probe_gpus(options);
  EXPECT_EQ(first.unavailable_code, "NVML_TIMEOUT");
  // NVIDIA's library is being asked: only its answer matters (ROCm SMI is not there at all).
  EXPECT_EQ(first.unavailable_reason, "NVML did not answer within 50 ms (still trying)");
  options.timeout_ms = 5000;  // the same query, still running, is waited for, not restarted
  ct::gpu::GpuReport second = ct::gpu::probe_gpus(options);
  EXPECT_EQ(second.unavailable_code, "");
  EXPECT_EQ(second.vendors.at(0).visible.size(), 2u);
}

TEST(GpuProbe, InitialisedOncePerProcessAndAgainAfterFork) {
  std::string scenario = scratch_dir() + "/fork.txt";
  std::string log = scratch_dir() + "/fork.log";
  std::ofstream(scenario) << kTwoH100;
  std::remove(log.c_str());
  setenv("FAKE_NVML_CONFIG", scenario.c_str(), 1);
  setenv("FAKE_NVML_LOG", log.c_str(), 1);
  ct::gpu::GpuOptions options = probe_options("/nonexistent/libcuda.so.1");  // a key of its own: a fresh query
  options.timeout_ms = 5000;
  auto visible = [&] { return ct::gpu::probe_gpus(options).vendors.at(0).visible.size(); };
  EXPECT_EQ(visible(), 2u);
  EXPECT_EQ(visible(), 2u);  // cached: no second nvmlInit

  pid_t child = fork();
  if (child == 0) {
    _exit(visible() == 2 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  unsetenv("FAKE_NVML_LOG");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  std::ifstream in(log);
  std::map<std::string, int> inits_per_pid;
  std::string pid, call;
  while (in >> pid >> call) {
    if (call == "nvmlInit_v2") inits_per_pid[pid] += 1;
  }
  ASSERT_EQ(inits_per_pid.size(), 2u);  // parent and child
  for (const auto& [p, count] : inits_per_pid) EXPECT_EQ(count, 1) << "pid " << p;
}
