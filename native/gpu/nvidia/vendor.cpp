#include "vendor.h"

#include "gpu_probe.h"
#include "nvml_backend.h"

namespace ct::gpu {
namespace {

class NvidiaVendor : public Vendor {
 public:
  const char* name() const override { return "nvidia"; }
  const char* library_title() const override { return "NVML"; }
  const char* code_prefix() const override { return "NVML"; }

  std::string host_key(const GpuOptions& options) const override {
    return nvml_library_path(options) + '\n' + cuda_library_path(options);
  }

  VendorReport query_host(const GpuOptions& options) const override {
    return query_host_gpus(NvmlLibrary::load(nvml_library_path(options)), cuda_library_path(options));
  }

  void select_visible(VendorReport& report, const GpuOptions& options) const override {
    std::optional<std::string> visible = options.variable("CUDA_VISIBLE_DEVICES");
    report.visible = select_visible_gpus(report.gpus, visible);
    if (!report.visible.empty()) return;
    report.unavailable_code = "NO_VISIBLE_GPU";
    report.unavailable_reason = "CUDA_VISIBLE_DEVICES=\"" + visible.value_or("") + "\" leaves none of the " +
                                std::to_string(report.host_gpu_count) + " GPUs to this process";
    bool any_mig_without_instances = false;
    for (const GpuInfo& gpu : report.gpus) {
      if (gpu.mig_mode.value_or(false) && gpu.mig_devices.empty()) any_mig_without_instances = true;
    }
    if (!visible && any_mig_without_instances) {
      report.unavailable_reason = "MIG mode is on but no MIG device has been created";
    }
  }

  std::unique_ptr<Backend> make_backend() const override { return std::make_unique<NvmlBackend>(); }
};

}  // namespace

std::unique_ptr<Vendor> make_nvidia_vendor() { return std::make_unique<NvidiaVendor>(); }

}  // namespace ct::gpu
