#include "nvml_library.h"

namespace ct {

NvmlLibrary NvmlLibrary::load(const std::string& path) {
  NvmlLibrary nvml;
  nvml.path = path;
  nvml.library = DynamicLibrary::open(path, nvml.load_error);
  if (!nvml.loaded()) return nvml;

  const DynamicLibrary& lib = nvml.library;
  NvmlFunctions& fn = nvml.fn;
  fn.init = lib.first_symbol<nvml::InitFn>("nvmlInit_v2", "nvmlInit");
  fn.shutdown = lib.first_symbol<nvml::ShutdownFn>("nvmlShutdown");
  fn.system_get_driver_version =
      lib.first_symbol<nvml::SystemGetDriverVersionFn>("nvmlSystemGetDriverVersion");
  fn.system_get_cuda_driver_version = lib.first_symbol<nvml::SystemGetCudaDriverVersionFn>(
      "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
  fn.device_get_count =
      lib.first_symbol<nvml::DeviceGetCountFn>("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  fn.device_get_handle_by_index = lib.first_symbol<nvml::DeviceGetHandleByIndexFn>(
      "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
  fn.device_get_name = lib.first_symbol<nvml::DeviceGetStringFn>("nvmlDeviceGetName");
  fn.device_get_uuid = lib.first_symbol<nvml::DeviceGetStringFn>("nvmlDeviceGetUUID");
  fn.device_get_memory_info_v2 =
      lib.first_symbol<nvml::DeviceGetMemoryInfoV2Fn>("nvmlDeviceGetMemoryInfo_v2");
  fn.device_get_memory_info =
      lib.first_symbol<nvml::DeviceGetMemoryInfoFn>("nvmlDeviceGetMemoryInfo");
  fn.device_get_pci_info = lib.first_symbol<nvml::DeviceGetPciInfoFn>(
      "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2");
  fn.device_get_pci_info_v1 = lib.first_symbol<nvml::DeviceGetPciInfoFn>("nvmlDeviceGetPciInfo");
  fn.device_get_cuda_compute_capability = lib.first_symbol<nvml::DeviceGetCudaComputeCapabilityFn>(
      "nvmlDeviceGetCudaComputeCapability");
  fn.device_get_mig_mode = lib.first_symbol<nvml::DeviceGetMigModeFn>("nvmlDeviceGetMigMode");
  fn.device_get_max_mig_device_count = lib.first_symbol<nvml::DeviceGetMaxMigDeviceCountFn>(
      "nvmlDeviceGetMaxMigDeviceCount");
  fn.device_get_mig_device_handle_by_index =
      lib.first_symbol<nvml::DeviceGetMigDeviceHandleByIndexFn>(
          "nvmlDeviceGetMigDeviceHandleByIndex");
  fn.device_get_utilization_rates =
      lib.first_symbol<nvml::DeviceGetUtilizationRatesFn>("nvmlDeviceGetUtilizationRates");
  fn.device_get_power_usage = lib.first_symbol<nvml::DeviceGetUintFn>("nvmlDeviceGetPowerUsage");
  fn.device_get_enforced_power_limit =
      lib.first_symbol<nvml::DeviceGetUintFn>("nvmlDeviceGetEnforcedPowerLimit");
  fn.device_get_temperature = lib.first_symbol<nvml::DeviceGetTemperatureFn>("nvmlDeviceGetTemperature");
  fn.device_get_clock_info = lib.first_symbol<nvml::DeviceGetClockInfoFn>("nvmlDeviceGetClockInfo");
  fn.device_get_clock_event_reasons = lib.first_symbol<nvml::DeviceGetClockEventReasonsFn>(
      "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
  fn.device_get_compute_running_processes = lib.first_symbol<nvml::DeviceGetComputeRunningProcessesFn>(
      "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2");
  fn.device_get_compute_running_processes_v1 =
      lib.first_symbol<nvml::DeviceGetComputeRunningProcessesV1Fn>("nvmlDeviceGetComputeRunningProcesses");
  fn.gpm_query_device_support = lib.first_symbol<nvml::GpmQueryDeviceSupportFn>("nvmlGpmQueryDeviceSupport");
  fn.gpm_sample_alloc = lib.first_symbol<nvml::GpmSampleAllocFn>("nvmlGpmSampleAlloc");
  fn.gpm_sample_free = lib.first_symbol<nvml::GpmSampleFreeFn>("nvmlGpmSampleFree");
  fn.gpm_sample_get = lib.first_symbol<nvml::GpmSampleGetFn>("nvmlGpmSampleGet");
  fn.gpm_metrics_get = lib.first_symbol<nvml::GpmMetricsGetFn>("nvmlGpmMetricsGet");
  return nvml;
}

namespace nvml {

const char* return_name(Return code) {
  switch (code) {
    case kSuccess: return "NVML_SUCCESS";
    case kErrorUninitialized: return "NVML_ERROR_UNINITIALIZED";
    case kErrorInvalidArgument: return "NVML_ERROR_INVALID_ARGUMENT";
    case kErrorNotSupported: return "NVML_ERROR_NOT_SUPPORTED";
    case kErrorNoPermission: return "NVML_ERROR_NO_PERMISSION";
    case kErrorAlreadyInitialized: return "NVML_ERROR_ALREADY_INITIALIZED";
    case kErrorNotFound: return "NVML_ERROR_NOT_FOUND";
    case kErrorInsufficientSize: return "NVML_ERROR_INSUFFICIENT_SIZE";
    case kErrorInsufficientPower: return "NVML_ERROR_INSUFFICIENT_POWER";
    case kErrorDriverNotLoaded: return "NVML_ERROR_DRIVER_NOT_LOADED";
    case kErrorTimeout: return "NVML_ERROR_TIMEOUT";
    case kErrorIrqIssue: return "NVML_ERROR_IRQ_ISSUE";
    case kErrorLibraryNotFound: return "NVML_ERROR_LIBRARY_NOT_FOUND";
    case kErrorFunctionNotFound: return "NVML_ERROR_FUNCTION_NOT_FOUND";
    case kErrorCorruptedInforom: return "NVML_ERROR_CORRUPTED_INFOROM";
    case kErrorGpuIsLost: return "NVML_ERROR_GPU_IS_LOST";
    case kErrorResetRequired: return "NVML_ERROR_RESET_REQUIRED";
    case kErrorOperatingSystem: return "NVML_ERROR_OPERATING_SYSTEM";
    case kErrorLibRmVersionMismatch: return "NVML_ERROR_LIB_RM_VERSION_MISMATCH";
    case kErrorInUse: return "NVML_ERROR_IN_USE";
    case kErrorMemory: return "NVML_ERROR_MEMORY";
    case kErrorNoData: return "NVML_ERROR_NO_DATA";
    case kErrorUnknown: return "NVML_ERROR_UNKNOWN";
    default: return "NVML_ERROR_UNRECOGNIZED";
  }
}

}  // namespace nvml
}  // namespace ct
