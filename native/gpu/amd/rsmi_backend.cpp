#include "rsmi_backend.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "../tree_memory.h"
#include "amd_probe.h"

namespace ct::gpu {
namespace {

constexpr std::uint32_t kMaxProcesses = 4096;  // per sample; a host has far fewer GPU processes

// The frequency of the current level of a filled rsmi_frequencies_t, in Hz; nullopt when the
// table is not one (no levels, more than it holds, a current level past them).
template <typename Table>
std::optional<std::uint64_t> current_level(const unsigned char* buffer) {
  Table table;
  std::memcpy(&table, buffer, sizeof(table));
  constexpr std::uint32_t capacity = sizeof(table.frequency) / sizeof(table.frequency[0]);
  if (table.num_supported == 0 || table.num_supported > capacity || table.current >= table.num_supported) {
    return std::nullopt;
  }
  if (table.frequency[table.current] == 0) return std::nullopt;
  return table.frequency[table.current];
}

}  // namespace

// One process on the GPUs, as ROCm SMI lists it.
struct RsmiBackend::ProcessUse {
  int pid = 0;
  std::set<std::uint32_t> gpus;                          // ROCm SMI indices it has queues on
  std::map<std::uint32_t, std::uint64_t> vram_by_gpu;    // where the library can split it
  std::optional<std::uint64_t> vram_total;
};

VendorReport RsmiBackend::open(const GpuOptions& options) {
  VendorReport host = query_amd_host(options, false);  // the sampler needs no HIP version
  if (!host.unavailable_code.empty()) return host;
  select_amd_visible(host, options);
  if (host.visible.empty()) return host;
  RsmiOwner& owner = RsmiOwner::get();
  owner.run([&] { state_ = &owner.library(host.library_path); });
  // ROCm 6.0 (library 7) changed rsmi_frequencies_t under the same symbol.
  frequencies_v2_ = state_->version && state_->version->major >= rsmi::kFrequenciesV2FromLibraryMajor;
  for (const VisibleGpu& visible : host.visible) {
    Device device;
    device.index = visible.index;
    device.smi_index = visible.info.physical_index;
    device.uuid = visible.info.uuid.value_or("");
    device.name = visible.info.name.value_or("");
    devices_.push_back(std::move(device));
  }
  return host;
}

std::optional<double> RsmiBackend::clock_mhz(std::uint32_t smi_index, std::uint32_t clock) const {
  const RsmiFunctions& fn = state_->library.fn;
  if (fn.dev_gpu_clk_freq_get == nullptr) return std::nullopt;
  // Room for either layout; the library fills the one its version defines.
  alignas(8) unsigned char buffer[sizeof(rsmi::FrequenciesV2) + sizeof(rsmi::FrequenciesV1)] = {};
  if (fn.dev_gpu_clk_freq_get(smi_index, clock, buffer) != rsmi::kSuccess) return std::nullopt;
  std::optional<std::uint64_t> hertz =
      frequencies_v2_ ? current_level<rsmi::FrequenciesV2>(buffer) : current_level<rsmi::FrequenciesV1>(buffer);
  if (!hertz) return std::nullopt;
  return static_cast<double>(*hertz) / 1e6;
}

void RsmiBackend::read_device(Device& device, DeviceSample& out) const {
  const RsmiFunctions& fn = state_->library.fn;
  const std::uint32_t i = device.smi_index;
  rsmi::Status busy_result = rsmi::kNotSupported;
  rsmi::Status memory_result = rsmi::kNotSupported;
  std::uint32_t percent = 0;
  if (fn.dev_busy_percent_get != nullptr && (busy_result = fn.dev_busy_percent_get(i, &percent)) == rsmi::kSuccess) {
    out.utilization_gpu_percent = percent;
  }
  if (fn.dev_memory_busy_percent_get != nullptr && fn.dev_memory_busy_percent_get(i, &percent) == rsmi::kSuccess) {
    out.utilization_memory_percent = percent;
  }
  std::uint64_t value = 0;
  if (fn.dev_memory_usage_get != nullptr &&
      (memory_result = fn.dev_memory_usage_get(i, rsmi::kMemTypeVram, &value)) == rsmi::kSuccess) {
    out.memory_used_bytes = value;
  }
  if (fn.dev_memory_total_get != nullptr && fn.dev_memory_total_get(i, rsmi::kMemTypeVram, &value) == rsmi::kSuccess) {
    out.memory_total_bytes = value;
  }
  // Average power where the GPU has it; MI300 and newer report the current socket power only.
  if (fn.dev_power_ave_get != nullptr && fn.dev_power_ave_get(i, 0, &value) == rsmi::kSuccess) {
    out.power_watts = static_cast<double>(value) / 1e6;  // microwatts
  } else if (fn.dev_current_socket_power_get != nullptr && fn.dev_current_socket_power_get(i, &value) == rsmi::kSuccess) {
    out.power_watts = static_cast<double>(value) / 1e6;
  }
  if (fn.dev_power_cap_get != nullptr && fn.dev_power_cap_get(i, 0, &value) == rsmi::kSuccess) {
    out.power_limit_watts = static_cast<double>(value) / 1e6;
  }
  if (fn.dev_temp_metric_get != nullptr) {
    // The edge sensor; MI300 has none, its junction (hotspot) sensor is read instead and named.
    std::int64_t millidegrees = 0;
    if (fn.dev_temp_metric_get(i, rsmi::kTempTypeEdge, rsmi::kTempCurrent, &millidegrees) == rsmi::kSuccess) {
      out.temperature_c = static_cast<double>(millidegrees) / 1000.0;
      out.temperature_sensor = "edge";
    } else if (fn.dev_temp_metric_get(i, rsmi::kTempTypeJunction, rsmi::kTempCurrent, &millidegrees) == rsmi::kSuccess) {
      out.temperature_c = static_cast<double>(millidegrees) / 1000.0;
      out.temperature_sensor = "junction";
    }
  }
  out.sm_clock_mhz = clock_mhz(i, rsmi::kClkTypeSys);
  out.memory_clock_mhz = clock_mhz(i, rsmi::kClkTypeMem);
  out.activity_unavailable_reason = "ROCm SMI gives no per-CU activity";

  bool answered = busy_result == rsmi::kSuccess || memory_result == rsmi::kSuccess;
  if (answered) {
    device.answered = true;
  } else if (device.answered) {
    // It answered before and now reads nothing: its sysfs files are gone (the GPU fell off the
    // bus, or is being reset). Recorded, and asked again next time.
    out.lost = true;
    out.error = std::string("the GPU stopped answering (rsmi_dev_busy_percent_get: ") + rsmi::status_name(busy_result) + ")";
  }
}

std::vector<RsmiBackend::ProcessUse> RsmiBackend::list_processes(std::string& note) const {
  const RsmiFunctions& fn = state_->library.fn;
  std::vector<ProcessUse> uses;
  if (fn.compute_process_info_get == nullptr || fn.compute_process_gpus_get == nullptr) {
    note = "this ROCm SMI has no process list";
    return uses;
  }
  // Asked for the count first, then with room for a few more (processes may start in between);
  // a list still longer than the room answers INSUFFICIENT_SIZE, and the room doubles.
  std::uint32_t count = 0;
  rsmi::Status result = fn.compute_process_info_get(nullptr, &count);
  std::vector<rsmi::ProcessInfo> infos;
  std::uint32_t room = std::min<std::uint32_t>(count, kMaxProcesses) + 8;
  bool listed = false;
  for (int attempt = 0; attempt < 3 && result == rsmi::kSuccess && !listed; ++attempt) {
    infos.assign(room, rsmi::ProcessInfo{});
    std::uint32_t filled = room;
    result = fn.compute_process_info_get(infos.data(), &filled);
    if (result == rsmi::kInsufficientSize && room < kMaxProcesses) {
      room = std::min<std::uint32_t>(room * 2, kMaxProcesses);
      result = rsmi::kSuccess;
    } else if (result == rsmi::kSuccess) {
      infos.resize(std::min<std::size_t>(filled, infos.size()));
      listed = true;
    }
  }
  if (!listed) {
    note = std::string("no process list: ") + rsmi::status_name(result == rsmi::kSuccess ? rsmi::kInsufficientSize : result);
    return {};
  }
  for (const rsmi::ProcessInfo& info : infos) {
    ProcessUse use;
    use.pid = static_cast<int>(info.process_id);
    std::uint32_t indices[64] = {};
    std::uint32_t listed = 64;
    if (fn.compute_process_gpus_get(info.process_id, indices, &listed) == rsmi::kSuccess) {
      for (std::uint32_t k = 0; k < listed && k < 64; ++k) use.gpus.insert(indices[k]);
    }
    for (const Device& device : devices_) {
      rsmi::ProcessInfo per_device{};
      if (fn.compute_process_info_by_device_get != nullptr &&
          fn.compute_process_info_by_device_get(info.process_id, device.smi_index, &per_device) == rsmi::kSuccess) {
        use.vram_by_gpu[device.smi_index] = per_device.vram_usage;
      }
    }
    rsmi::ProcessInfo whole{};
    if (fn.compute_process_info_by_pid_get != nullptr &&
        fn.compute_process_info_by_pid_get(info.process_id, &whole) == rsmi::kSuccess) {
      use.vram_total = whole.vram_usage;
    }
    uses.push_back(std::move(use));
  }
  return uses;
}

std::vector<DeviceSample> RsmiBackend::sample(const std::set<int>& tree) {
  std::vector<DeviceSample> samples;
  RsmiOwner::get().run([&] {
    std::string process_note;
    std::vector<ProcessUse> uses = list_processes(process_note);
    for (Device& device : devices_) {
      DeviceSample out = named_sample(vendor(), device.index, device.uuid, device.name);
      read_device(device, out);
      if (!process_note.empty()) {
        out.tree_memory_note = process_note;
      } else {
        std::vector<ProcessMemory> processes;
        for (const ProcessUse& use : uses) {
          auto split = use.vram_by_gpu.find(device.smi_index);
          bool here = use.gpus.count(device.smi_index) != 0 || (split != use.vram_by_gpu.end() && split->second > 0);
          if (!here) continue;
          ProcessMemory process;
          process.pid = use.pid;
          if (split != use.vram_by_gpu.end()) {
            process.used_bytes = split->second;
          } else if (use.gpus.size() == 1 && use.vram_total) {
            process.used_bytes = use.vram_total;  // one GPU: all of its VRAM is here
          }
          processes.push_back(process);
        }
        attribute_tree_memory(std::move(processes), tree, "ROCm SMI", "HIP", out);
      }
      samples.push_back(std::move(out));
    }
  });
  return samples;
}

}  // namespace ct::gpu
