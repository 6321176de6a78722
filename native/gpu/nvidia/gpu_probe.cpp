#include "gpu_probe.h"

#include <cstring>

#include "cuda_driver.h"
#include "visible_devices.h"

namespace ct::gpu {
namespace {

std::string error_code(nvml::Return result) {
  // "NVML_ERROR_DRIVER_NOT_LOADED" -> "NVML_DRIVER_NOT_LOADED"
  std::string name = nvml::return_name(result);
  const std::string marker = "NVML_ERROR_";
  if (name.compare(0, marker.size(), marker) == 0) name = "NVML_" + name.substr(marker.size());
  return name;
}

std::string init_failure_reason(nvml::Return result) {
  switch (result) {
    case nvml::kErrorDriverNotLoaded: return "NVIDIA driver not loaded";
    case nvml::kErrorLibRmVersionMismatch:
      return "driver/library version mismatch: reboot or reload the nvidia kernel module";
    case nvml::kErrorNoPermission:
      return "no permission to use the NVIDIA driver (check access to /dev/nvidia*)";
    case nvml::kErrorLibraryNotFound: return "NVML could not find the NVIDIA driver's libraries";
    case nvml::kErrorGpuIsLost: return "a GPU has fallen off the bus or is otherwise inaccessible";
    case nvml::kErrorInsufficientPower: return "a GPU's power cables are not connected properly";
    default: return std::string("NVML initialisation failed: ") + nvml::return_name(result);
  }
}

std::optional<std::string> read_string(nvml::DeviceGetStringFn fn, nvml::Device device,
                                       unsigned size) {
  if (fn == nullptr) return std::nullopt;
  std::string buffer(size, '\0');
  if (fn(device, buffer.data(), size) != nvml::kSuccess) return std::nullopt;
  buffer.resize(strnlen(buffer.data(), size));
  return buffer;
}

std::optional<std::uint64_t> read_memory_total(const NvmlFunctions& fn, nvml::Device device) {
  if (fn.device_get_memory_info_v2 != nullptr) {
    nvml::MemoryV2 memory{};
    memory.version = nvml::kMemoryV2Version;
    if (fn.device_get_memory_info_v2(device, &memory) == nvml::kSuccess) return memory.total;
  }
  if (fn.device_get_memory_info != nullptr) {
    nvml::Memory memory{};
    if (fn.device_get_memory_info(device, &memory) == nvml::kSuccess) return memory.total;
  }
  return std::nullopt;
}

std::optional<std::string> read_pci_bus_id(const NvmlFunctions& fn, nvml::Device device) {
  nvml::PciInfo pci{};
  if (fn.device_get_pci_info != nullptr && fn.device_get_pci_info(device, &pci) == nvml::kSuccess) {
    return std::string(pci.busId, strnlen(pci.busId, sizeof(pci.busId)));
  }
  pci = nvml::PciInfo{};
  if (fn.device_get_pci_info_v1 != nullptr &&
      fn.device_get_pci_info_v1(device, &pci) == nvml::kSuccess) {
    return std::string(pci.busIdLegacy, strnlen(pci.busIdLegacy, sizeof(pci.busIdLegacy)));
  }
  return std::nullopt;
}

GpuInfo read_device(const NvmlFunctions& fn, nvml::Device device, unsigned index) {
  GpuInfo gpu;
  gpu.physical_index = index;
  gpu.name = read_string(fn.device_get_name, device, nvml::kDeviceNameBufferSize);
  gpu.uuid = read_string(fn.device_get_uuid, device, nvml::kDeviceUuidBufferSize);
  gpu.memory_total_bytes = read_memory_total(fn, device);
  gpu.pci_bus_id = read_pci_bus_id(fn, device);
  if (fn.device_get_cuda_compute_capability != nullptr) {
    int major = 0;
    int minor = 0;
    if (fn.device_get_cuda_compute_capability(device, &major, &minor) == nvml::kSuccess) {
      gpu.compute_capability_major = major;
      gpu.compute_capability_minor = minor;
    }
  }
  return gpu;
}

void read_mig(const NvmlFunctions& fn, nvml::Device device, GpuInfo& gpu) {
  if (fn.device_get_mig_mode == nullptr) return;
  unsigned current = 0;
  unsigned pending = 0;
  nvml::Return result = fn.device_get_mig_mode(device, &current, &pending);
  if (result == nvml::kErrorNotSupported) {
    gpu.mig_mode = false;  // pre-Ampere: MIG cannot be on
    return;
  }
  if (result != nvml::kSuccess) return;
  gpu.mig_mode = current == nvml::kDeviceMigEnable;
  if (!*gpu.mig_mode || fn.device_get_max_mig_device_count == nullptr ||
      fn.device_get_mig_device_handle_by_index == nullptr) {
    return;
  }
  unsigned max_count = 0;
  if (fn.device_get_max_mig_device_count(device, &max_count) != nvml::kSuccess) return;
  for (unsigned slot = 0; slot < max_count && slot < 64; ++slot) {
    nvml::Device mig = nullptr;
    // Empty slots answer NOT_FOUND.
    if (fn.device_get_mig_device_handle_by_index(device, slot, &mig) != nvml::kSuccess) continue;
    GpuInfo child = read_device(fn, mig, gpu.physical_index);
    child.mig_slot = slot;
    child.mig_mode = true;
    child.parent_uuid = gpu.uuid;
    // MIG handles answer neither compute capability nor PCI on every driver: the parent's hold.
    if (!child.compute_capability_major) {
      child.compute_capability_major = gpu.compute_capability_major;
      child.compute_capability_minor = gpu.compute_capability_minor;
    }
    if (!child.pci_bus_id) child.pci_bus_id = gpu.pci_bus_id;
    gpu.mig_devices.push_back(std::move(child));
  }
}

void set_unavailable(VendorReport& host, std::string code, std::string reason) {
  host.unavailable_code = std::move(code);
  host.unavailable_reason = std::move(reason);
}

RuntimeVersion cuda_runtime(int version) {
  // 12040 -> "12.4", as cuDriverGetVersion and nvidia-smi write it.
  return RuntimeVersion{"cuda", std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10), version};
}

}  // namespace

std::string nvml_library_path(const GpuOptions& options) {
  return options.setting("CONFIG_TRACKER_NVML_LIBRARY").value_or("libnvidia-ml.so.1");
}

std::string cuda_library_path(const GpuOptions& options) {
  return options.setting("CONFIG_TRACKER_CUDA_LIBRARY").value_or("libcuda.so.1");
}

VendorReport query_host_gpus(const NvmlLibrary& nvml, const std::string& cuda_library) {
  VendorReport host;
  host.vendor = "nvidia";
  host.library_path = nvml.path;
  host.library_loaded = nvml.loaded();
  host.driver_present = nvml.loaded();  // NVML ships with the driver
  const NvmlFunctions& fn = nvml.fn;

  auto fill_cuda_from_driver_library = [&] {
    if (host.runtime) return;
    if (std::optional<int> version = cuda_driver_version(cuda_library)) host.runtime = cuda_runtime(*version);
  };

  if (!nvml.loaded()) {
    set_unavailable(host, "NVML_LIBRARY_NOT_FOUND", describe_load_failure(nvml.path, nvml.load_error));
    fill_cuda_from_driver_library();
    return host;
  }
  if (fn.init == nullptr) {
    set_unavailable(host, "NVML_FUNCTION_NOT_FOUND", nvml.path + " has no nvmlInit_v2 or nvmlInit");
    return host;
  }
  nvml::Return init = fn.init();
  host.init_result = init;
  if (init != nvml::kSuccess) {
    set_unavailable(host, error_code(init), init_failure_reason(init));
    return host;
  }

  if (fn.system_get_driver_version != nullptr) {
    char version[nvml::kSystemDriverVersionBufferSize] = {};
    if (fn.system_get_driver_version(version, sizeof(version)) == nvml::kSuccess) {
      host.driver_version = std::string(version, strnlen(version, sizeof(version)));
    }
  }
  if (fn.system_get_cuda_driver_version != nullptr) {
    int version = 0;
    if (fn.system_get_cuda_driver_version(&version) == nvml::kSuccess && version > 0) {
      host.runtime = cuda_runtime(version);
    }
  }
  fill_cuda_from_driver_library();

  if (fn.device_get_count == nullptr) {
    set_unavailable(host, "NVML_FUNCTION_NOT_FOUND", nvml.path + " has no nvmlDeviceGetCount");
    return host;
  }
  unsigned count = 0;
  nvml::Return count_result = fn.device_get_count(&count);
  if (count_result != nvml::kSuccess) {
    set_unavailable(host, error_code(count_result),
                    std::string("nvmlDeviceGetCount failed: ") + nvml::return_name(count_result));
    return host;
  }
  host.host_gpu_count = count;
  for (unsigned index = 0; index < count && index < 1024; ++index) {
    nvml::Device device = nullptr;
    nvml::Return result = fn.device_get_handle_by_index != nullptr
                              ? fn.device_get_handle_by_index(index, &device)
                              : nvml::kErrorFunctionNotFound;
    if (result != nvml::kSuccess) {
      GpuInfo gpu;
      gpu.physical_index = index;
      gpu.error = error_code(result);
      host.gpus.push_back(std::move(gpu));
      continue;
    }
    GpuInfo gpu = read_device(fn, device, index);
    read_mig(fn, device, gpu);
    host.gpus.push_back(std::move(gpu));
  }
  if (count == 0) set_unavailable(host, "NO_GPU", "no NVIDIA GPU found");
  return host;
}

std::vector<VisibleGpu> select_visible_gpus(const std::vector<GpuInfo>& gpus,
                                            const std::optional<std::string>& cuda_visible_devices) {
  VisibleDevicesSpec spec = parse_visible_devices(cuda_visible_devices);

  // Physical GPUs chosen by ordinal or UUID, in CUDA's order; MIG devices chosen directly.
  std::vector<const GpuInfo*> chosen;
  auto uuid_of = [](const GpuInfo& gpu) { return gpu.uuid.value_or(std::string()); };
  switch (spec.kind) {
    case VisibleDevicesSpec::Kind::kAll:
      for (const GpuInfo& gpu : gpus) chosen.push_back(&gpu);
      break;
    case VisibleDevicesSpec::Kind::kOrdinals:
      for (std::size_t position : resolve_ordinals(spec.ordinals, gpus.size())) {
        chosen.push_back(&gpus[position]);
      }
      break;
    case VisibleDevicesSpec::Kind::kGpuUuids: {
      std::vector<std::string> uuids;
      for (const GpuInfo& gpu : gpus) uuids.push_back(uuid_of(gpu));
      for (std::size_t position : resolve_uuid_prefixes(spec.uuid_prefixes, uuids)) {
        chosen.push_back(&gpus[position]);
      }
      break;
    }
    case VisibleDevicesSpec::Kind::kMigUuids: {
      std::vector<const GpuInfo*> migs;
      std::vector<std::string> uuids;
      for (const GpuInfo& gpu : gpus) {
        for (const GpuInfo& mig : gpu.mig_devices) {
          migs.push_back(&mig);
          uuids.push_back(uuid_of(mig));
        }
      }
      std::vector<VisibleGpu> visible;
      for (std::size_t position : resolve_uuid_prefixes(spec.uuid_prefixes, uuids)) {
        visible.push_back(VisibleGpu{static_cast<int>(visible.size()), *migs[position]});
      }
      return visible;
    }
  }

  std::vector<VisibleGpu> visible;
  for (const GpuInfo* gpu : chosen) {
    if (gpu->mig_mode.value_or(false)) {
      // CUDA cannot use a GPU in MIG mode as a whole; it sees the GPU's MIG devices.
      for (const GpuInfo& mig : gpu->mig_devices) {
        visible.push_back(VisibleGpu{static_cast<int>(visible.size()), mig});
      }
      continue;
    }
    VisibleGpu entry{static_cast<int>(visible.size()), *gpu};
    entry.info.mig_devices.clear();
    visible.push_back(std::move(entry));
  }
  return visible;
}

}  // namespace ct::gpu
