// The slice of NVML's C ABI that config-tracker uses, declared here because the addon never
// includes nvml.h nor links libnvidia-ml: everything is resolved with dlsym at run time.
// Layouts and values follow NVIDIA's nvml.h (as mirrored by go-nvml).
#pragma once

#include <cstdint>

namespace ct::nvml {

using Return = int;  // nvmlReturn_t
using Device = struct DeviceOpaque*;  // nvmlDevice_t

enum : Return {
  kSuccess = 0,
  kErrorUninitialized = 1,
  kErrorInvalidArgument = 2,
  kErrorNotSupported = 3,
  kErrorNoPermission = 4,
  kErrorAlreadyInitialized = 5,
  kErrorNotFound = 6,
  kErrorInsufficientSize = 7,
  kErrorInsufficientPower = 8,
  kErrorDriverNotLoaded = 9,
  kErrorTimeout = 10,
  kErrorIrqIssue = 11,
  kErrorLibraryNotFound = 12,
  kErrorFunctionNotFound = 13,
  kErrorCorruptedInforom = 14,
  kErrorGpuIsLost = 15,
  kErrorResetRequired = 16,
  kErrorOperatingSystem = 17,
  kErrorLibRmVersionMismatch = 18,
  kErrorInUse = 19,
  kErrorMemory = 20,
  kErrorNoData = 21,
  kErrorUnknown = 999,
};

constexpr unsigned kDeviceNameBufferSize = 96;        // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kDeviceUuidBufferSize = 96;        // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kSystemDriverVersionBufferSize = 80;
constexpr unsigned kDeviceMigEnable = 1;              // NVML_DEVICE_MIG_ENABLE

struct Memory {  // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct MemoryV2 {  // nvmlMemory_v2_t
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
};
static_assert(sizeof(MemoryV2) == 40, "nvmlMemory_v2_t is 40 bytes");
constexpr unsigned kMemoryV2Version = sizeof(MemoryV2) | (2u << 24u);  // nvmlMemory_v2 = 0x02000028

struct PciInfo {  // nvmlPciInfo_t (v2/v3 layout; v1 put a 16-byte busId first, like busIdLegacy)
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};

struct Utilization {  // nvmlUtilization_t
  unsigned int gpu;
  unsigned int memory;
};

// nvmlProcessInfo_t as the _v2 and _v3 entry points fill it (24 bytes with padding).
struct ProcessInfo {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
static_assert(sizeof(ProcessInfo) == 24, "nvmlProcessInfo_v2_t is 24 bytes");
// What the unversioned nvmlDeviceGetComputeRunningProcesses fills (16 bytes).
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
static_assert(sizeof(ProcessInfoV1) == 16, "nvmlProcessInfo_v1_t is 16 bytes");
constexpr unsigned long long kValueNotAvailable = ~0ULL;  // NVML_VALUE_NOT_AVAILABLE

constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
constexpr int kClockSm = 1;         // NVML_CLOCK_SM

// GPM (GPU performance monitoring, Hopper and newer).
using GpmSample = struct GpmSampleOpaque*;  // nvmlGpmSample_t
struct GpmSupport {                         // nvmlGpmSupport_t
  unsigned int version;                     // NVML_GPM_SUPPORT_VERSION
  unsigned int isSupportedDevice;
};
constexpr unsigned kGpmSupportVersion = 1;
struct GpmMetric {  // nvmlGpmMetric_t
  unsigned int metricId;
  Return nvmlReturn;
  double value;
  struct {
    char* shortName;
    char* longName;
    char* unit;
  } metricInfo;
};
static_assert(sizeof(GpmMetric) == 40, "nvmlGpmMetric_t is 40 bytes");
// nvmlGpmMetricsGet_t. NVML_GPM_METRIC_MAX has grown between headers (98, then more) under the
// same struct version; the driver touches numMetrics entries, but the struct is allocated with
// room for kGpmMetricCapacity so that a driver assuming a larger array stays inside it.
constexpr unsigned kGpmMetricCapacity = 512;
struct GpmMetricsGet {
  unsigned int version;  // NVML_GPM_METRICS_GET_VERSION
  unsigned int numMetrics;
  GpmSample sample1;
  GpmSample sample2;
  GpmMetric metrics[kGpmMetricCapacity];
};
constexpr unsigned kGpmMetricsGetVersion = 1;
enum GpmMetricId : unsigned {
  kGpmSmUtil = 2,
  kGpmSmOccupancy = 3,
  kGpmAnyTensorUtil = 5,
  kGpmDramBwUtil = 10,
};

// Function pointer types, named after the NVML entry points they hold.
using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using SystemGetDriverVersionFn = Return (*)(char*, unsigned int);
using SystemGetCudaDriverVersionFn = Return (*)(int*);
using DeviceGetCountFn = Return (*)(unsigned int*);
using DeviceGetHandleByIndexFn = Return (*)(unsigned int, Device*);
using DeviceGetStringFn = Return (*)(Device, char*, unsigned int);
using DeviceGetMemoryInfoFn = Return (*)(Device, Memory*);
using DeviceGetMemoryInfoV2Fn = Return (*)(Device, MemoryV2*);
using DeviceGetPciInfoFn = Return (*)(Device, PciInfo*);
using DeviceGetCudaComputeCapabilityFn = Return (*)(Device, int*, int*);
using DeviceGetMigModeFn = Return (*)(Device, unsigned int*, unsigned int*);
using DeviceGetMaxMigDeviceCountFn = Return (*)(Device, unsigned int*);
using DeviceGetMigDeviceHandleByIndexFn = Return (*)(Device, unsigned int, Device*);
using DeviceGetUtilizationRatesFn = Return (*)(Device, Utilization*);
using DeviceGetUintFn = Return (*)(Device, unsigned int*);  // power usage, enforced power limit
using DeviceGetTemperatureFn = Return (*)(Device, int, unsigned int*);
using DeviceGetClockInfoFn = Return (*)(Device, int, unsigned int*);
using DeviceGetClockEventReasonsFn = Return (*)(Device, unsigned long long*);
using DeviceGetComputeRunningProcessesFn = Return (*)(Device, unsigned int*, ProcessInfo*);
using DeviceGetComputeRunningProcessesV1Fn = Return (*)(Device, unsigned int*, ProcessInfoV1*);
using GpmQueryDeviceSupportFn = Return (*)(Device, GpmSupport*);
using GpmSampleAllocFn = Return (*)(GpmSample*);
using GpmSampleFreeFn = Return (*)(GpmSample);
using GpmSampleGetFn = Return (*)(Device, GpmSample);
using GpmMetricsGetFn = Return (*)(GpmMetricsGet*);

// Stable names for nvmlReturn_t values; nvmlErrorString itself may be missing from the library.
const char* return_name(Return code);

}  // namespace ct::nvml
