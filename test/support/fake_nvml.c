/* A stand-in libnvidia-ml.so.1 for the test suite: NVML's C ABI (types and values as in NVIDIA's
 * nvml.h), answering from a scenario file named by FAKE_NVML_CONFIG. Built twice: the current
 * ABI, and with -DFAKE_NVML_LEGACY an old driver's library that lacks the _v2/_v3 entry points,
 * compute capability, MIG, nvmlDeviceGetCurrentClocksEventReasons (only the older
 * ...ThrottleReasons name) and GPM.
 *
 * Scenario lines (one fact each; '#' starts a comment):
 *   init <nvmlReturn>            result of nvmlInit (default 0)
 *   init_delay_ms <ms>           sleep inside nvmlInit
 *   count_error <nvmlReturn>     result of nvmlDeviceGetCount
 *   driver <version>             nvmlSystemGetDriverVersion
 *   cuda <int>                   nvmlSystemGetCudaDriverVersion (12040 = 12.4)
 *   gpu key=value ...            a physical GPU: name uuid memory cc bus mig handle_error, and the
 *                                sampler keys below
 *   mig key=value ...            a MIG device of the last gpu: name uuid memory (the sampler keys
 *                                are read too; a MIG device is lost with its GPU)
 * Sampler keys on a gpu line; absent, the getter answers NVML_ERROR_NOT_SUPPORTED unless noted:
 *   util=G:M                     nvmlDeviceGetUtilizationRates gpu:memory percent, e.g. util=97:23
 *   mem_used=BYTES               the used field of nvmlDeviceGetMemoryInfo(_v2), free = total - used
 *                                (absent: 0 used, as before)
 *   power=WATTS                  nvmlDeviceGetPowerUsage; answers milliwatts, decimals allowed (512.5)
 *   power_limit=WATTS            nvmlDeviceGetEnforcedPowerLimit, milliwatts likewise
 *   temp=C                       nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)
 *   sm_clock=MHZ                 nvmlDeviceGetClockInfo(NVML_CLOCK_SM); other clock types unsupported
 *   reasons=HEX                  nvmlDeviceGetCurrentClocksEventReasons / ...ThrottleReasons bitmask,
 *                                e.g. reasons=0x4 (SW power cap)
 *   gpm=1|0                      nvmlGpmQueryDeviceSupport isSupportedDevice (absent: 0). Sample get
 *                                answers NOT_SUPPORTED unless gpm=1
 *   gpm_sm=PCT gpm_occupancy=PCT gpm_tensor=PCT gpm_dram=PCT
 *                                nvmlGpmMetricsGet values of SM_UTIL (2), SM_OCCUPANCY (3),
 *                                ANY_TENSOR_UTIL (5) and HMMA_TENSOR_UTIL (7), DRAM_BW_UTIL (10); any
 *                                other metric (or one whose key is absent) gets NOT_SUPPORTED in its entry
 *   lost_after_ms=N              N ms (monotonic) after the first successful nvmlInit of this process,
 *                                every reading of this GPU (the getters above, memory info, processes,
 *                                GPM support and sample get) answers NVML_ERROR_GPU_IS_LOST
 * Any number above may be a ramp A..B (util=10..90:5..30, power=100..400): the k-th answered call
 * (k = 0, 1, ...) of that getter on that device gives A + (B - A) * min(k, 10) / 10, rounded to the
 * nearest integer where NVML answers integers; the counters start again when nvmlInit reloads the
 * scenario. Both memory-info entry points share a counter, as do both clock-reason names; a
 * nvmlGpmMetricsGet call counts once for the device its samples were taken on.
 *
 * Processes: FAKE_NVML_PROCESSES names a file re-read on every nvmlDeviceGetComputeRunningProcesses
 * call (tests rewrite it while a sampler runs), one process a line: PID BYTES [GPU_INDEX]; BYTES may
 * be "na" (NVML_VALUE_NOT_AVAILABLE), GPU_INDEX defaults to 0 and picks the physical GPU listing the
 * line. No file: no processes. MIG device handles answer NOT_SUPPORTED. gpuInstanceId and
 * computeInstanceId are 0xFFFFFFFF, as NVML reports outside MIG.
 *
 * Malformed lines and values are ignored. Every call is appended to FAKE_NVML_LOG when set, so tests
 * can see which entry points ran.
 */
#include <stddef.h>

#include "fake_scenario.h"
#define MAX_GPUS 16
#define MAX_MIGS 8
#define MAX_PROCESSES 256   /* per call; further lines of FAKE_NVML_PROCESSES are ignored */
#define GPM_METRIC_MAX 98   /* NVML_GPM_METRIC_MAX up to the 12.8 header (210 in 12.9-13.1, 333 from 13.2) */

typedef int nvmlReturn_t;
typedef struct FakeDevice *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
/* What the unversioned nvmlDeviceGetComputeRunningProcesses fills: 16 bytes, padding after pid. */
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
/* nvmlProcessInfo_t (= _v2_t) that _v2 and _v3 fill: 24 bytes. */
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t is 16 bytes");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t is 24 bytes");

#define NVML_VALUE_NOT_AVAILABLE (~0ULL) /* (-1) in nvml.h, read as unsigned long long */
#define NO_INSTANCE 0xFFFFFFFFu          /* gpuInstanceId/computeInstanceId outside MIG */


/* Getters with a call counter of their own on each device (the k of a ramp). */
enum { CALLS_UTIL, CALLS_MEMORY, CALLS_POWER, CALLS_POWER_LIMIT, CALLS_TEMP, CALLS_SM_CLOCK,
       CALLS_REASONS, CALLS_GPM_METRICS, CALLS_COUNT };

struct FakeDevice {
  char name[96];
  char uuid[96];
  char bus[32];
  unsigned long long memory;
  int cc_major, cc_minor;
  int mig;            /* 0 off, 1 on, -1 not supported */
  int handle_error;   /* returned by nvmlDeviceGetHandleByIndex for this index */
  int is_mig;
  struct FakeDevice *parent;
  int mig_count;
  struct FakeDevice *migs[MAX_MIGS];
  struct Ramp util_gpu, util_memory, mem_used, power, power_limit, temp, sm_clock, reasons;
  struct Ramp gpm_sm, gpm_occupancy, gpm_tensor, gpm_dram;
  int gpm;            /* 1: GPM supported */
  struct Loss loss;   /* lost_after_ms */
  unsigned long long calls[CALLS_COUNT]; /* updated atomically: a sampler may read from threads */
};

static struct FakeDevice gpus[MAX_GPUS];
static struct FakeDevice migs[MAX_GPUS * MAX_MIGS];
static int gpu_count, mig_total;
static int init_result, init_delay_ms, count_error, cuda_version;
static char driver_version[80];

static void log_call(const char *name) { log_call_to("FAKE_NVML_LOG", name); }





/* util=G:M, each side a number or a ramp; both must parse. */
static void parse_util(struct FakeDevice *d, const char *text) {
  char copy[128];
  struct Ramp gpu = {0}, memory = {0};
  if (strlen(text) >= sizeof copy) return;
  memcpy(copy, text, strlen(text) + 1);
  char *colon = strchr(copy, ':');
  if (!colon) return;
  *colon = '\0';
  parse_ramp(copy, &gpu);
  parse_ramp(colon + 1, &memory);
  if (!gpu.present || !memory.present) return;
  d->util_gpu = gpu;
  d->util_memory = memory;
}

static void apply_field(struct FakeDevice *d, const char *key, const char *value) {
  if (!strcmp(key, "name")) snprintf(d->name, sizeof d->name, "%s", value);
  else if (!strcmp(key, "uuid")) snprintf(d->uuid, sizeof d->uuid, "%s", value);
  else if (!strcmp(key, "bus")) snprintf(d->bus, sizeof d->bus, "%s", value);
  else if (!strcmp(key, "memory")) d->memory = strtoull(value, NULL, 10);
  else if (!strcmp(key, "cc")) sscanf(value, "%d.%d", &d->cc_major, &d->cc_minor);
  else if (!strcmp(key, "mig")) d->mig = !strcmp(value, "unsupported") ? -1 : atoi(value);
  else if (!strcmp(key, "handle_error")) d->handle_error = atoi(value);
  else if (!strcmp(key, "util")) parse_util(d, value);
  else if (!strcmp(key, "mem_used")) parse_ramp(value, &d->mem_used);
  else if (!strcmp(key, "power")) parse_ramp(value, &d->power);
  else if (!strcmp(key, "power_limit")) parse_ramp(value, &d->power_limit);
  else if (!strcmp(key, "temp")) parse_ramp(value, &d->temp);
  else if (!strcmp(key, "sm_clock")) parse_ramp(value, &d->sm_clock);
  else if (!strcmp(key, "reasons")) parse_ramp(value, &d->reasons);
  else if (!strcmp(key, "gpm")) d->gpm = atoi(value) == 1;
  else if (!strcmp(key, "gpm_sm")) parse_ramp(value, &d->gpm_sm);
  else if (!strcmp(key, "gpm_occupancy")) parse_ramp(value, &d->gpm_occupancy);
  else if (!strcmp(key, "gpm_tensor")) parse_ramp(value, &d->gpm_tensor);
  else if (!strcmp(key, "gpm_dram")) parse_ramp(value, &d->gpm_dram);
  else if (!strcmp(key, "lost_after_ms")) parse_loss(value, &d->loss);
}

static void apply_device_field(void *device, const char *key, const char *value) {
  apply_field((struct FakeDevice *)device, key, value);
}

static void load_scenario(void) {
  memset(gpus, 0, sizeof gpus);
  memset(migs, 0, sizeof migs);
  gpu_count = mig_total = init_result = init_delay_ms = count_error = cuda_version = 0;
  driver_version[0] = '\0';
  FILE *file = open_named_file("FAKE_NVML_CONFIG");
  if (!file) return;
  char line[1024];
  while (fgets(line, sizeof line, file)) {
    char *cursor = line;
    char *word = next_token(&cursor);
    if (!word) continue;
    if (!strcmp(word, "init")) init_result = atoi(next_token(&cursor));
    else if (!strcmp(word, "init_delay_ms")) init_delay_ms = atoi(next_token(&cursor));
    else if (!strcmp(word, "count_error")) count_error = atoi(next_token(&cursor));
    else if (!strcmp(word, "cuda")) cuda_version = atoi(next_token(&cursor));
    else if (!strcmp(word, "driver")) snprintf(driver_version, sizeof driver_version, "%.79s", next_token(&cursor));
    else if (!strcmp(word, "gpu") || !strcmp(word, "mig")) {
      struct FakeDevice *d;
      if (!strcmp(word, "gpu")) {
        if (gpu_count == MAX_GPUS) continue;
        d = &gpus[gpu_count++];
      } else {
        if (gpu_count == 0 || mig_total == MAX_GPUS * MAX_MIGS) continue;
        struct FakeDevice *parent = &gpus[gpu_count - 1];
        if (parent->mig_count == MAX_MIGS) continue;
        d = &migs[mig_total++];
        d->is_mig = 1;
        d->parent = parent;
        parent->migs[parent->mig_count++] = d;
      }
      read_fields(cursor, d, apply_device_field);
    }
  }
  fclose(file);
}

static nvmlReturn_t copy_string(const char *value, char *out, unsigned int length) {
  if (!out) return 2;
  if (strlen(value) + 1 > length) return 7;
  memcpy(out, value, strlen(value) + 1);
  return 0;
}


static nvmlReturn_t do_init(const char *name) {
  log_call(name);
  load_scenario();
  if (init_delay_ms > 0) usleep((useconds_t)init_delay_ms * 1000);
  if (init_result == 0) note_successful_init();
  return init_result;
}

static nvmlReturn_t do_count(unsigned int *count) {
  if (!count) return 2;
  if (count_error) return count_error;
  *count = (unsigned int)gpu_count;
  return 0;
}

static nvmlReturn_t do_handle(unsigned int index, nvmlDevice_t *device) {
  if (!device || index >= (unsigned int)gpu_count) return 2;
  if (gpus[index].handle_error) return gpus[index].handle_error;
  *device = &gpus[index];
  return 0;
}

/* Whether the GPU (a MIG device's parent) has fallen off the bus by now: lost_after_ms past the
 * first successful nvmlInit. */
static int is_lost(const struct FakeDevice *d) { return loss_has_come(&(d->is_mig ? d->parent : d)->loss); }

/* The k of this call of a getter on d (0 for the first), for ramps. */
static unsigned long long next_call(struct FakeDevice *d, int getter) {
  return __atomic_fetch_add(&d->calls[getter], 1, __ATOMIC_RELAXED);
}



/* A getter answering one number from a scenario ramp (at ramp_offset in FakeDevice): NVML's order of
 * checks, arguments first, then a lost GPU, then support. */
static nvmlReturn_t read_ramp(nvmlDevice_t d, const void *out, size_t ramp_offset, int getter, double *value) {
  if (!d || !out) return 2;
  if (is_lost(d)) return 15;
  const struct Ramp *ramp = (const struct Ramp *)((const char *)d + ramp_offset);
  if (!ramp->present) return 3;
  *value = ramp_at(ramp, next_call(d, getter));
  return 0;
}

static nvmlReturn_t read_uint(nvmlDevice_t d, unsigned int *out, size_t ramp_offset, int getter, double scale) {
  double value;
  nvmlReturn_t result = read_ramp(d, out, ramp_offset, getter, &value);
  if (result == 0) *out = to_uint(value * scale);
  return result;
}

static nvmlReturn_t do_memory(nvmlDevice_t d, unsigned long long *total, unsigned long long *free_bytes,
                              unsigned long long *used) {
  if (!d) return 2;
  if (is_lost(d)) return 15;
  *total = d->memory;
  *used = d->mem_used.present ? to_ull(ramp_at(&d->mem_used, next_call(d, CALLS_MEMORY))) : 0;
  *free_bytes = *used < *total ? *total - *used : 0;
  return 0;
}

/* Reasons are a bitmask: kept as an unsigned long long, not rounded through unsigned int. */
static nvmlReturn_t do_reasons(nvmlDevice_t d, unsigned long long *reasons) {
  double value;
  nvmlReturn_t result = read_ramp(d, reasons, offsetof(struct FakeDevice, reasons), CALLS_REASONS, &value);
  if (result == 0) *reasons = to_ull(value);
  return result;
}


/* Re-reads FAKE_NVML_PROCESSES (tests rewrite it while a sampler runs) and keeps the lines of the
 * GPU at gpu_index; malformed or over-long lines are skipped. */
static unsigned int load_processes(unsigned int gpu_index, nvmlProcessInfo_t *out) {
  FILE *file = open_named_file("FAKE_NVML_PROCESSES");
  if (!file) return 0;
  unsigned int count = 0;
  int in_long_line = 0;
  char line[256];
  while (count < MAX_PROCESSES && fgets(line, sizeof line, file)) {
    int skip = in_long_line;
    in_long_line = !strchr(line, '\n') && !feof(file);
    if (skip || in_long_line) continue;
    char *cursor = line;
    char *pid = next_token(&cursor);
    char *bytes = pid ? next_token(&cursor) : NULL;
    char *index = bytes ? next_token(&cursor) : NULL;
    if (!bytes || (index && next_token(&cursor))) continue;
    unsigned long long pid_value, bytes_value, index_value = 0;
    if (!parse_whole(pid, 0xFFFFFFFFu, &pid_value)) continue;
    if (!strcmp(bytes, "na")) bytes_value = NVML_VALUE_NOT_AVAILABLE;
    else if (!parse_whole(bytes, ~0ULL, &bytes_value)) continue;
    if (index && !parse_whole(index, 0xFFFFFFFFu, &index_value)) continue;
    if (index_value != gpu_index) continue;
    out[count].pid = (unsigned int)pid_value;
    out[count].usedGpuMemory = bytes_value;
    out[count].gpuInstanceId = out[count].computeInstanceId = NO_INSTANCE;
    count++;
  }
  fclose(file);
  return count;
}

/* nvmlDeviceGetComputeRunningProcesses in every version: *infoCount in is the room in infos (0 and
 * NULL to ask for the count); too little room answers INSUFFICIENT_SIZE with the count needed. */
static nvmlReturn_t do_processes(nvmlDevice_t d, unsigned int *infoCount, void *infos, int v1) {
  if (!d || !infoCount) return 2;
  if (d->is_mig) return 3;
  if (is_lost(d)) return 15;
  nvmlProcessInfo_t found[MAX_PROCESSES];
  unsigned int count = load_processes((unsigned int)(d - gpus), found);
  if (*infoCount < count) {
    *infoCount = count;
    return 7;
  }
  if (count && !infos) return 2;
  for (unsigned int i = 0; i < count; i++) {
    if (v1) {
      nvmlProcessInfo_v1_t *info = (nvmlProcessInfo_v1_t *)infos + i;
      memset(info, 0, sizeof *info);
      info->pid = found[i].pid;
      info->usedGpuMemory = found[i].usedGpuMemory;
    } else {
      ((nvmlProcessInfo_t *)infos)[i] = found[i];
    }
  }
  *infoCount = count;
  return 0;
}

EXPORT nvmlReturn_t nvmlInit(void) { return do_init("nvmlInit"); }
EXPORT nvmlReturn_t nvmlShutdown(void) { log_call("nvmlShutdown"); return 0; }
EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { log_call("nvmlDeviceGetCount"); return do_count(count); }
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *d) { log_call("nvmlDeviceGetHandleByIndex"); return do_handle(i, d); }
EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *out, unsigned int length) {
  log_call("nvmlSystemGetDriverVersion");
  return copy_string(driver_version, out, length);
}
EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *out, unsigned int length) {
  log_call("nvmlDeviceGetName");
  return d ? copy_string(d->name, out, length) : 2;
}
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *out, unsigned int length) {
  log_call("nvmlDeviceGetUUID");
  return d ? copy_string(d->uuid, out, length) : 2;
}
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *memory) {
  log_call("nvmlDeviceGetMemoryInfo");
  if (!memory) return 2;
  memset(memory, 0, sizeof *memory);
  return do_memory(d, &memory->total, &memory->free, &memory->used);
}
EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *utilization) {
  log_call("nvmlDeviceGetUtilizationRates");
  if (!d || !utilization) return 2;
  if (is_lost(d)) return 15;
  if (!d->util_gpu.present) return 3;
  unsigned long long k = next_call(d, CALLS_UTIL); /* one call: both fields at the same step */
  utilization->gpu = to_uint(ramp_at(&d->util_gpu, k));
  utilization->memory = to_uint(ramp_at(&d->util_memory, k));
  return 0;
}
EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *milliwatts) {
  log_call("nvmlDeviceGetPowerUsage");
  return read_uint(d, milliwatts, offsetof(struct FakeDevice, power), CALLS_POWER, 1000.0);
}
EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *milliwatts) {
  log_call("nvmlDeviceGetEnforcedPowerLimit");
  return read_uint(d, milliwatts, offsetof(struct FakeDevice, power_limit), CALLS_POWER_LIMIT, 1000.0);
}
EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *celsius) {
  log_call("nvmlDeviceGetTemperature");
  if (sensor != 0) return 2; /* NVML_TEMPERATURE_GPU is the only sensor (NVML_TEMPERATURE_COUNT = 1) */
  return read_uint(d, celsius, offsetof(struct FakeDevice, temp), CALLS_TEMP, 1.0);
}
EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
  log_call("nvmlDeviceGetClockInfo");
  if (type < 0 || type > 3) return 2; /* graphics 0, SM 1, memory 2, video 3 */
  if (type != 1) {
    if (!d || !mhz) return 2;
    return is_lost(d) ? 15 : 3; /* only the SM clock is in the scenario */
  }
  return read_uint(d, mhz, offsetof(struct FakeDevice, sm_clock), CALLS_SM_CLOCK, 1.0);
}
/* The name every driver has; deprecated in NVML 12.2 for ...ClocksEventReasons, same ABI. */
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *reasons) {
  log_call("nvmlDeviceGetCurrentClocksThrottleReasons");
  return do_reasons(d, reasons);
}
/* The first entry point: 16-byte nvmlProcessInfo_v1_t. */
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *infoCount,
                                                         nvmlProcessInfo_v1_t *infos) {
  log_call("nvmlDeviceGetComputeRunningProcesses");
  return do_processes(d, infoCount, infos, 1);
}

#ifdef FAKE_NVML_LEGACY
/* The pre-v2 nvmlPciInfo_t: a 16-byte busId first, then ids and reserved words (52 bytes). */
typedef struct {
  char busId[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId, reserved0, reserved1, reserved2, reserved3;
} nvmlPciInfo_v1_t;
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t d, nvmlPciInfo_v1_t *pci) {
  log_call("nvmlDeviceGetPciInfo");
  if (!d || !pci) return 2;
  memset(pci, 0, sizeof *pci);
  snprintf(pci->busId, sizeof pci->busId, "%.12s", d->bus + (strlen(d->bus) > 12 ? 4 : 0));
  return 0;
}
#else
EXPORT nvmlReturn_t nvmlInit_v2(void) { return do_init("nvmlInit_v2"); }
EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) { log_call("nvmlDeviceGetCount_v2"); return do_count(count); }
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) { log_call("nvmlDeviceGetHandleByIndex_v2"); return do_handle(i, d); }
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version) {
  log_call("nvmlSystemGetCudaDriverVersion");
  if (!version) return 2;
  *version = cuda_version;
  return cuda_version ? 0 : 3;
}
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
  log_call("nvmlSystemGetCudaDriverVersion_v2");
  if (!version) return 2;
  *version = cuda_version;
  return cuda_version ? 0 : 3;
}
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *memory) {
  log_call("nvmlDeviceGetMemoryInfo_v2");
  if (!memory) return 2;
  if (memory->version != (sizeof(nvmlMemory_v2_t) | (2u << 24))) return 25; /* ARGUMENT_VERSION_MISMATCH */
  unsigned int version = memory->version;
  memset(memory, 0, sizeof *memory);
  memory->version = version;
  /* reserved stays 0; v2's used includes it */
  return do_memory(d, &memory->total, &memory->free, &memory->used);
}
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
  log_call("nvmlDeviceGetPciInfo_v3");
  if (!d || !pci) return 2;
  memset(pci, 0, sizeof *pci);
  if (d->is_mig) return 3;
  snprintf(pci->busId, sizeof pci->busId, "%s", d->bus);
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%.12s", d->bus + (strlen(d->bus) > 12 ? 4 : 0));
  return 0;
}
EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
  log_call("nvmlDeviceGetCudaComputeCapability");
  if (!d || !major || !minor) return 2;
  if (d->is_mig) return 3;
  *major = d->cc_major;
  *minor = d->cc_minor;
  return 0;
}
EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
  log_call("nvmlDeviceGetMigMode");
  if (!d || !current || !pending) return 2;
  if (d->mig < 0) return 3;
  *current = *pending = (unsigned int)d->mig;
  return 0;
}
EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
  log_call("nvmlDeviceGetMaxMigDeviceCount");
  if (!d || !count) return 2;
  if (d->mig < 0) return 3;
  *count = 7;
  return 0;
}
EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int slot, nvmlDevice_t *mig) {
  log_call("nvmlDeviceGetMigDeviceHandleByIndex");
  if (!d || !mig) return 2;
  if (slot >= (unsigned int)d->mig_count) return 6; /* NOT_FOUND: empty slot */
  *mig = d->migs[slot];
  return 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *reasons) {
  log_call("nvmlDeviceGetCurrentClocksEventReasons");
  return do_reasons(d, reasons);
}
/* _v2 and _v3 fill the same 24-byte nvmlProcessInfo_t (gpuInstanceId/computeInstanceId added). */
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *infoCount,
                                                            nvmlProcessInfo_t *infos) {
  log_call("nvmlDeviceGetComputeRunningProcesses_v2");
  return do_processes(d, infoCount, infos, 0);
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *infoCount,
                                                            nvmlProcessInfo_t *infos) {
  log_call("nvmlDeviceGetComputeRunningProcesses_v3");
  return do_processes(d, infoCount, infos, 0);
}

/* GPM (Hopper and newer; NVML 11.8+). A sample is opaque to the caller: here it remembers the device
 * and the order it was taken in, which is what nvmlGpmMetricsGet checks. */
#define GPM_SAMPLE_MAGIC 0x47504d53u /* "GPMS": catches pointers that are not our samples */
struct FakeGpmSample {
  unsigned int magic;
  struct FakeDevice *device; /* NULL until nvmlGpmSampleGet */
  unsigned long long taken;  /* value of gpm_samples_taken after that get */
};
typedef struct FakeGpmSample *nvmlGpmSample_t;
typedef struct { unsigned int version, isSupportedDevice; } nvmlGpmSupport_t;
typedef struct {
  unsigned int metricId;
  nvmlReturn_t nvmlReturn;
  double value;
  struct { char *shortName, *longName, *unit; } metricInfo;
} nvmlGpmMetric_t;
/* metrics[] holds NVML_GPM_METRIC_MAX entries in the caller's header (98 up to 12.8, 210 in 12.9-13.1,
 * 333 from 13.2, all under version 1), so only the first numMetrics are ever touched. */
typedef struct {
  unsigned int version, numMetrics;
  nvmlGpmSample_t sample1, sample2;
  nvmlGpmMetric_t metrics[];
} nvmlGpmMetricsGet_t;
_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t is 40 bytes");
_Static_assert(offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "metrics[] follows two samples");

static unsigned long long gpm_samples_taken;

static int is_sample(const struct FakeGpmSample *sample) { return sample && sample->magic == GPM_SAMPLE_MAGIC; }

EXPORT nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t d, nvmlGpmSupport_t *support) {
  log_call("nvmlGpmQueryDeviceSupport");
  if (!d || !support) return 2;
  if (support->version != 1) return 25; /* NVML_GPM_SUPPORT_VERSION */
  if (is_lost(d)) return 15;
  support->isSupportedDevice = (unsigned int)d->gpm;
  return 0;
}
EXPORT nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *sample) {
  log_call("nvmlGpmSampleAlloc");
  if (!sample) return 2;
  struct FakeGpmSample *created = calloc(1, sizeof *created);
  if (!created) return 20; /* NVML_ERROR_MEMORY */
  created->magic = GPM_SAMPLE_MAGIC;
  *sample = created;
  return 0;
}
EXPORT nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t sample) {
  log_call("nvmlGpmSampleFree");
  if (!is_sample(sample)) return 2;
  sample->magic = 0;
  free(sample);
  return 0;
}
EXPORT nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t d, nvmlGpmSample_t sample) {
  log_call("nvmlGpmSampleGet");
  if (!d || !is_sample(sample)) return 2;
  if (is_lost(d)) return 15;
  if (!d->gpm) return 3;
  sample->device = d;
  sample->taken = __atomic_add_fetch(&gpm_samples_taken, 1, __ATOMIC_SEQ_CST);
  return 0;
}
EXPORT nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *get) {
  log_call("nvmlGpmMetricsGet");
  if (!get) return 2;
  if (get->version != 1) return 25; /* NVML_GPM_METRICS_GET_VERSION */
  if (get->numMetrics > GPM_METRIC_MAX) return 2;
  nvmlGpmSample_t first = get->sample1, second = get->sample2;
  if (!is_sample(first) || !is_sample(second) || !first->device || first->device != second->device) return 2;
  if (second->taken <= first->taken) return 2; /* sample2 must be taken after sample1 */
  struct FakeDevice *d = first->device;
  unsigned long long k = next_call(d, CALLS_GPM_METRICS);
  for (unsigned int i = 0; i < get->numMetrics; i++) {
    nvmlGpmMetric_t *metric = &get->metrics[i];
    const struct Ramp *ramp = NULL;
    switch (metric->metricId) {
      case 2: ramp = &d->gpm_sm; break;         /* NVML_GPM_METRIC_SM_UTIL */
      case 3: ramp = &d->gpm_occupancy; break;  /* NVML_GPM_METRIC_SM_OCCUPANCY */
      case 5:                                   /* NVML_GPM_METRIC_ANY_TENSOR_UTIL */
      case 7: ramp = &d->gpm_tensor; break;     /* NVML_GPM_METRIC_HMMA_TENSOR_UTIL */
      case 10: ramp = &d->gpm_dram; break;      /* NVML_GPM_METRIC_DRAM_BW_UTIL */
    }
    /* metricInfo names may be NULL ("if not defined" in nvml.h): callers must cope */
    memset(&metric->metricInfo, 0, sizeof metric->metricInfo);
    if (ramp && ramp->present) {
      metric->nvmlReturn = 0;
      metric->value = ramp_at(ramp, k);
    } else {
      metric->nvmlReturn = 3;
      metric->value = 0;
    }
  }
  return 0;
}
#endif
