#include "amd_probe.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hip_runtime.h"
#include "kfd_topology.h"
#include "rsmi_owner.h"
#include "rocm_visible_devices.h"

namespace ct::gpu {
namespace {

const char kRocmSmi[] = "librocm_smi64.so";
const char kHip[] = "libamdhip64.so";

std::string code_of(rsmi::Status status) {
  // "RSMI_STATUS_INIT_ERROR" -> "ROCM_SMI_INIT_ERROR"
  std::string name = rsmi::status_name(status);
  const std::string marker = "RSMI_STATUS_";
  if (name.compare(0, marker.size(), marker) == 0) name = name.substr(marker.size());
  return "ROCM_SMI_" + name;
}

std::string init_failure_reason(rsmi::Status status) {
  switch (status) {
    case rsmi::kInitError:
      return "ROCm SMI could not start (RSMI_STATUS_INIT_ERROR): is the amdgpu driver loaded?";
    case rsmi::kPermission:
      return "no permission to use the AMD GPU driver (check access to /dev/kfd and /dev/dri)";
    default:
      return std::string("ROCm SMI initialisation failed: ") + rsmi::status_name(status);
  }
}

void set_unavailable(VendorReport& report, std::string code, std::string reason) {
  report.unavailable_code = std::move(code);
  report.unavailable_reason = std::move(reason);
}

// A string getter's answer into `out` (left empty when the call fails); the getter's status, or
// NOT_SUPPORTED when the library lacks the symbol.
template <typename Fn, typename Length>
rsmi::Status read_string(Fn fn, std::uint32_t index, std::optional<std::string>& out) {
  if (fn == nullptr) return rsmi::kNotSupported;
  char buffer[256] = {};
  rsmi::Status status = fn(index, buffer, static_cast<Length>(sizeof(buffer) - 1));
  if (status == rsmi::kSuccess) out = std::string(buffer, strnlen(buffer, sizeof(buffer)));
  return status;
}

std::string pci_bus_id(std::uint64_t bdfid) {
  // domain << 32 | partition << 28 | bus << 8 | device << 3 | function (rocm_smi.h), as rocm-smi
  // prints it; the partition bits are not part of the PCI address.
  char text[32];
  std::snprintf(text, sizeof(text), "%04x:%02x:%02x.%x", static_cast<unsigned>(bdfid >> 32),
                static_cast<unsigned>((bdfid >> 8) & 0xff), static_cast<unsigned>((bdfid >> 3) & 0x1f),
                static_cast<unsigned>(bdfid & 0x7));
  return text;
}

GpuInfo read_device(const RsmiFunctions& fn, std::uint32_t index) {
  GpuInfo gpu;
  gpu.physical_index = index;
  rsmi::Status named = read_string<rsmi::DevNameGetFn, std::size_t>(fn.dev_name_get, index, gpu.name);
  if (named != rsmi::kSuccess) gpu.error = std::string("rsmi_dev_name_get: ") + rsmi::status_name(named);
  std::uint64_t value = 0;
  if (fn.dev_unique_id_get != nullptr && fn.dev_unique_id_get(index, &value) == rsmi::kSuccess && value != 0) {
    gpu.uuid = rocm_uuid(value);
  }
  if (fn.dev_pci_id_get != nullptr && fn.dev_pci_id_get(index, &value) == rsmi::kSuccess) gpu.pci_bus_id = pci_bus_id(value);
  if (fn.dev_memory_total_get != nullptr && fn.dev_memory_total_get(index, rsmi::kMemTypeVram, &value) == rsmi::kSuccess) {
    gpu.memory_total_bytes = value;
  }
  read_string<rsmi::DevStringGetFn, std::uint32_t>(fn.dev_serial_number_get, index, gpu.serial);
  read_string<rsmi::DevStringGetFn, std::uint32_t>(fn.dev_vbios_version_get, index, gpu.vbios_version);
  // An MI300 split into compute partitions (DPX, QPX, CPX) shows each partition as a GPU of its
  // own, with the whole GPU's name: say so in the name, as NVML's MIG names do.
  std::optional<std::string> partition;
  read_string<rsmi::DevStringGetFn, std::uint32_t>(fn.dev_compute_partition_get, index, partition);
  if (gpu.name && partition && !partition->empty() && *partition != "SPX") {
    *gpu.name += " (" + *partition + " partition)";
  }
  return gpu;
}

void read_host(const GpuOptions& options, bool with_runtime, VendorReport& host) {
  RsmiOwner& owner = RsmiOwner::get();
  RsmiState* state = nullptr;
  std::string first_error;
  for (const std::string& candidate : rocm_smi_candidates(options)) {
    RsmiState& tried = owner.library(candidate);
    if (tried.library.loaded()) {
      state = &tried;
      break;
    }
    if (first_error.empty()) first_error = describe_load_failure(candidate, tried.library.load_error);
  }
  bool named = options.setting("CONFIG_TRACKER_ROCM_SMI_LIBRARY").has_value();
  bool kernel = kfd_present();
  // A library named explicitly stands for the driver (the tests' stand-in runs without one).
  host.driver_present = named ? state != nullptr : kernel;
  if (state != nullptr) {
    host.library_path = state->library.path;
    host.library_loaded = true;
  }
  if (!named && !kernel) {
    set_unavailable(host, "AMD_DRIVER_NOT_LOADED",
                    "no AMD GPU driver is loaded (neither /dev/kfd nor /sys/class/kfd exists)");
    return;
  }
  if (state == nullptr) {
    std::vector<std::string> tried = rocm_smi_candidates(options);
    host.library_path = tried.front();
    set_unavailable(host, "ROCM_SMI_LIBRARY_NOT_FOUND",
                    named ? first_error
                          : "ROCm SMI (librocm_smi64.so.7, .so.5 or .so.1) not found by the loader, in "
                            "$ROCM_PATH/lib or in /opt/rocm/lib");
    return;
  }
  const RsmiFunctions& fn = state->library.fn;
  if (fn.init == nullptr || fn.num_monitor_devices == nullptr) {
    set_unavailable(host, "ROCM_SMI_FUNCTION_NOT_FOUND", host.library_path + " has no rsmi_init or rsmi_num_monitor_devices");
    return;
  }
  rsmi::Status init = owner.initialise(*state);
  host.init_result = static_cast<int>(init);
  if (init != rsmi::kSuccess) {
    set_unavailable(host, code_of(init), init_failure_reason(init));
    return;
  }
  if (fn.version_str_get != nullptr) {
    char version[256] = {};
    if (fn.version_str_get(rsmi::kSwCompDriver, version, sizeof(version) - 1) == rsmi::kSuccess) {
      host.driver_version = std::string(version, strnlen(version, sizeof(version)));
    }
  }
  std::uint32_t count = 0;
  rsmi::Status count_result = fn.num_monitor_devices(&count);
  if (count_result != rsmi::kSuccess) {
    set_unavailable(host, code_of(count_result), std::string("rsmi_num_monitor_devices failed: ") + rsmi::status_name(count_result));
    return;
  }
  host.host_gpu_count = count;
  for (std::uint32_t index = 0; index < count && index < 1024; ++index) host.gpus.push_back(read_device(fn, index));
  if (count == 0) {
    set_unavailable(host, "NO_GPU", "no AMD GPU found");
    return;
  }
  if (std::optional<std::vector<std::uint64_t>> kfd = kfd_gpu_unique_ids()) host.runtime_order = kfd_order(host.gpus, *kfd);
  if (with_runtime) host.runtime = hip_runtime_version(hip_candidates(options));
}

std::string visibility_settings(const GpuOptions& options) {
  std::string text;
  for (const char* name : {"ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"}) {
    std::optional<std::string> value = options.variable(name);
    if (!value) continue;
    text += (text.empty() ? "" : " ") + std::string(name) + "=\"" + *value + "\"";
  }
  return text;
}

}  // namespace

std::vector<std::string> rocm_smi_candidates(const GpuOptions& options) {
  if (std::optional<std::string> named = options.setting("CONFIG_TRACKER_ROCM_SMI_LIBRARY")) return {*named};
  return rocm_library_candidates(kRocmSmi, {".7", ".6", ".5", ".1", ""}, options.setting("ROCM_PATH").value_or(""));
}

std::vector<std::string> hip_candidates(const GpuOptions& options) {
  if (std::optional<std::string> named = options.setting("CONFIG_TRACKER_HIP_LIBRARY")) return {*named};
  return rocm_library_candidates(kHip, {".7", ".6", ".5", ""}, options.setting("ROCM_PATH").value_or(""));
}

std::vector<std::size_t> kfd_order(const std::vector<GpuInfo>& gpus, const std::vector<std::uint64_t>& kfd_ids) {
  if (kfd_ids.size() != gpus.size()) return {};
  std::vector<std::size_t> order;
  for (std::uint64_t id : kfd_ids) {
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      if (id == 0 || unique_id_of(gpus[i]) != id) continue;
      if (match) return {};
      match = i;
    }
    if (!match || std::find(order.begin(), order.end(), *match) != order.end()) return {};
    order.push_back(*match);
  }
  return order;
}

std::optional<std::uint64_t> unique_id_of(const GpuInfo& gpu) {
  if (!gpu.uuid || gpu.uuid->size() != 20 || gpu.uuid->compare(0, 4, "GPU-") != 0) return std::nullopt;
  return std::strtoull(gpu.uuid->c_str() + 4, nullptr, 16);
}

VendorReport query_amd_host(const GpuOptions& options, bool with_runtime) {
  VendorReport host;
  host.vendor = "amd";
  RsmiOwner& owner = RsmiOwner::get();
  if (!owner.refused().empty()) {
    set_unavailable(host, "ROCM_SMI_FORKED", owner.refused());
    return host;
  }
  owner.run([&] { read_host(options, with_runtime, host); });
  return host;
}

void select_amd_visible(VendorReport& report, const GpuOptions& options) {
  std::vector<std::size_t> order = report.runtime_order;
  if (order.empty()) {
    for (std::size_t i = 0; i < report.gpus.size(); ++i) order.push_back(i);
  }
  auto ids_of = [&](const std::vector<std::size_t>& positions) {
    std::vector<std::uint64_t> ids;
    for (std::size_t position : positions) ids.push_back(unique_id_of(report.gpus[position]).value_or(0));
    return ids;
  };
  RocrSelection rocr = apply_rocr_visible_devices(options.variable("ROCR_VISIBLE_DEVICES"), ids_of(order));
  std::vector<std::size_t> left;
  for (std::size_t position : rocr.positions) left.push_back(order[position]);
  std::optional<std::string> hip = options.variable("HIP_VISIBLE_DEVICES");
  if (!hip || hip->empty()) hip = options.variable("CUDA_VISIBLE_DEVICES");
  report.visible.clear();
  for (std::size_t position : apply_hip_visible_devices(hip, ids_of(left))) {
    report.visible.push_back(VisibleGpu{static_cast<int>(report.visible.size()), report.gpus[left[position]]});
  }
  if (!report.visible.empty()) return;
  report.unavailable_code = "NO_VISIBLE_GPU";
  report.unavailable_reason =
      rocr.runtime_fails
          ? "ROCR_VISIBLE_DEVICES=\"" + options.variable("ROCR_VISIBLE_DEVICES").value_or("") +
                "\" has an empty entry: the ROCm runtime does not start"
          : visibility_settings(options) + " leaves none of the " + std::to_string(report.host_gpu_count) +
                " AMD GPUs to this process";
}

}  // namespace ct::gpu
