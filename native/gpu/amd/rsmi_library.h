// librocm_smi64 loaded at run time, every entry point the addon uses resolved into a table. A
// symbol an older library lacks leaves its slot null and only its own figure unknown; nothing is
// ever called through a symbol that was not found.
#pragma once

#include <string>
#include <vector>

#include "../../common/dynamic_library.h"
#include "rsmi_api.h"

namespace ct::gpu {

struct RsmiFunctions {
  rsmi::InitFn init = nullptr;
  rsmi::NumMonitorDevicesFn num_monitor_devices = nullptr;
  rsmi::VersionGetFn version_get = nullptr;
  rsmi::VersionStrGetFn version_str_get = nullptr;
  rsmi::DevNameGetFn dev_name_get = nullptr;
  rsmi::DevU64GetFn dev_unique_id_get = nullptr;
  rsmi::DevU64GetFn dev_pci_id_get = nullptr;
  rsmi::DevStringGetFn dev_serial_number_get = nullptr;
  rsmi::DevStringGetFn dev_vbios_version_get = nullptr;
  rsmi::DevStringGetFn dev_compute_partition_get = nullptr;  // ROCm 5.7 and newer
  rsmi::DevMemoryGetFn dev_memory_total_get = nullptr;
  rsmi::DevMemoryGetFn dev_memory_usage_get = nullptr;
  // Sampling.
  rsmi::DevU32GetFn dev_busy_percent_get = nullptr;
  rsmi::DevU32GetFn dev_memory_busy_percent_get = nullptr;
  rsmi::DevSensorU64GetFn dev_power_ave_get = nullptr;
  rsmi::DevU64GetFn dev_current_socket_power_get = nullptr;  // ROCm 6.0 and newer (MI300 has no average)
  rsmi::DevSensorU64GetFn dev_power_cap_get = nullptr;
  rsmi::DevTempMetricGetFn dev_temp_metric_get = nullptr;
  rsmi::DevGpuClkFreqGetFn dev_gpu_clk_freq_get = nullptr;
  rsmi::ComputeProcessInfoGetFn compute_process_info_get = nullptr;
  rsmi::ComputeProcessGpusGetFn compute_process_gpus_get = nullptr;
  rsmi::ComputeProcessInfoByPidGetFn compute_process_info_by_pid_get = nullptr;
  rsmi::ComputeProcessInfoByDeviceGetFn compute_process_info_by_device_get = nullptr;  // ROCm 5.7 and newer
};

struct RsmiLibrary {
  DynamicLibrary library;
  RsmiFunctions fn;
  std::string path;        // what was passed to dlopen
  std::string load_error;  // dlerror() text when it could not be opened

  bool loaded() const { return library.is_open(); }

  // Opens `path` and fills the table. Never throws; check loaded().
  static RsmiLibrary load(const std::string& path);
};

// Where ROCm SMI is looked for when CONFIG_TRACKER_ROCM_SMI_LIBRARY does not name it: the sonames
// ROCm 6 and 7 (.so.7), ROCm 5 (.so.5) and Debian / Ubuntu (.so.1) install, through the loader's
// search (LD_LIBRARY_PATH, ld.so.cache), then in $ROCM_PATH/lib and /opt/rocm/lib, which ROCm's
// packages do not always add to the loader's path.
std::vector<std::string> rocm_library_candidates(const std::string& base_name, const std::vector<std::string>& sonames,
                                                 const std::string& rocm_path);

}  // namespace ct::gpu
