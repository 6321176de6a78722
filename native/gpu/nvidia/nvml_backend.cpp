#include "nvml_backend.h"

#include <cstring>

#include "../tree_memory.h"
#include "gpu_probe.h"

namespace ct::gpu {
namespace {

bool is_lost(nvml::Return result) { return result == nvml::kErrorGpuIsLost; }

// nvmlDeviceGetComputeRunningProcesses in any of its versions (their structs differ in size):
// asked for the count first (an empty buffer answers INSUFFICIENT_SIZE with the count needed),
// then again with room for a few more, in case processes started in between.
template <typename Info>
nvml::Return list_processes(nvml::Return (*get)(nvml::Device, unsigned*, Info*), nvml::Device device,
                            std::vector<ProcessMemory>& out) {
  std::vector<Info> infos;
  unsigned count = 0;
  nvml::Return result = nvml::kErrorInsufficientSize;
  for (int attempt = 0; attempt < 3 && result == nvml::kErrorInsufficientSize; ++attempt) {
    infos.resize(count);
    result = get(device, &count, infos.empty() ? nullptr : infos.data());
    if (result == nvml::kErrorInsufficientSize) count += 8;
  }
  if (result != nvml::kSuccess) return result;
  for (unsigned i = 0; i < count && i < infos.size(); ++i) {
    ProcessMemory process;
    process.pid = static_cast<int>(infos[i].pid);
    if (infos[i].usedGpuMemory != nvml::kValueNotAvailable) process.used_bytes = infos[i].usedGpuMemory;
    out.push_back(process);
  }
  return result;
}

}  // namespace

std::vector<std::string> clock_event_reason_names(unsigned long long reasons) {
  // nvmlClocksEventReason* (formerly nvmlClocksThrottleReason*) bits.
  static const struct {
    unsigned long long bit;
    const char* name;
  } kReasons[] = {
      {0x1, "gpu_idle"},
      {0x2, "applications_clocks_setting"},
      {0x4, "sw_power_cap"},
      {0x8, "hw_slowdown"},
      {0x10, "sync_boost"},
      {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"},
      {0x80, "hw_power_brake_slowdown"},
      {0x100, "display_clock_setting"},
  };
  std::vector<std::string> names;
  unsigned long long known = 0;
  for (const auto& reason : kReasons) {
    known |= reason.bit;
    if ((reasons & reason.bit) != 0) names.emplace_back(reason.name);
  }
  if ((reasons & ~known) != 0) names.emplace_back("other");
  return names;
}

NvmlBackend::~NvmlBackend() {
  for (Device& device : devices_) {
    if (nvml_.fn.gpm_sample_free != nullptr) {
      if (device.gpm_previous != nullptr) nvml_.fn.gpm_sample_free(device.gpm_previous);
      if (device.gpm_current != nullptr) nvml_.fn.gpm_sample_free(device.gpm_current);
    }
  }
  if (initialised_ && nvml_.fn.shutdown != nullptr) nvml_.fn.shutdown();  // balances the init
}

VendorReport NvmlBackend::open(const GpuOptions& options) {
  nvml_ = NvmlLibrary::load(nvml_library_path(options));
  VendorReport host = query_host_gpus(nvml_, "");
  initialised_ = host.init_result && *host.init_result == nvml::kSuccess;
  if (!host.unavailable_code.empty()) return host;

  const NvmlFunctions& fn = nvml_.fn;
  std::optional<std::string> cuda_visible_devices = options.variable("CUDA_VISIBLE_DEVICES");
  for (const VisibleGpu& visible : select_visible_gpus(host.gpus, cuda_visible_devices)) {
    Device device;
    device.index = visible.index;
    device.uuid = visible.info.uuid.value_or("");
    device.name = visible.info.name.value_or("");
    device.is_mig = visible.info.mig_slot.has_value();
    nvml::Device parent = nullptr;
    nvml::Return result = fn.device_get_handle_by_index != nullptr
                              ? fn.device_get_handle_by_index(visible.info.physical_index, &parent)
                              : nvml::kErrorFunctionNotFound;
    if (result == nvml::kSuccess && device.is_mig) {
      result = fn.device_get_mig_device_handle_by_index != nullptr
                   ? fn.device_get_mig_device_handle_by_index(parent, *visible.info.mig_slot, &device.handle)
                   : nvml::kErrorFunctionNotFound;
    } else {
      device.handle = parent;
    }
    if (result != nvml::kSuccess) device.handle = nullptr;
    devices_.push_back(std::move(device));
  }
  if (devices_.empty()) {
    host.unavailable_code = "NO_VISIBLE_GPU";
    host.unavailable_reason =
        "CUDA_VISIBLE_DEVICES=\"" + cuda_visible_devices.value_or("") + "\" leaves no GPU to the process";
    return host;
  }
  for (Device& device : devices_) open_gpm(device);
  return host;
}

void NvmlBackend::open_gpm(Device& device) {
  const NvmlFunctions& fn = nvml_.fn;
  if (fn.gpm_query_device_support == nullptr || fn.gpm_sample_alloc == nullptr || fn.gpm_sample_get == nullptr ||
      fn.gpm_metrics_get == nullptr || fn.gpm_sample_free == nullptr) {
    device.gpm_unavailable_reason = "this driver's NVML has no GPM (needs R520 or newer)";
    return;
  }
  if (device.handle == nullptr) {
    device.gpm_unavailable_reason = "no NVML handle for this device";
    return;
  }
  if (device.is_mig) {
    device.gpm_unavailable_reason = "GPM is not sampled for MIG devices";
    return;
  }
  nvml::GpmSupport support{};
  support.version = nvml::kGpmSupportVersion;
  nvml::Return result = fn.gpm_query_device_support(device.handle, &support);
  if (result != nvml::kSuccess) {
    device.gpm_unavailable_reason = std::string("nvmlGpmQueryDeviceSupport: ") + nvml::return_name(result);
    return;
  }
  if (support.isSupportedDevice == 0) {
    device.gpm_unavailable_reason = "GPM is not supported on this GPU (Hopper or newer has it)";
    return;
  }
  if (fn.gpm_sample_alloc(&device.gpm_previous) != nvml::kSuccess ||
      fn.gpm_sample_alloc(&device.gpm_current) != nvml::kSuccess) {
    device.gpm_unavailable_reason = "nvmlGpmSampleAlloc failed";
    return;
  }
  // The first sample: the first interval's metrics compare against it.
  result = fn.gpm_sample_get(device.handle, device.gpm_previous);
  if (result != nvml::kSuccess) device.gpm_unavailable_reason = std::string("nvmlGpmSampleGet: ") + nvml::return_name(result);
}

void NvmlBackend::read_gpm(Device& device, DeviceSample& out) {
  if (!device.gpm_unavailable_reason.empty()) {
    out.activity_unavailable_reason = device.gpm_unavailable_reason;
    return;
  }
  const NvmlFunctions& fn = nvml_.fn;
  nvml::Return result = fn.gpm_sample_get(device.handle, device.gpm_current);
  if (result != nvml::kSuccess) {
    if (is_lost(result)) device.lost = true;
    out.activity_unavailable_reason = std::string("nvmlGpmSampleGet: ") + nvml::return_name(result);
    return;
  }
  if (!gpm_request_) gpm_request_ = std::make_unique<nvml::GpmMetricsGet>();
  nvml::GpmMetricsGet& request = *gpm_request_;
  std::memset(&request, 0, sizeof(request));
  static const unsigned kIds[] = {nvml::kGpmSmUtil, nvml::kGpmSmOccupancy, nvml::kGpmAnyTensorUtil, nvml::kGpmDramBwUtil};
  request.version = nvml::kGpmMetricsGetVersion;
  request.numMetrics = sizeof(kIds) / sizeof(kIds[0]);
  request.sample1 = device.gpm_previous;
  request.sample2 = device.gpm_current;
  for (unsigned i = 0; i < request.numMetrics; ++i) request.metrics[i].metricId = kIds[i];
  result = fn.gpm_metrics_get(&request);
  std::swap(device.gpm_previous, device.gpm_current);  // this sample starts the next interval
  if (result != nvml::kSuccess) {
    out.activity_unavailable_reason = std::string("nvmlGpmMetricsGet: ") + nvml::return_name(result);
    return;
  }
  std::optional<double>* targets[] = {&out.sm_active_percent, &out.sm_occupancy_percent, &out.tensor_active_percent,
                                      &out.dram_bandwidth_percent};
  std::string missing;
  for (unsigned i = 0; i < request.numMetrics; ++i) {
    if (request.metrics[i].nvmlReturn == nvml::kSuccess) {
      *targets[i] = request.metrics[i].value;
    } else if (missing.empty()) {
      missing = std::string("GPM metric ") + std::to_string(kIds[i]) + ": " + nvml::return_name(request.metrics[i].nvmlReturn);
    }
  }
  out.activity_unavailable_reason = missing;
}

void NvmlBackend::read_processes(Device& device, const std::set<int>& tree, DeviceSample& out) {
  const NvmlFunctions& fn = nvml_.fn;
  std::vector<ProcessMemory> processes;
  nvml::Return result = nvml::kErrorFunctionNotFound;
  if (fn.device_get_compute_running_processes != nullptr) {
    result = list_processes(fn.device_get_compute_running_processes, device.handle, processes);  // _v3 / _v2
  } else if (fn.device_get_compute_running_processes_v1 != nullptr) {
    result = list_processes(fn.device_get_compute_running_processes_v1, device.handle, processes);
  }
  if (result != nvml::kSuccess) {
    if (is_lost(result)) device.lost = true;
    out.tree_memory_note = std::string("no process list: ") + nvml::return_name(result);
    return;
  }
  attribute_tree_memory(std::move(processes), tree, "NVML", "CUDA", out);
}

std::vector<DeviceSample> NvmlBackend::sample(const std::set<int>& tree) {
  const NvmlFunctions& fn = nvml_.fn;
  std::vector<DeviceSample> samples;
  samples.reserve(devices_.size());
  for (Device& device : devices_) {
    DeviceSample out = named_sample(vendor(), device.index, device.uuid, device.name);
    if (device.handle == nullptr) {
      out.error = "no NVML handle for this device";
      samples.push_back(std::move(out));
      continue;
    }
    if (device.lost) {
      out.lost = true;
      out.error = "NVML_ERROR_GPU_IS_LOST: the GPU has fallen off the bus";
      samples.push_back(std::move(out));
      continue;
    }
    // Each reading on its own: a field this GPU or driver lacks stays null.
    auto check = [&](nvml::Return result) {
      if (is_lost(result)) device.lost = true;
      return result == nvml::kSuccess;
    };
    if (fn.device_get_utilization_rates != nullptr) {
      nvml::Utilization utilization{};
      if (check(fn.device_get_utilization_rates(device.handle, &utilization))) {
        out.utilization_gpu_percent = utilization.gpu;
        out.utilization_memory_percent = utilization.memory;
      }
    }
    bool memory_read = false;
    if (fn.device_get_memory_info_v2 != nullptr) {
      nvml::MemoryV2 memory{};
      memory.version = nvml::kMemoryV2Version;
      if (check(fn.device_get_memory_info_v2(device.handle, &memory))) {
        out.memory_used_bytes = memory.used;
        out.memory_total_bytes = memory.total;
        memory_read = true;
      }
    }
    if (!memory_read && fn.device_get_memory_info != nullptr) {
      nvml::Memory memory{};
      if (check(fn.device_get_memory_info(device.handle, &memory))) {
        out.memory_used_bytes = memory.used;
        out.memory_total_bytes = memory.total;
      }
    }
    unsigned value = 0;
    if (fn.device_get_power_usage != nullptr && check(fn.device_get_power_usage(device.handle, &value))) {
      out.power_watts = value / 1000.0;
    }
    if (fn.device_get_enforced_power_limit != nullptr &&
        check(fn.device_get_enforced_power_limit(device.handle, &value))) {
      out.power_limit_watts = value / 1000.0;
    }
    if (fn.device_get_temperature != nullptr &&
        check(fn.device_get_temperature(device.handle, nvml::kTemperatureGpu, &value))) {
      out.temperature_c = value;
    }
    if (fn.device_get_clock_info != nullptr && check(fn.device_get_clock_info(device.handle, nvml::kClockSm, &value))) {
      out.sm_clock_mhz = value;
    }
    unsigned long long reasons = 0;
    if (fn.device_get_clock_event_reasons != nullptr &&
        check(fn.device_get_clock_event_reasons(device.handle, &reasons))) {
      out.clock_event_reasons = reasons;
      out.clock_event_reason_names = clock_event_reason_names(reasons);
    }
    if (!device.lost) read_processes(device, tree, out);
    if (!device.lost) read_gpm(device, out);
    if (device.lost) {
      // Recorded once with what was read before it went; later samples say lost and nothing else.
      out.lost = true;
      out.error = "NVML_ERROR_GPU_IS_LOST: the GPU has fallen off the bus";
    }
    samples.push_back(std::move(out));
  }
  return samples;
}

}  // namespace ct::gpu
