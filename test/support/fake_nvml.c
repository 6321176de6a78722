/* A stand-in libnvidia-ml.so.1 for the test suite: NVML's C ABI (types and values as in NVIDIA's
 * nvml.h), answering from a scenario file named by FAKE_NVML_CONFIG. Built twice: the current
 * ABI, and with -DFAKE_NVML_LEGACY an old driver's library that lacks the _v2/_v3 entry points,
 * compute capability and MIG.
 *
 * Scenario lines (one fact each; '#' starts a comment):
 *   init <nvmlReturn>            result of nvmlInit (default 0)
 *   init_delay_ms <ms>           sleep inside nvmlInit
 *   count_error <nvmlReturn>     result of nvmlDeviceGetCount
 *   driver <version>             nvmlSystemGetDriverVersion
 *   cuda <int>                   nvmlSystemGetCudaDriverVersion (12040 = 12.4)
 *   gpu key=value ...            a physical GPU: name uuid memory cc bus mig handle_error
 *   mig key=value ...            a MIG device of the last gpu: name uuid memory
 * Every call is appended to FAKE_NVML_LOG when set, so tests can see which entry points ran.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_GPUS 16
#define MAX_MIGS 8

typedef int nvmlReturn_t;
typedef struct FakeDevice *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

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
};

static struct FakeDevice gpus[MAX_GPUS];
static struct FakeDevice migs[MAX_GPUS * MAX_MIGS];
static int gpu_count, mig_total;
static int init_result, init_delay_ms, count_error, cuda_version;
static char driver_version[80];

static void log_call(const char *name) {
  const char *path = getenv("FAKE_NVML_LOG");
  if (!path) return;
  FILE *log = fopen(path, "a");
  if (!log) return;
  fprintf(log, "%d %s\n", (int)getpid(), name);
  fclose(log);
}

/* Reads the next token: a bare word or key="quoted value". */
static char *next_token(char **cursor) {
  char *p = *cursor;
  while (*p == ' ' || *p == '\t') p++;
  if (!*p || *p == '\n' || *p == '#') return NULL;
  char *start = p, *out = p;
  int quoted = 0;
  while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
    if (*p == '"') { quoted = !quoted; p++; continue; }
    *out++ = *p++;
  }
  if (*p) p++;
  *out = '\0';
  *cursor = p;
  return start;
}

static void apply_field(struct FakeDevice *d, const char *key, const char *value) {
  if (!strcmp(key, "name")) snprintf(d->name, sizeof d->name, "%s", value);
  else if (!strcmp(key, "uuid")) snprintf(d->uuid, sizeof d->uuid, "%s", value);
  else if (!strcmp(key, "bus")) snprintf(d->bus, sizeof d->bus, "%s", value);
  else if (!strcmp(key, "memory")) d->memory = strtoull(value, NULL, 10);
  else if (!strcmp(key, "cc")) sscanf(value, "%d.%d", &d->cc_major, &d->cc_minor);
  else if (!strcmp(key, "mig")) d->mig = !strcmp(value, "unsupported") ? -1 : atoi(value);
  else if (!strcmp(key, "handle_error")) d->handle_error = atoi(value);
}

static void load_scenario(void) {
  memset(gpus, 0, sizeof gpus);
  memset(migs, 0, sizeof migs);
  gpu_count = mig_total = init_result = init_delay_ms = count_error = cuda_version = 0;
  driver_version[0] = '\0';
  const char *path = getenv("FAKE_NVML_CONFIG");
  FILE *file = path ? fopen(path, "r") : NULL;
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
    else if (!strcmp(word, "driver")) snprintf(driver_version, sizeof driver_version, "%s", next_token(&cursor));
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
      char *token;
      while ((token = next_token(&cursor))) {
        char *eq = strchr(token, '=');
        if (!eq) continue;
        *eq = '\0';
        apply_field(d, token, eq + 1);
      }
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

static nvmlReturn_t do_memory(nvmlDevice_t d, unsigned long long *total) {
  if (!d) return 2;
  *total = d->memory;
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
  return do_memory(d, &memory->total);
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
  return do_memory(d, &memory->total);
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
#endif
