/* A stand-in libcuda.so.1 exporting only cuDriverGetVersion, the one call config-tracker makes
 * (no cuInit). FAKE_CUDA_VERSION sets the answer; unset, it answers CUDA_ERROR_NO_DEVICE. */
#include <stdlib.h>

__attribute__((visibility("default"))) int cuDriverGetVersion(int *version) {
  const char *value = getenv("FAKE_CUDA_VERSION");
  if (!version) return 1;
  if (!value) return 100;
  *version = atoi(value);
  return 0;
}
