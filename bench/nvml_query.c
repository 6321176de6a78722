/* What `nvidia-smi --query-gpu=utilization.gpu,memory.used,power.draw,temperature.gpu,clocks.sm
 * --format=csv` does, reduced to its NVML calls: a fresh process that opens NVML, initialises it,
 * reads every GPU and exits. bench/sampler.js runs it once a second against the stand-in NVML
 * (nvidia-smi itself cannot be installed on the benchmark machine: Debian's non-free is not
 * enabled), as the per-second cost of polling with nvidia-smi, without nvidia-smi's own work. */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*init_fn)(void);
typedef int (*count_fn)(unsigned *);
typedef int (*handle_fn)(unsigned, void **);
typedef int (*uint_fn)(void *, unsigned *);
typedef int (*util_fn)(void *, unsigned *);
typedef int (*mem_fn)(void *, unsigned long long *);
typedef int (*temp_fn)(void *, int, unsigned *);
typedef int (*clock_fn)(void *, int, unsigned *);

int main(int argc, char **argv) {
  void *nvml = dlopen(argc > 1 ? argv[1] : "libnvidia-ml.so.1", RTLD_NOW);
  if (!nvml) return 1;
  init_fn init = (init_fn)dlsym(nvml, "nvmlInit_v2");
  count_fn count = (count_fn)dlsym(nvml, "nvmlDeviceGetCount_v2");
  handle_fn handle = (handle_fn)dlsym(nvml, "nvmlDeviceGetHandleByIndex_v2");
  util_fn utilization = (util_fn)dlsym(nvml, "nvmlDeviceGetUtilizationRates");
  mem_fn memory = (mem_fn)dlsym(nvml, "nvmlDeviceGetMemoryInfo");
  uint_fn power = (uint_fn)dlsym(nvml, "nvmlDeviceGetPowerUsage");
  temp_fn temperature = (temp_fn)dlsym(nvml, "nvmlDeviceGetTemperature");
  clock_fn clock = (clock_fn)dlsym(nvml, "nvmlDeviceGetClockInfo");
  int (*shutdown)(void) = (int (*)(void))dlsym(nvml, "nvmlShutdown");
  if (!init || !count || !handle || init() != 0) return 2;
  unsigned n = 0;
  count(&n);
  printf("utilization.gpu [%%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz]\n");
  for (unsigned i = 0; i < n; i++) {
    void *device = 0;
    unsigned util[2] = {0, 0}, mw = 0, celsius = 0, mhz = 0;
    unsigned long long mem[3] = {0, 0, 0};
    if (handle(i, &device) != 0) continue;
    if (utilization) utilization(device, util);
    if (memory) memory(device, mem);
    if (power) power(device, &mw);
    if (temperature) temperature(device, 0, &celsius);
    if (clock) clock(device, 1, &mhz);
    printf("%u %%, %llu MiB, %.2f W, %u, %u MHz\n", util[0], mem[2] >> 20, mw / 1000.0, celsius, mhz);
  }
  if (shutdown) shutdown();
  return 0;
}
