// The slice of ROCm SMI's C ABI the addon calls, declared here so that the build needs no ROCm
// headers. Values and layouts are those of rocm_smi.h; native/test/rocm_smi_abi_test.cpp checks
// each against the installed header (Debian's librocm-smi-dev 5.2.3 in CI). What changed in later
// releases was checked against ROCm's own rocm_smi.h (ROCm 5.7 to 7.0) and is noted where it
// applies. All of them are C functions returning rsmi_status_t (an unsigned 32-bit enum).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ct::gpu::rsmi {

using Status = std::uint32_t;  // rsmi_status_t
constexpr Status kSuccess = 0;
constexpr Status kInvalidArgs = 1;
constexpr Status kNotSupported = 2;   // also what a device's vanished sysfs file reads as (ENOENT)
constexpr Status kFileError = 3;
constexpr Status kPermission = 4;
constexpr Status kOutOfResources = 5;
constexpr Status kInternalException = 6;
constexpr Status kInputOutOfBounds = 7;
constexpr Status kInitError = 8;
constexpr Status kNotYetImplemented = 9;
constexpr Status kNotFound = 10;
constexpr Status kInsufficientSize = 11;
constexpr Status kInterrupt = 12;
constexpr Status kUnexpectedSize = 13;
constexpr Status kNoData = 14;
constexpr Status kUnexpectedData = 15;
constexpr Status kBusy = 16;
constexpr Status kRefcountOverflow = 17;
constexpr Status kSettingUnavailable = 18;  // 18-19 from ROCm 5.7, 20-22 in later releases
constexpr Status kAmdgpuRestartError = 19;
constexpr Status kDrmError = 20;
constexpr Status kFailLoadModule = 21;
constexpr Status kFailLoadSymbol = 22;
constexpr Status kUnknownError = 0xFFFFFFFF;

// rsmi_memory_type_t, rsmi_clk_type_t, rsmi_temperature_type_t, rsmi_temperature_metric_t,
// rsmi_sw_component_t: the members used.
constexpr std::uint32_t kMemTypeVram = 0;
constexpr std::uint32_t kClkTypeSys = 0;  // SCLK, the shader clock
constexpr std::uint32_t kClkTypeMem = 4;  // MCLK
constexpr std::uint32_t kTempTypeEdge = 0;
constexpr std::uint32_t kTempTypeJunction = 1;
constexpr std::uint32_t kTempCurrent = 0;
constexpr std::uint32_t kSwCompDriver = 0;

// rsmi_version_t
struct Version {
  std::uint32_t major;
  std::uint32_t minor;
  std::uint32_t patch;
  const char* build;
};

// rsmi_frequencies_t up to ROCm 5.7 (library version below 7): 32 frequencies.
struct FrequenciesV1 {
  std::uint32_t num_supported;
  std::uint32_t current;
  std::uint64_t frequency[32];
};

// rsmi_frequencies_t from ROCm 6.0 (library version 7): has_deep_sleep first, 33 frequencies.
// Same symbol, different layout: the library's own version says which one it fills.
struct FrequenciesV2 {
  bool has_deep_sleep;
  std::uint32_t num_supported;
  std::uint32_t current;
  std::uint64_t frequency[33];
};
constexpr std::uint32_t kFrequenciesV2FromLibraryMajor = 7;

// rsmi_process_info_t (unchanged from ROCm 5.2 to 7.0).
struct ProcessInfo {
  std::uint32_t process_id;
  std::uint32_t pasid;
  std::uint64_t vram_usage;
  std::uint64_t sdma_usage;
  std::uint32_t cu_occupancy;
};

using InitFn = Status (*)(std::uint64_t init_flags);
using NumMonitorDevicesFn = Status (*)(std::uint32_t* num_devices);
using VersionGetFn = Status (*)(Version* version);
using VersionStrGetFn = Status (*)(std::uint32_t component, char* ver_str, std::uint32_t len);
using DevNameGetFn = Status (*)(std::uint32_t dv_ind, char* name, std::size_t len);
using DevStringGetFn = Status (*)(std::uint32_t dv_ind, char* text, std::uint32_t len);
using DevU64GetFn = Status (*)(std::uint32_t dv_ind, std::uint64_t* value);
using DevU32GetFn = Status (*)(std::uint32_t dv_ind, std::uint32_t* value);
using DevMemoryGetFn = Status (*)(std::uint32_t dv_ind, std::uint32_t mem_type, std::uint64_t* bytes);
using DevSensorU64GetFn = Status (*)(std::uint32_t dv_ind, std::uint32_t sensor_ind, std::uint64_t* value);
using DevTempMetricGetFn = Status (*)(std::uint32_t dv_ind, std::uint32_t sensor_type, std::uint32_t metric,
                                      std::int64_t* millidegrees);
using DevGpuClkFreqGetFn = Status (*)(std::uint32_t dv_ind, std::uint32_t clk_type, void* frequencies);
using ComputeProcessInfoGetFn = Status (*)(ProcessInfo* procs, std::uint32_t* num_items);
using ComputeProcessGpusGetFn = Status (*)(std::uint32_t pid, std::uint32_t* dv_indices, std::uint32_t* num_devices);
using ComputeProcessInfoByPidGetFn = Status (*)(std::uint32_t pid, ProcessInfo* proc);
using ComputeProcessInfoByDeviceGetFn = Status (*)(std::uint32_t pid, std::uint32_t dv_ind, ProcessInfo* proc);

// "RSMI_STATUS_INIT_ERROR"; our own table, since rsmi_status_string may be what is missing.
const char* status_name(Status status);

}  // namespace ct::gpu::rsmi
