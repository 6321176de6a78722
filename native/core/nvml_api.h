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

// Stable names for nvmlReturn_t values; nvmlErrorString itself may be missing from the library.
const char* return_name(Return code);

}  // namespace ct::nvml
