#include "vendor.h"

#include "amd_probe.h"
#include "rsmi_backend.h"

namespace ct::gpu {
namespace {

class AmdVendor : public Vendor {
 public:
  const char* name() const override { return "amd"; }
  const char* library_title() const override { return "ROCm SMI"; }
  const char* code_prefix() const override { return "ROCM_SMI"; }

  std::string host_key(const GpuOptions& options) const override {
    std::string key;
    for (const std::string& path : rocm_smi_candidates(options)) key += path + '\n';
    for (const std::string& path : hip_candidates(options)) key += path + '\n';
    return key;
  }

  VendorReport query_host(const GpuOptions& options) const override { return query_amd_host(options); }

  void select_visible(VendorReport& report, const GpuOptions& options) const override {
    select_amd_visible(report, options);
  }

  std::unique_ptr<Backend> make_backend() const override { return std::make_unique<RsmiBackend>(); }
};

}  // namespace

std::unique_ptr<Vendor> make_amd_vendor() { return std::make_unique<AmdVendor>(); }

}  // namespace ct::gpu
