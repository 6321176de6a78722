// The AMD probe against the stand-in ROCm SMI (test/support/fake_rocm_smi.c) and Debian's real
// librocm_smi64 on this GPU-less host; KFD's topology from a file tree laid out as sysfs lays it.
#include "amd_probe.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "captured_output.h"
#include "hip_runtime.h"
#include "kfd_topology.h"
#include "probe.h"
#include "rocm_visible_devices.h"
#include "support/scratch.h"

namespace {

using ct_test::CapturedOutput;

const char kTwoMi300x[] =
    "version 7.1.0\n"
    "driver 6.8.5\n"
    "gpu name=\"AMD Instinct MI300X\" unique_id=0x8a3c4f2e11d09b27 bdf=0xc100 vram=205822885888 "
    "serial=692401000123 vbios=113-M3000100-102 partition=SPX busy=40\n"
    "gpu name=\"AMD Instinct MI300X\" unique_id=0x5f10b7a9c2e3d481 bdf=0x000000000000e100 vram=205822885888 "
    "serial=692401000456 vbios=113-M3000100-102 partition=SPX busy=40\n";

std::string scratch(const std::string& name) {
  return scratch_dir() + "/" + name;
}

void use_scenario(const std::string& scenario) {
  std::string path = scratch("amd-scenario.txt");
  std::ofstream(path) << scenario;
  setenv("FAKE_RSMI_CONFIG", path.c_str(), 1);
}

// A copy of the stand-in of its own: ROCm SMI is started once per library and process, so each
// scenario gets a library that has not been started yet, whatever ran before in this process.
std::string stub(const std::string& name, const char* built = FAKE_ROCM_SMI_PATH) {
  std::string dir = scratch("rsmi-" + name);
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/librocm_smi64.so.1";
  std::filesystem::copy_file(built, path, std::filesystem::copy_options::overwrite_existing);
  return path;
}

ct::gpu::GpuOptions options(const std::string& library, const std::string& hip = FAKE_HIP_PATH) {
  ct::gpu::GpuOptions out;
  out.settings = {{"CONFIG_TRACKER_ROCM_SMI_LIBRARY", library}, {"CONFIG_TRACKER_HIP_LIBRARY", hip}};
  return out;
}

std::vector<std::string> log_lines(const std::string& path) {
  std::vector<std::string> calls;
  std::ifstream in(path);
  std::string pid, call;
  while (in >> pid >> call) calls.push_back(pid + " " + call);
  return calls;
}

}  // namespace

TEST(AmdProbe, ReadsEveryFieldOfTwoGpus) {
  use_scenario(kTwoMi300x);
  ct::gpu::VendorReport host = ct::gpu::query_amd_host(options(stub("fields")));
  EXPECT_EQ(host.unavailable_code, "");
  EXPECT_EQ(host.vendor, "amd");
  EXPECT_TRUE(host.library_loaded);
  EXPECT_TRUE(host.driver_present);  // named explicitly: it stands for the driver
  EXPECT_EQ(host.driver_version, "6.8.5");
  ASSERT_EQ(host.gpus.size(), 2u);
  const ct::gpu::GpuInfo& gpu = host.gpus[1];
  EXPECT_EQ(gpu.physical_index, 1u);
  EXPECT_EQ(gpu.name, "AMD Instinct MI300X");
  EXPECT_EQ(gpu.uuid, "GPU-5f10b7a9c2e3d481");
  EXPECT_EQ(gpu.pci_bus_id, "0000:e1:00.0");
  EXPECT_EQ(gpu.memory_total_bytes, 205822885888ull);
  EXPECT_EQ(gpu.serial, "692401000456");
  EXPECT_EQ(gpu.vbios_version, "113-M3000100-102");
  EXPECT_EQ(host.gpus[0].pci_bus_id, "0000:c1:00.0");
  // The HIP runtime's version from its file name, libamdhip64.so.6.2.60200.
  ASSERT_TRUE(host.runtime.has_value());
  EXPECT_EQ(host.runtime->name, "hip");
  EXPECT_EQ(host.runtime->version, "6.2.60200");
}

TEST(AmdProbe, HipIsLoadedButNeverStarted) {
  std::string log = scratch("hip-calls.log");
  std::remove(log.c_str());
  setenv("FAKE_HIP_LOG", log.c_str(), 1);
  EXPECT_EQ(ct::gpu::hip_runtime_version({FAKE_HIP_PATH})->version, "6.2.60200");
  unsetenv("FAKE_HIP_LOG");
  EXPECT_TRUE(log_lines(log).empty());  // neither hipRuntimeGetVersion nor hipDriverGetVersion ran
  EXPECT_FALSE(ct::gpu::hip_runtime_version({"/nonexistent/libamdhip64.so"}).has_value());
}

TEST(AmdProbe, HipVersionFromTheLibrarysFileName) {
  EXPECT_EQ(ct::gpu::hip_version_from_path("/opt/rocm-6.2.0/lib/libamdhip64.so.6.2.60200"), "6.2.60200");
  EXPECT_EQ(ct::gpu::hip_version_from_path("/usr/lib/libamdhip64.so.5.2.21153-b8375a51"), "5.2.21153");
  EXPECT_FALSE(ct::gpu::hip_version_from_path("/site-packages/torch/lib/libamdhip64.so").has_value());
  EXPECT_FALSE(ct::gpu::hip_version_from_path("libamdhip64.so.6").has_value());
  EXPECT_FALSE(ct::gpu::hip_version_from_path("libamdhip64.so.6.x.1").has_value());
}

TEST(AmdProbe, ComputePartitionsAreNamed) {
  use_scenario(
      "gpu name=\"AMD Instinct MI300X\" unique_id=0x11 bdf=0xc100 partition=CPX\n"
      "gpu name=\"AMD Instinct MI300X\" unique_id=0x12 bdf=0xc101 partition=CPX\n");
  ct::gpu::VendorReport host = ct::gpu::query_amd_host(options(stub("partitions"), "/nonexistent/libamdhip64.so"));
  ASSERT_EQ(host.gpus.size(), 2u);
  EXPECT_EQ(host.gpus[0].name, "AMD Instinct MI300X (CPX partition)");
  EXPECT_EQ(host.gpus[1].pci_bus_id, "0000:c1:00.1");
  EXPECT_FALSE(host.runtime.has_value());
}

TEST(AmdProbe, AnOlderLibraryNullsOnlyWhatItLacks) {
  use_scenario(kTwoMi300x);
  std::string log = scratch("rsmi-old.log");
  std::remove(log.c_str());
  setenv("FAKE_RSMI_LOG", log.c_str(), 1);
  ct::gpu::VendorReport host = ct::gpu::query_amd_host(options(stub("old", FAKE_ROCM_SMI_OLD_PATH)));
  unsetenv("FAKE_RSMI_LOG");
  ASSERT_EQ(host.gpus.size(), 2u);
  EXPECT_EQ(host.gpus[0].name, "AMD Instinct MI300X");  // no partition getter: the plain name
  EXPECT_EQ(host.gpus[0].serial, "692401000123");
  for (const std::string& call : log_lines(log)) EXPECT_EQ(call.find("partition"), std::string::npos) << call;
}

TEST(AmdProbe, InitFailuresBecomeReasons) {
  use_scenario("init 8\n");
  ct::gpu::VendorReport host = ct::gpu::query_amd_host(options(stub("init8")));
  EXPECT_EQ(host.unavailable_code, "ROCM_SMI_INIT_ERROR");
  EXPECT_EQ(host.unavailable_reason, "ROCm SMI could not start (RSMI_STATUS_INIT_ERROR): is the amdgpu driver loaded?");
  EXPECT_EQ(host.init_result, 8);
  use_scenario("init 4\n");
  host = ct::gpu::query_amd_host(options(stub("init4")));
  EXPECT_EQ(host.unavailable_code, "ROCM_SMI_PERMISSION");
  EXPECT_EQ(host.unavailable_reason, "no permission to use the AMD GPU driver (check access to /dev/kfd and /dev/dri)");
  use_scenario("driver 6.8.5\n");
  host = ct::gpu::query_amd_host(options(stub("none")));
  EXPECT_EQ(host.unavailable_code, "NO_GPU");
  EXPECT_EQ(host.unavailable_reason, "no AMD GPU found");
  EXPECT_EQ(host.driver_version, "6.8.5");
}

TEST(AmdProbe, MissingLibraryAndNoDriver) {
  ct::gpu::VendorReport named = ct::gpu::query_amd_host(options("/nonexistent/librocm_smi64.so.1"));
  EXPECT_EQ(named.unavailable_code, "ROCM_SMI_LIBRARY_NOT_FOUND");
  EXPECT_EQ(named.unavailable_reason, "/nonexistent/librocm_smi64.so.1 not found");
  EXPECT_FALSE(named.driver_present);
  // Found the default way on this host (Debian's librocm-smi64-1), but no amdgpu driver: loaded,
  // never started.
  ct::gpu::GpuOptions defaults;
  ASSERT_FALSE(ct::gpu::kfd_present()) << "this test expects a host without an AMD GPU";
  ct::gpu::VendorReport found = ct::gpu::query_amd_host(defaults);
  EXPECT_EQ(found.unavailable_code, "AMD_DRIVER_NOT_LOADED");
  EXPECT_EQ(found.unavailable_reason, "no AMD GPU driver is loaded (neither /dev/kfd nor /sys/class/kfd exists)");
  EXPECT_TRUE(found.library_loaded);
  EXPECT_EQ(found.library_path, "librocm_smi64.so.1");
  EXPECT_FALSE(found.init_result.has_value());
  EXPECT_FALSE(found.driver_present);
}

// Debian's real library named explicitly, on a host without the amdgpu driver: it is started
// (never skipped when named), fails, and what it prints goes nowhere.
TEST(AmdProbe, DebiansRealLibraryFailsQuietly) {
  CapturedOutput captured;
  ct::gpu::VendorReport host = ct::gpu::query_amd_host(options("/usr/lib/librocm_smi64.so.1"));
  captured.restore();
  EXPECT_EQ(host.unavailable_code, "ROCM_SMI_INIT_ERROR");
  EXPECT_EQ(host.init_result, 8);
  EXPECT_EQ(captured.text(2), "");  // not "Failed to open drm root directory ..." nor "Exception caught: rsmi_init."
  EXPECT_EQ(captured.text(1), "");
}

TEST(AmdProbe, StartedOncePerProcessAndRefusedAfterFork) {
  std::string log = scratch("rsmi-fork.log");
  std::remove(log.c_str());
  use_scenario(kTwoMi300x);
  setenv("FAKE_RSMI_LOG", log.c_str(), 1);
  ct::gpu::GpuOptions probe = options(stub("fork"));
  probe.settings["CONFIG_TRACKER_NVML_LIBRARY"] = "/nonexistent/libnvidia-ml.so.1";
  probe.timeout_ms = 5000;
  ct::gpu::GpuReport first = ct::gpu::probe_gpus(probe);
  ASSERT_EQ(first.vendors.size(), 2u);
  EXPECT_EQ(first.vendors[1].visible.size(), 2u);
  EXPECT_EQ(first.unavailable_code, "");
  ct::gpu::query_amd_host(probe);  // the sampler's own query shares the started library
  pid_t child = fork();
  if (child == 0) {
    ct::gpu::VendorReport host = ct::gpu::query_amd_host(probe);
    _exit(host.unavailable_code == "ROCM_SMI_FORKED" ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  unsetenv("FAKE_RSMI_LOG");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  int inits = 0;
  for (const std::string& call : log_lines(log)) inits += call.find("rsmi_init") != std::string::npos;
  EXPECT_EQ(inits, 1);
}

TEST(AmdProbe, GpusAreNumberedInKfdTopologyOrder) {
  // ROCm SMI lists by PCI address; KFD (and so the runtime) has the second one first.
  std::string root = scratch("kfd-root");
  std::string nodes = root + "/sys/class/kfd/kfd/topology/nodes";
  for (const char* dir : {"", "/sys", "/sys/class", "/sys/class/kfd", "/sys/class/kfd/kfd", "/sys/class/kfd/kfd/topology",
                          "/sys/class/kfd/kfd/topology/nodes", "/sys/class/kfd/kfd/topology/nodes/0",
                          "/sys/class/kfd/kfd/topology/nodes/1", "/sys/class/kfd/kfd/topology/nodes/2"}) {
    mkdir((root + dir).c_str(), 0755);
  }
  // As the kernel prints them (kfd_topology.c: "%s %llu\n" per property); node 0 is the CPU.
  std::ofstream(nodes + "/0/properties") << "cpu_cores_count 96\nsimd_count 0\nunique_id 0\n";
  std::ofstream(nodes + "/1/properties") << "cpu_cores_count 0\nsimd_count 1216\nunique_id 6850176972977591425\n";
  std::ofstream(nodes + "/2/properties") << "cpu_cores_count 0\nsimd_count 1216\nunique_id 9960923535122668327\n";
  auto ids = ct::gpu::kfd_gpu_unique_ids(root);
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(*ids, (std::vector<std::uint64_t>{0x5f10b7a9c2e3d481, 0x8a3c4f2e11d09b27}));
  // The runtime's GPU 0 is ROCm SMI's GPU 1: ROCR_VISIBLE_DEVICES=0 means that one.
  ct::gpu::VendorReport report;
  for (std::uint64_t id : {0x8a3c4f2e11d09b27ull, 0x5f10b7a9c2e3d481ull}) {
    ct::gpu::GpuInfo gpu;
    gpu.physical_index = static_cast<unsigned>(report.gpus.size());
    gpu.uuid = ct::gpu::rocm_uuid(id);
    report.gpus.push_back(gpu);
  }
  report.runtime_order = ct::gpu::kfd_order(report.gpus, *ids);
  EXPECT_EQ(report.runtime_order, (std::vector<std::size_t>{1, 0}));
  ct::gpu::GpuOptions rocr;
  rocr.environment = {{"ROCR_VISIBLE_DEVICES", "0"}};
  ct::gpu::select_amd_visible(report, rocr);
  ASSERT_EQ(report.visible.size(), 1u);
  EXPECT_EQ(report.visible[0].info.physical_index, 1u);
  // Ids that do not match one to one leave ROCm SMI's order.
  EXPECT_TRUE(ct::gpu::kfd_order(report.gpus, {0x8a3c4f2e11d09b27ull, 0x8a3c4f2e11d09b27ull}).empty());
  EXPECT_TRUE(ct::gpu::kfd_order(report.gpus, {0x8a3c4f2e11d09b27ull}).empty());
  EXPECT_TRUE(ct::gpu::kfd_present(root));
  EXPECT_FALSE(ct::gpu::kfd_present(root + "/nowhere"));
  EXPECT_FALSE(ct::gpu::kfd_gpu_unique_ids(root + "/nowhere").has_value());
  EXPECT_EQ(ct::gpu::kfd_property("simd_count 304\nunique_id 77\n", "unique_id"), 77u);
  EXPECT_FALSE(ct::gpu::kfd_property("unique_id_x 5\n", "unique_id").has_value());
  EXPECT_FALSE(ct::gpu::kfd_property("unique_id -5\n", "unique_id").has_value());
}
