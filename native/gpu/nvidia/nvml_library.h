// libnvidia-ml loaded at run time, with every entry point the probe uses resolved into a table.
// Newer ABI variants (_v2, _v3) are preferred; an older driver's unversioned symbol is the
// fallback; a symbol missing altogether leaves its slot null and only its own field unknown.
#pragma once

#include <string>

#include "../../common/dynamic_library.h"
#include "nvml_api.h"

namespace ct {

struct NvmlFunctions {
  nvml::InitFn init = nullptr;                                    // nvmlInit_v2, nvmlInit
  nvml::ShutdownFn shutdown = nullptr;                            // nvmlShutdown
  nvml::SystemGetDriverVersionFn system_get_driver_version = nullptr;
  nvml::SystemGetCudaDriverVersionFn system_get_cuda_driver_version = nullptr;  // _v2, plain
  nvml::DeviceGetCountFn device_get_count = nullptr;              // _v2, plain
  nvml::DeviceGetHandleByIndexFn device_get_handle_by_index = nullptr;  // _v2, plain
  nvml::DeviceGetStringFn device_get_name = nullptr;
  nvml::DeviceGetStringFn device_get_uuid = nullptr;
  nvml::DeviceGetMemoryInfoV2Fn device_get_memory_info_v2 = nullptr;
  nvml::DeviceGetMemoryInfoFn device_get_memory_info = nullptr;
  nvml::DeviceGetPciInfoFn device_get_pci_info = nullptr;        // _v3, _v2 (same struct)
  nvml::DeviceGetPciInfoFn device_get_pci_info_v1 = nullptr;     // plain: only the leading busId
  nvml::DeviceGetCudaComputeCapabilityFn device_get_cuda_compute_capability = nullptr;
  nvml::DeviceGetMigModeFn device_get_mig_mode = nullptr;
  nvml::DeviceGetMaxMigDeviceCountFn device_get_max_mig_device_count = nullptr;
  nvml::DeviceGetMigDeviceHandleByIndexFn device_get_mig_device_handle_by_index = nullptr;
  // Sampling.
  nvml::DeviceGetUtilizationRatesFn device_get_utilization_rates = nullptr;
  nvml::DeviceGetUintFn device_get_power_usage = nullptr;
  nvml::DeviceGetUintFn device_get_enforced_power_limit = nullptr;
  nvml::DeviceGetTemperatureFn device_get_temperature = nullptr;
  nvml::DeviceGetClockInfoFn device_get_clock_info = nullptr;
  nvml::DeviceGetClockEventReasonsFn device_get_clock_event_reasons = nullptr;  // ...EventReasons, ...ThrottleReasons
  nvml::DeviceGetComputeRunningProcessesFn device_get_compute_running_processes = nullptr;  // _v3, _v2
  nvml::DeviceGetComputeRunningProcessesV1Fn device_get_compute_running_processes_v1 = nullptr;
  nvml::GpmQueryDeviceSupportFn gpm_query_device_support = nullptr;
  nvml::GpmSampleAllocFn gpm_sample_alloc = nullptr;
  nvml::GpmSampleFreeFn gpm_sample_free = nullptr;
  nvml::GpmSampleGetFn gpm_sample_get = nullptr;
  nvml::GpmMetricsGetFn gpm_metrics_get = nullptr;
};

struct NvmlLibrary {
  DynamicLibrary library;
  NvmlFunctions fn;
  std::string path;        // what was passed to dlopen
  std::string load_error;  // dlerror() text when the library could not be opened

  bool loaded() const { return library.is_open(); }

  // Opens `path` and fills the table. Never throws; check loaded().
  static NvmlLibrary load(const std::string& path);
};

}  // namespace ct
