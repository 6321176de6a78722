/* A stand-in libamdhip64 (the HIP runtime), built as libamdhip64.so.6.2.60200 as ROCm 6.2.0 names
 * it. config-tracker reads the version from the file name and must never call these two: in the
 * real runtime both start HIP (open /dev/kfd, become a GPU process) before answering. A call is
 * appended to FAKE_HIP_LOG, and answered with HIP 6.2.41133's HIP_VERSION. */
#include "fake_scenario.h"

EXPORT int hipRuntimeGetVersion(int *runtimeVersion) {
  log_call_to("FAKE_HIP_LOG", "hipRuntimeGetVersion");
  if (!runtimeVersion) return 1; /* hipErrorInvalidValue */
  *runtimeVersion = 60241133;
  return 0;
}

EXPORT int hipDriverGetVersion(int *driverVersion) {
  log_call_to("FAKE_HIP_LOG", "hipDriverGetVersion");
  if (!driverVersion) return 1;
  *driverVersion = 60241133;
  return 0;
}
