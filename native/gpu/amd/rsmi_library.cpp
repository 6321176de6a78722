#include "rsmi_library.h"

namespace ct::gpu {

RsmiLibrary RsmiLibrary::load(const std::string& path) {
  RsmiLibrary rsmi;
  rsmi.path = path;
  rsmi.library = DynamicLibrary::open(path, rsmi.load_error);
  if (!rsmi.loaded()) return rsmi;

  const DynamicLibrary& lib = rsmi.library;
  RsmiFunctions& fn = rsmi.fn;
  fn.init = lib.first_symbol<rsmi::InitFn>("rsmi_init");
  fn.num_monitor_devices = lib.first_symbol<rsmi::NumMonitorDevicesFn>("rsmi_num_monitor_devices");
  fn.version_get = lib.first_symbol<rsmi::VersionGetFn>("rsmi_version_get");
  fn.version_str_get = lib.first_symbol<rsmi::VersionStrGetFn>("rsmi_version_str_get");
  fn.dev_name_get = lib.first_symbol<rsmi::DevNameGetFn>("rsmi_dev_name_get");
  fn.dev_unique_id_get = lib.first_symbol<rsmi::DevU64GetFn>("rsmi_dev_unique_id_get");
  fn.dev_pci_id_get = lib.first_symbol<rsmi::DevU64GetFn>("rsmi_dev_pci_id_get");
  fn.dev_serial_number_get = lib.first_symbol<rsmi::DevStringGetFn>("rsmi_dev_serial_number_get");
  fn.dev_vbios_version_get = lib.first_symbol<rsmi::DevStringGetFn>("rsmi_dev_vbios_version_get");
  fn.dev_compute_partition_get = lib.first_symbol<rsmi::DevStringGetFn>("rsmi_dev_compute_partition_get");
  fn.dev_memory_total_get = lib.first_symbol<rsmi::DevMemoryGetFn>("rsmi_dev_memory_total_get");
  fn.dev_memory_usage_get = lib.first_symbol<rsmi::DevMemoryGetFn>("rsmi_dev_memory_usage_get");
  fn.dev_busy_percent_get = lib.first_symbol<rsmi::DevU32GetFn>("rsmi_dev_busy_percent_get");
  fn.dev_memory_busy_percent_get = lib.first_symbol<rsmi::DevU32GetFn>("rsmi_dev_memory_busy_percent_get");
  fn.dev_power_ave_get = lib.first_symbol<rsmi::DevSensorU64GetFn>("rsmi_dev_power_ave_get");
  fn.dev_current_socket_power_get = lib.first_symbol<rsmi::DevU64GetFn>("rsmi_dev_current_socket_power_get");
  fn.dev_power_cap_get = lib.first_symbol<rsmi::DevSensorU64GetFn>("rsmi_dev_power_cap_get");
  fn.dev_temp_metric_get = lib.first_symbol<rsmi::DevTempMetricGetFn>("rsmi_dev_temp_metric_get");
  fn.dev_gpu_clk_freq_get = lib.first_symbol<rsmi::DevGpuClkFreqGetFn>("rsmi_dev_gpu_clk_freq_get");
  fn.compute_process_info_get = lib.first_symbol<rsmi::ComputeProcessInfoGetFn>("rsmi_compute_process_info_get");
  fn.compute_process_gpus_get = lib.first_symbol<rsmi::ComputeProcessGpusGetFn>("rsmi_compute_process_gpus_get");
  fn.compute_process_info_by_pid_get =
      lib.first_symbol<rsmi::ComputeProcessInfoByPidGetFn>("rsmi_compute_process_info_by_pid_get");
  fn.compute_process_info_by_device_get =
      lib.first_symbol<rsmi::ComputeProcessInfoByDeviceGetFn>("rsmi_compute_process_info_by_device_get");
  return rsmi;
}

std::vector<std::string> rocm_library_candidates(const std::string& base_name, const std::vector<std::string>& sonames,
                                                 const std::string& rocm_path) {
  std::vector<std::string> candidates;
  for (const std::string& soname : sonames) candidates.push_back(base_name + soname);
  std::vector<std::string> folders;
  if (!rocm_path.empty()) folders.push_back(rocm_path + "/lib/");
  folders.push_back("/opt/rocm/lib/");
  for (const std::string& folder : folders) {
    for (const std::string& soname : sonames) candidates.push_back(folder + base_name + soname);
  }
  return candidates;
}

namespace rsmi {

const char* status_name(Status status) {
  switch (status) {
    case kSuccess: return "RSMI_STATUS_SUCCESS";
    case kInvalidArgs: return "RSMI_STATUS_INVALID_ARGS";
    case kNotSupported: return "RSMI_STATUS_NOT_SUPPORTED";
    case kFileError: return "RSMI_STATUS_FILE_ERROR";
    case kPermission: return "RSMI_STATUS_PERMISSION";
    case kOutOfResources: return "RSMI_STATUS_OUT_OF_RESOURCES";
    case kInternalException: return "RSMI_STATUS_INTERNAL_EXCEPTION";
    case kInputOutOfBounds: return "RSMI_STATUS_INPUT_OUT_OF_BOUNDS";
    case kInitError: return "RSMI_STATUS_INIT_ERROR";
    case kNotYetImplemented: return "RSMI_STATUS_NOT_YET_IMPLEMENTED";
    case kNotFound: return "RSMI_STATUS_NOT_FOUND";
    case kInsufficientSize: return "RSMI_STATUS_INSUFFICIENT_SIZE";
    case kInterrupt: return "RSMI_STATUS_INTERRUPT";
    case kUnexpectedSize: return "RSMI_STATUS_UNEXPECTED_SIZE";
    case kNoData: return "RSMI_STATUS_NO_DATA";
    case kUnexpectedData: return "RSMI_STATUS_UNEXPECTED_DATA";
    case kBusy: return "RSMI_STATUS_BUSY";
    case kRefcountOverflow: return "RSMI_STATUS_REFCOUNT_OVERFLOW";
    case kSettingUnavailable: return "RSMI_STATUS_SETTING_UNAVAILABLE";
    case kAmdgpuRestartError: return "RSMI_STATUS_AMDGPU_RESTART_ERR";
    case kDrmError: return "RSMI_STATUS_DRM_ERROR";
    case kFailLoadModule: return "RSMI_STATUS_FAIL_LOAD_MODULE";
    case kFailLoadSymbol: return "RSMI_STATUS_FAIL_LOAD_SYMBOL";
    case kUnknownError: return "RSMI_STATUS_UNKNOWN_ERROR";
    default: return "RSMI_STATUS_UNRECOGNIZED";
  }
}

}  // namespace rsmi
}  // namespace ct::gpu
