// The addon declares the slice of ROCm SMI it calls itself (native/gpu/amd/rsmi_api.h: no ROCm
// headers at build time). Checked here against the installed rocm_smi.h (Debian's librocm-smi-dev,
// 5.2.3 in CI): every enum value, every struct's size and offsets, every function's parameters.
// What later releases added or changed (the ROCm 6 layout of rsmi_frequencies_t, the entry points
// of 5.7 and 6.0) is not in that header; those were checked against ROCm's own rocm_smi.h and are
// exercised through the stand-in library, which declares them the same way.
#include <gtest/gtest.h>
#include <rocm_smi/rocm_smi.h>

#include <cstddef>
#include <type_traits>

#include "rsmi_api.h"

namespace rsmi = ct::gpu::rsmi;

namespace {

// Two types pass the same way in the C ABI: the same type, integers or enums of one size and
// signedness, or pointers to such (or to structs of one size: the structs are checked below).
template <typename A, typename B>
constexpr bool same_abi() {
  using X = std::remove_cv_t<A>;
  using Y = std::remove_cv_t<B>;
  if constexpr (std::is_same_v<X, Y>) {
    return true;
  } else if constexpr (std::is_pointer_v<X> && std::is_pointer_v<Y>) {
    using PX = std::remove_cv_t<std::remove_pointer_t<X>>;
    using PY = std::remove_cv_t<std::remove_pointer_t<Y>>;
    if constexpr (std::is_void_v<PX> || std::is_void_v<PY>) {
      return true;  // void*: the caller passes a buffer fit for either layout
    } else if constexpr (std::is_class_v<PX> && std::is_class_v<PY>) {
      return sizeof(PX) == sizeof(PY);
    } else {
      return same_abi<PX, PY>();
    }
  } else if constexpr ((std::is_integral_v<X> || std::is_enum_v<X>) && (std::is_integral_v<Y> || std::is_enum_v<Y>)) {
    return sizeof(X) == sizeof(Y) && std::is_signed_v<X> == std::is_signed_v<Y>;
  } else {
    return false;
  }
}

template <typename R1, typename... A1, typename R2, typename... A2>
constexpr bool same_function(R1 (*)(A1...), R2 (*)(A2...)) {
  if constexpr (sizeof...(A1) != sizeof...(A2)) {
    return false;
  } else {
    return same_abi<R1, R2>() && (same_abi<A1, A2>() && ...);
  }
}

// enums are unsigned when they hold 0xFFFFFFFF: rsmi_status_t is.
static_assert(std::is_unsigned_v<std::underlying_type_t<rsmi_status_t>>);

}  // namespace

TEST(RocmSmiAbi, StatusValues) {
  EXPECT_EQ(rsmi::kSuccess, RSMI_STATUS_SUCCESS);
  EXPECT_EQ(rsmi::kInvalidArgs, RSMI_STATUS_INVALID_ARGS);
  EXPECT_EQ(rsmi::kNotSupported, RSMI_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(rsmi::kFileError, RSMI_STATUS_FILE_ERROR);
  EXPECT_EQ(rsmi::kPermission, RSMI_STATUS_PERMISSION);
  EXPECT_EQ(rsmi::kOutOfResources, RSMI_STATUS_OUT_OF_RESOURCES);
  EXPECT_EQ(rsmi::kInternalException, RSMI_STATUS_INTERNAL_EXCEPTION);
  EXPECT_EQ(rsmi::kInputOutOfBounds, RSMI_STATUS_INPUT_OUT_OF_BOUNDS);
  EXPECT_EQ(rsmi::kInitError, RSMI_STATUS_INIT_ERROR);
  EXPECT_EQ(rsmi::kNotYetImplemented, RSMI_STATUS_NOT_YET_IMPLEMENTED);
  EXPECT_EQ(rsmi::kNotFound, RSMI_STATUS_NOT_FOUND);
  EXPECT_EQ(rsmi::kInsufficientSize, RSMI_STATUS_INSUFFICIENT_SIZE);
  EXPECT_EQ(rsmi::kInterrupt, RSMI_STATUS_INTERRUPT);
  EXPECT_EQ(rsmi::kUnexpectedSize, RSMI_STATUS_UNEXPECTED_SIZE);
  EXPECT_EQ(rsmi::kNoData, RSMI_STATUS_NO_DATA);
  EXPECT_EQ(rsmi::kUnexpectedData, RSMI_STATUS_UNEXPECTED_DATA);
  EXPECT_EQ(rsmi::kBusy, RSMI_STATUS_BUSY);
  EXPECT_EQ(rsmi::kRefcountOverflow, RSMI_STATUS_REFCOUNT_OVERFLOW);
  EXPECT_EQ(rsmi::kUnknownError, RSMI_STATUS_UNKNOWN_ERROR);
}

TEST(RocmSmiAbi, EnumMembersUsed) {
  EXPECT_EQ(rsmi::kMemTypeVram, RSMI_MEM_TYPE_VRAM);
  EXPECT_EQ(rsmi::kClkTypeSys, RSMI_CLK_TYPE_SYS);
  EXPECT_EQ(rsmi::kClkTypeMem, RSMI_CLK_TYPE_MEM);
  EXPECT_EQ(rsmi::kTempTypeEdge, RSMI_TEMP_TYPE_EDGE);
  EXPECT_EQ(rsmi::kTempTypeJunction, RSMI_TEMP_TYPE_JUNCTION);
  EXPECT_EQ(rsmi::kTempCurrent, RSMI_TEMP_CURRENT);
  EXPECT_EQ(rsmi::kSwCompDriver, RSMI_SW_COMP_DRIVER);
  EXPECT_EQ(sizeof(rsmi_status_t), sizeof(rsmi::Status));
}

TEST(RocmSmiAbi, StructLayouts) {
  EXPECT_EQ(sizeof(rsmi::Version), sizeof(rsmi_version_t));
  EXPECT_EQ(offsetof(rsmi::Version, patch), offsetof(rsmi_version_t, patch));
  EXPECT_EQ(offsetof(rsmi::Version, build), offsetof(rsmi_version_t, build));

  EXPECT_EQ(sizeof(rsmi::ProcessInfo), sizeof(rsmi_process_info_t));
  EXPECT_EQ(offsetof(rsmi::ProcessInfo, pasid), offsetof(rsmi_process_info_t, pasid));
  EXPECT_EQ(offsetof(rsmi::ProcessInfo, vram_usage), offsetof(rsmi_process_info_t, vram_usage));
  EXPECT_EQ(offsetof(rsmi::ProcessInfo, sdma_usage), offsetof(rsmi_process_info_t, sdma_usage));
  EXPECT_EQ(offsetof(rsmi::ProcessInfo, cu_occupancy), offsetof(rsmi_process_info_t, cu_occupancy));

  // The 5.x layout is the installed header's; ROCm 6's adds has_deep_sleep first and one level.
  EXPECT_EQ(RSMI_MAX_NUM_FREQUENCIES, 32);
  EXPECT_EQ(sizeof(rsmi::FrequenciesV1), sizeof(rsmi_frequencies_t));
  EXPECT_EQ(offsetof(rsmi::FrequenciesV1, current), offsetof(rsmi_frequencies_t, current));
  EXPECT_EQ(offsetof(rsmi::FrequenciesV1, frequency), offsetof(rsmi_frequencies_t, frequency));
  EXPECT_EQ(offsetof(rsmi::FrequenciesV2, num_supported), 4u);
  EXPECT_EQ(offsetof(rsmi::FrequenciesV2, frequency), 16u);
  EXPECT_EQ(sizeof(rsmi::FrequenciesV2), 16u + 33 * 8);
}

TEST(RocmSmiAbi, FunctionPrototypes) {
  static_assert(same_function(rsmi::InitFn{}, decltype(&rsmi_init){}));
  static_assert(same_function(rsmi::NumMonitorDevicesFn{}, decltype(&rsmi_num_monitor_devices){}));
  static_assert(same_function(rsmi::VersionGetFn{}, decltype(&rsmi_version_get){}));
  static_assert(same_function(rsmi::VersionStrGetFn{}, decltype(&rsmi_version_str_get){}));
  static_assert(same_function(rsmi::DevNameGetFn{}, decltype(&rsmi_dev_name_get){}));  // size_t len, unlike the others
  static_assert(same_function(rsmi::DevU64GetFn{}, decltype(&rsmi_dev_unique_id_get){}));
  static_assert(same_function(rsmi::DevU64GetFn{}, decltype(&rsmi_dev_pci_id_get){}));
  static_assert(same_function(rsmi::DevStringGetFn{}, decltype(&rsmi_dev_serial_number_get){}));
  static_assert(same_function(rsmi::DevStringGetFn{}, decltype(&rsmi_dev_vbios_version_get){}));
  static_assert(same_function(rsmi::DevMemoryGetFn{}, decltype(&rsmi_dev_memory_total_get){}));
  static_assert(same_function(rsmi::DevMemoryGetFn{}, decltype(&rsmi_dev_memory_usage_get){}));
  static_assert(same_function(rsmi::DevU32GetFn{}, decltype(&rsmi_dev_busy_percent_get){}));
  static_assert(same_function(rsmi::DevU32GetFn{}, decltype(&rsmi_dev_memory_busy_percent_get){}));
  static_assert(same_function(rsmi::DevSensorU64GetFn{}, decltype(&rsmi_dev_power_ave_get){}));
  static_assert(same_function(rsmi::DevSensorU64GetFn{}, decltype(&rsmi_dev_power_cap_get){}));
  static_assert(same_function(rsmi::DevTempMetricGetFn{}, decltype(&rsmi_dev_temp_metric_get){}));
  static_assert(same_function(rsmi::DevGpuClkFreqGetFn{}, decltype(&rsmi_dev_gpu_clk_freq_get){}));
  static_assert(same_function(rsmi::ComputeProcessInfoGetFn{}, decltype(&rsmi_compute_process_info_get){}));
  static_assert(same_function(rsmi::ComputeProcessGpusGetFn{}, decltype(&rsmi_compute_process_gpus_get){}));
  static_assert(same_function(rsmi::ComputeProcessInfoByPidGetFn{}, decltype(&rsmi_compute_process_info_by_pid_get){}));
  // The checker itself tells a wrong prototype apart.
  static_assert(!same_function(rsmi::DevStringGetFn{}, decltype(&rsmi_dev_name_get){}));
  static_assert(!same_function(rsmi::DevU32GetFn{}, decltype(&rsmi_dev_unique_id_get){}));
  SUCCEED();
}
