/* A stand-in librocm_smi64.so.1 for the test suite, compiled against the installed rocm_smi.h
 * (Debian's librocm-smi-dev) so that every function it exports has the header's own prototype,
 * answering from a scenario file named by FAKE_RSMI_CONFIG. Built twice: the current library, and
 * with -DFAKE_RSMI_OLD one that lacks the entry points ROCm added after 5.2 (and that Debian's
 * 5.2.3 lacks too): rsmi_dev_compute_partition_get and rsmi_compute_process_info_by_device_get
 * (ROCm 5.7), rsmi_dev_current_socket_power_get (ROCm 6.0). Those three are declared here with
 * the prototypes of ROCm's own rocm_smi.h.
 *
 * Scenario lines (one fact each; '#' starts a comment):
 *   init <rsmi_status_t>        result of rsmi_init (default 0)
 *   init_delay_ms <ms>          sleep inside rsmi_init
 *   init_noise 1                inside rsmi_init, write what Debian's library writes on a host without
 *                               the amdgpu driver ("Failed to open drm root directory ..." and
 *                               "Exception caught: rsmi_init." on stderr, again after the delay), plus
 *                               an unterminated line into stdio's stdout buffer
 *   version MAJOR.MINOR.PATCH   rsmi_version_get (default 5.2.0); 7 and above fill rsmi_frequencies_t
 *                               in ROCm 6's layout (has_deep_sleep first, 33 frequencies)
 *   driver <version>            rsmi_version_str_get(RSMI_SW_COMP_DRIVER)
 *   gpu key=value ...           a GPU, in ROCm SMI's order: name unique_id (hex) bdf (hex) vram (bytes)
 *                               serial vbios partition, and the sampler keys below
 * Sampler keys on a gpu line; absent, the getter answers RSMI_STATUS_NOT_SUPPORTED:
 *   busy=PCT mem_busy=PCT       rsmi_dev_busy_percent_get, rsmi_dev_memory_busy_percent_get
 *   vram_used=BYTES             rsmi_dev_memory_usage_get(RSMI_MEM_TYPE_VRAM)
 *   power=WATTS                 rsmi_dev_power_ave_get, answered in microwatts
 *   socket_power=WATTS          rsmi_dev_current_socket_power_get (MI300 has no average)
 *   power_cap=WATTS             rsmi_dev_power_cap_get
 *   temp_edge=C temp_junction=C rsmi_dev_temp_metric_get(RSMI_TEMP_CURRENT), in millidegrees
 *   sclk=MHZ,MHZ,...@INDEX      rsmi_dev_gpu_clk_freq_get(RSMI_CLK_TYPE_SYS): the table and the
 *   mclk=MHZ,...@INDEX          current level (a number or a ramp); RSMI_CLK_TYPE_MEM likewise
 *   lost_after_ms=N             N ms (monotonic) after the first successful rsmi_init of this process,
 *                               every reading of this GPU answers RSMI_STATUS_NOT_SUPPORTED, as the
 *                               real library does when the device's sysfs files are gone (ENOENT)
 * Any number above may be a ramp A..B: the k-th answered call of that getter on that GPU gives
 * A + (B - A) * min(k, 10) / 10 (fake_scenario.h).
 *
 * Processes: FAKE_RSMI_PROCESSES names a file re-read on every call, one line per process and GPU:
 * PID GPU_INDEX VRAM_BYTES. rsmi_compute_process_info_get lists each PID once (pasid = PID + 1000),
 * rsmi_compute_process_gpus_get its GPUs, rsmi_compute_process_info_by_pid_get its VRAM over all of
 * them, rsmi_compute_process_info_by_device_get on one (0 where it has none, as the real one).
 *
 * Every call is appended to FAKE_RSMI_LOG when set.
 */
#include <rocm_smi/rocm_smi.h>

#include "fake_scenario.h"

#define MAX_GPUS 16
#define MAX_LEVELS 33
#define MAX_LINES 512

/* ROCm 6.0's rsmi_frequencies_t (library version 7): the same function fills this instead. */
typedef struct {
  bool has_deep_sleep;
  uint32_t num_supported;
  uint32_t current;
  uint64_t frequency[33];
} rsmi_frequencies_v7_t;

enum { CALLS_BUSY, CALLS_MEM_BUSY, CALLS_VRAM, CALLS_POWER, CALLS_SOCKET, CALLS_CAP, CALLS_EDGE, CALLS_JUNCTION,
       CALLS_SCLK, CALLS_MCLK, CALLS_COUNT };

struct Clock {
  int levels;
  double mhz[MAX_LEVELS];
  struct Ramp current;
};

struct FakeGpu {
  char name[128], serial[64], vbios[64], partition[16];
  uint64_t unique_id, bdf, vram;
  struct Ramp busy, mem_busy, vram_used, power, socket_power, power_cap, temp_edge, temp_junction;
  struct Clock sclk, mclk;
  struct Loss loss;
  unsigned long long calls[CALLS_COUNT];
};

static struct FakeGpu gpus[MAX_GPUS];
static int gpu_count, init_result, init_delay_ms, init_noise;
static uint32_t version_major = 5, version_minor = 2, version_patch = 0;
static char driver_version[80];

static void log_call(const char *name) { log_call_to("FAKE_RSMI_LOG", name); }

/* "500,1200,2100@2" or "500,1200,2100@0..2" */
static void parse_clock(const char *text, struct Clock *clock) {
  char copy[512];
  if (strlen(text) >= sizeof copy) return;
  memcpy(copy, text, strlen(text) + 1);
  char *at = strchr(copy, '@');
  if (!at) return;
  *at = '\0';
  struct Clock parsed = {0};
  for (char *level = strtok(copy, ","); level && parsed.levels < MAX_LEVELS; level = strtok(NULL, ",")) {
    if (!parse_number(level, &parsed.mhz[parsed.levels])) return;
    parsed.levels++;
  }
  parse_ramp(at + 1, &parsed.current);
  if (parsed.levels && parsed.current.present) *clock = parsed;
}

static void apply_field(void *gpu, const char *key, const char *value) {
  struct FakeGpu *g = gpu;
  if (!strcmp(key, "name")) snprintf(g->name, sizeof g->name, "%s", value);
  else if (!strcmp(key, "serial")) snprintf(g->serial, sizeof g->serial, "%s", value);
  else if (!strcmp(key, "vbios")) snprintf(g->vbios, sizeof g->vbios, "%s", value);
  else if (!strcmp(key, "partition")) snprintf(g->partition, sizeof g->partition, "%s", value);
  else if (!strcmp(key, "unique_id")) g->unique_id = strtoull(value, NULL, 16);
  else if (!strcmp(key, "bdf")) g->bdf = strtoull(value, NULL, 16);
  else if (!strcmp(key, "vram")) g->vram = strtoull(value, NULL, 10);
  else if (!strcmp(key, "busy")) parse_ramp(value, &g->busy);
  else if (!strcmp(key, "mem_busy")) parse_ramp(value, &g->mem_busy);
  else if (!strcmp(key, "vram_used")) parse_ramp(value, &g->vram_used);
  else if (!strcmp(key, "power")) parse_ramp(value, &g->power);
  else if (!strcmp(key, "socket_power")) parse_ramp(value, &g->socket_power);
  else if (!strcmp(key, "power_cap")) parse_ramp(value, &g->power_cap);
  else if (!strcmp(key, "temp_edge")) parse_ramp(value, &g->temp_edge);
  else if (!strcmp(key, "temp_junction")) parse_ramp(value, &g->temp_junction);
  else if (!strcmp(key, "sclk")) parse_clock(value, &g->sclk);
  else if (!strcmp(key, "mclk")) parse_clock(value, &g->mclk);
  else if (!strcmp(key, "lost_after_ms")) parse_loss(value, &g->loss);
}

static void load_scenario(void) {
  memset(gpus, 0, sizeof gpus);
  gpu_count = init_result = init_delay_ms = init_noise = 0;
  version_major = 5, version_minor = 2, version_patch = 0;
  driver_version[0] = '\0';
  FILE *file = open_named_file("FAKE_RSMI_CONFIG");
  if (!file) return;
  char line[1024];
  while (fgets(line, sizeof line, file)) {
    char *cursor = line;
    char *word = next_token(&cursor);
    char *value = word ? next_token(&cursor) : NULL;
    if (!word) continue;
    if (!strcmp(word, "init") && value) init_result = atoi(value);
    else if (!strcmp(word, "init_delay_ms") && value) init_delay_ms = atoi(value);
    else if (!strcmp(word, "init_noise") && value) init_noise = atoi(value);
    else if (!strcmp(word, "version") && value) sscanf(value, "%u.%u.%u", &version_major, &version_minor, &version_patch);
    else if (!strcmp(word, "driver") && value) snprintf(driver_version, sizeof driver_version, "%.79s", value);
    else if (!strcmp(word, "gpu") && gpu_count < MAX_GPUS) {
      struct FakeGpu *g = &gpus[gpu_count++];
      if (value) {
        char *eq = strchr(value, '=');
        if (eq) {
          *eq = '\0';
          apply_field(g, value, eq + 1);
        }
      }
      read_fields(cursor, g, apply_field);
    }
  }
  fclose(file);
}

static void noise(void) {
  fprintf(stderr, "Failed to open drm root directory /sys/class/drm.: No such file or directory\n");
  fprintf(stderr, "Exception caught: rsmi_init.\n");
}

/* Arguments first, then a GPU gone, then support: the real library's order of checks. */
static struct FakeGpu *gpu_at(uint32_t index) { return index < (uint32_t)gpu_count ? &gpus[index] : NULL; }

static int is_lost(const struct FakeGpu *g) { return loss_has_come(&g->loss); }

static rsmi_status_t read_ramp(uint32_t index, const void *out, size_t offset, int getter, double *value) {
  struct FakeGpu *g = gpu_at(index);
  if (!g || !out) return RSMI_STATUS_INVALID_ARGS;
  if (is_lost(g)) return RSMI_STATUS_NOT_SUPPORTED;
  const struct Ramp *ramp = (const struct Ramp *)((const char *)g + offset);
  if (!ramp->present) return RSMI_STATUS_NOT_SUPPORTED;
  *value = ramp_at(ramp, __atomic_fetch_add(&g->calls[getter], 1, __ATOMIC_RELAXED));
  return RSMI_STATUS_SUCCESS;
}

static rsmi_status_t read_u64(uint32_t index, uint64_t *out, size_t offset, int getter, double scale) {
  double value;
  rsmi_status_t result = read_ramp(index, out, offset, getter, &value);
  if (result == RSMI_STATUS_SUCCESS) *out = to_ull(value * scale);
  return result;
}

static rsmi_status_t copy_string(const char *value, char *out, size_t length) {
  if (!out || length == 0) return RSMI_STATUS_INVALID_ARGS;
  if (!*value) return RSMI_STATUS_NOT_SUPPORTED;
  snprintf(out, length, "%s", value);
  return strlen(value) + 1 > length ? RSMI_STATUS_INSUFFICIENT_SIZE : RSMI_STATUS_SUCCESS;
}

static rsmi_status_t device_string(uint32_t index, const char *field, char *out, size_t length) {
  struct FakeGpu *g = gpu_at(index);
  if (!g) return RSMI_STATUS_INVALID_ARGS;
  if (is_lost(g)) return RSMI_STATUS_NOT_SUPPORTED;
  return copy_string(field, out, length);
}

EXPORT rsmi_status_t rsmi_init(uint64_t init_flags) {
  (void)init_flags;
  log_call("rsmi_init");
  load_scenario();
  if (init_noise) {
    noise();
    printf("rsmi: stand-in output on stdout, not ended");  /* stays in stdio's buffer */
  }
  if (init_delay_ms > 0) usleep((useconds_t)init_delay_ms * 1000);
  if (init_noise) noise();
  if (init_result == 0) note_successful_init();
  return (rsmi_status_t)init_result;
}

EXPORT rsmi_status_t rsmi_shut_down(void) {
  log_call("rsmi_shut_down");
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_num_monitor_devices(uint32_t *num_devices) {
  log_call("rsmi_num_monitor_devices");
  if (!num_devices) return RSMI_STATUS_INVALID_ARGS;
  *num_devices = init_result == 0 ? (uint32_t)gpu_count : 0;
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_version_get(rsmi_version_t *version) {
  log_call("rsmi_version_get");
  if (!version) return RSMI_STATUS_INVALID_ARGS;
  version->major = version_major;
  version->minor = version_minor;
  version->patch = version_patch;
  version->build = "stand-in";
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_version_str_get(rsmi_sw_component_t component, char *ver_str, uint32_t len) {
  log_call("rsmi_version_str_get");
  if (component != RSMI_SW_COMP_DRIVER) return RSMI_STATUS_INVALID_ARGS;
  return copy_string(driver_version, ver_str, len);
}

EXPORT rsmi_status_t rsmi_dev_name_get(uint32_t dv_ind, char *name, size_t len) {
  log_call("rsmi_dev_name_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  return g ? device_string(dv_ind, g->name, name, len) : RSMI_STATUS_INVALID_ARGS;
}

EXPORT rsmi_status_t rsmi_dev_serial_number_get(uint32_t dv_ind, char *serial_num, uint32_t len) {
  log_call("rsmi_dev_serial_number_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  return g ? device_string(dv_ind, g->serial, serial_num, len) : RSMI_STATUS_INVALID_ARGS;
}

EXPORT rsmi_status_t rsmi_dev_vbios_version_get(uint32_t dv_ind, char *vbios, uint32_t len) {
  log_call("rsmi_dev_vbios_version_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  return g ? device_string(dv_ind, g->vbios, vbios, len) : RSMI_STATUS_INVALID_ARGS;
}

EXPORT rsmi_status_t rsmi_dev_unique_id_get(uint32_t dv_ind, uint64_t *id) {
  log_call("rsmi_dev_unique_id_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  if (!g || !id) return RSMI_STATUS_INVALID_ARGS;
  if (!g->unique_id) return RSMI_STATUS_NOT_SUPPORTED;
  *id = g->unique_id;
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_dev_pci_id_get(uint32_t dv_ind, uint64_t *bdfid) {
  log_call("rsmi_dev_pci_id_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  if (!g || !bdfid) return RSMI_STATUS_INVALID_ARGS;
  *bdfid = g->bdf;
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_dev_memory_total_get(uint32_t dv_ind, rsmi_memory_type_t mem_type, uint64_t *total) {
  log_call("rsmi_dev_memory_total_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  if (!g || !total) return RSMI_STATUS_INVALID_ARGS;
  if (is_lost(g)) return RSMI_STATUS_NOT_SUPPORTED;
  if (mem_type != RSMI_MEM_TYPE_VRAM || !g->vram) return RSMI_STATUS_NOT_SUPPORTED;
  *total = g->vram;
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_dev_memory_usage_get(uint32_t dv_ind, rsmi_memory_type_t mem_type, uint64_t *used) {
  log_call("rsmi_dev_memory_usage_get");
  if (mem_type != RSMI_MEM_TYPE_VRAM) return RSMI_STATUS_NOT_SUPPORTED;
  return read_u64(dv_ind, used, offsetof(struct FakeGpu, vram_used), CALLS_VRAM, 1.0);
}

static rsmi_status_t read_percent(uint32_t index, uint32_t *out, size_t offset, int getter) {
  double value;
  rsmi_status_t result = read_ramp(index, out, offset, getter, &value);
  if (result == RSMI_STATUS_SUCCESS) *out = to_uint(value);
  return result;
}

EXPORT rsmi_status_t rsmi_dev_busy_percent_get(uint32_t dv_ind, uint32_t *busy_percent) {
  log_call("rsmi_dev_busy_percent_get");
  return read_percent(dv_ind, busy_percent, offsetof(struct FakeGpu, busy), CALLS_BUSY);
}

EXPORT rsmi_status_t rsmi_dev_memory_busy_percent_get(uint32_t dv_ind, uint32_t *busy_percent) {
  log_call("rsmi_dev_memory_busy_percent_get");
  return read_percent(dv_ind, busy_percent, offsetof(struct FakeGpu, mem_busy), CALLS_MEM_BUSY);
}

EXPORT rsmi_status_t rsmi_dev_power_ave_get(uint32_t dv_ind, uint32_t sensor_ind, uint64_t *power) {
  log_call("rsmi_dev_power_ave_get");
  if (sensor_ind != 0) return RSMI_STATUS_INVALID_ARGS;
  return read_u64(dv_ind, power, offsetof(struct FakeGpu, power), CALLS_POWER, 1e6);
}

EXPORT rsmi_status_t rsmi_dev_power_cap_get(uint32_t dv_ind, uint32_t sensor_ind, uint64_t *cap) {
  log_call("rsmi_dev_power_cap_get");
  if (sensor_ind != 0) return RSMI_STATUS_INVALID_ARGS;
  return read_u64(dv_ind, cap, offsetof(struct FakeGpu, power_cap), CALLS_CAP, 1e6);
}

EXPORT rsmi_status_t rsmi_dev_temp_metric_get(uint32_t dv_ind, uint32_t sensor_type, rsmi_temperature_metric_t metric,
                                              int64_t *temperature) {
  log_call("rsmi_dev_temp_metric_get");
  if (metric != RSMI_TEMP_CURRENT) return RSMI_STATUS_NOT_SUPPORTED;
  uint64_t millidegrees;
  rsmi_status_t result;
  if (sensor_type == RSMI_TEMP_TYPE_EDGE) {
    result = read_u64(dv_ind, &millidegrees, offsetof(struct FakeGpu, temp_edge), CALLS_EDGE, 1000.0);
  } else if (sensor_type == RSMI_TEMP_TYPE_JUNCTION) {
    result = read_u64(dv_ind, &millidegrees, offsetof(struct FakeGpu, temp_junction), CALLS_JUNCTION, 1000.0);
  } else {
    return RSMI_STATUS_NOT_SUPPORTED;
  }
  if (result == RSMI_STATUS_SUCCESS && temperature) *temperature = (int64_t)millidegrees;
  return temperature ? result : RSMI_STATUS_INVALID_ARGS;
}

EXPORT rsmi_status_t rsmi_dev_gpu_clk_freq_get(uint32_t dv_ind, rsmi_clk_type_t clk_type, rsmi_frequencies_t *f) {
  log_call("rsmi_dev_gpu_clk_freq_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  if (!g || !f) return RSMI_STATUS_INVALID_ARGS;
  if (is_lost(g)) return RSMI_STATUS_NOT_SUPPORTED;
  struct Clock *clock = clk_type == RSMI_CLK_TYPE_SYS ? &g->sclk : clk_type == RSMI_CLK_TYPE_MEM ? &g->mclk : NULL;
  if (!clock || !clock->levels) return RSMI_STATUS_NOT_SUPPORTED;
  int getter = clk_type == RSMI_CLK_TYPE_SYS ? CALLS_SCLK : CALLS_MCLK;
  uint32_t current = to_uint(ramp_at(&clock->current, __atomic_fetch_add(&g->calls[getter], 1, __ATOMIC_RELAXED)));
  if (version_major >= 7) {
    rsmi_frequencies_v7_t *table = (rsmi_frequencies_v7_t *)f;
    memset(table, 0xAB, sizeof *table); /* padding and unused levels hold garbage, as on the stack */
    table->has_deep_sleep = 0;
    table->num_supported = (uint32_t)clock->levels;
    table->current = current;
    for (int i = 0; i < clock->levels; i++) table->frequency[i] = to_ull(clock->mhz[i] * 1e6);
  } else {
    if (clock->levels > RSMI_MAX_NUM_FREQUENCIES) return RSMI_STATUS_UNEXPECTED_SIZE;
    memset(f, 0xAB, sizeof *f);
    f->num_supported = (uint32_t)clock->levels;
    f->current = current;
    for (int i = 0; i < clock->levels; i++) f->frequency[i] = to_ull(clock->mhz[i] * 1e6);
  }
  return RSMI_STATUS_SUCCESS;
}

/* The process lines of FAKE_RSMI_PROCESSES: PID GPU_INDEX VRAM_BYTES; malformed lines are skipped. */
struct ProcessLine {
  uint32_t pid, gpu;
  uint64_t vram;
};

static int load_processes(struct ProcessLine *out) {
  FILE *file = open_named_file("FAKE_RSMI_PROCESSES");
  if (!file) return 0;
  int count = 0;
  char line[256];
  while (count < MAX_LINES && fgets(line, sizeof line, file)) {
    char *cursor = line;
    char *pid = next_token(&cursor), *gpu = pid ? next_token(&cursor) : NULL, *vram = gpu ? next_token(&cursor) : NULL;
    unsigned long long pid_value, gpu_value, vram_value;
    if (!vram || !parse_whole(pid, 0xFFFFFFFFu, &pid_value) || !parse_whole(gpu, MAX_GPUS - 1, &gpu_value) ||
        !parse_whole(vram, ~0ULL, &vram_value)) {
      continue;
    }
    out[count].pid = (uint32_t)pid_value;
    out[count].gpu = (uint32_t)gpu_value;
    out[count].vram = vram_value;
    count++;
  }
  fclose(file);
  return count;
}

/* The GPUs still answering: a lost GPU's processes vanish with it. */
static int gpu_answers(uint32_t index) { return index < (uint32_t)gpu_count && !is_lost(&gpus[index]); }

EXPORT rsmi_status_t rsmi_compute_process_info_get(rsmi_process_info_t *procs, uint32_t *num_items) {
  log_call("rsmi_compute_process_info_get");
  if (!num_items) return RSMI_STATUS_INVALID_ARGS;
  struct ProcessLine lines[MAX_LINES];
  int count = load_processes(lines);
  uint32_t found = 0;
  for (int i = 0; i < count; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= lines[j].pid == lines[i].pid;
    if (seen) continue;
    if (procs && found < *num_items) {
      memset(&procs[found], 0, sizeof procs[found]);
      procs[found].process_id = lines[i].pid;
      procs[found].pasid = lines[i].pid + 1000;
    }
    found++;
  }
  /* As the real one: fills what fits, says INSUFFICIENT_SIZE when more were found. */
  if (procs && *num_items < found) return RSMI_STATUS_INSUFFICIENT_SIZE;
  if (!procs || *num_items > found) *num_items = found;
  return RSMI_STATUS_SUCCESS;
}

EXPORT rsmi_status_t rsmi_compute_process_gpus_get(uint32_t pid, uint32_t *dv_indices, uint32_t *num_devices) {
  log_call("rsmi_compute_process_gpus_get");
  if (!num_devices) return RSMI_STATUS_INVALID_ARGS;
  struct ProcessLine lines[MAX_LINES];
  int count = load_processes(lines);
  uint32_t found = 0, known = 0;
  for (int i = 0; i < count; i++) {
    if (lines[i].pid != pid) continue;
    known = 1;
    if (!gpu_answers(lines[i].gpu)) continue;
    if (dv_indices && found < *num_devices) dv_indices[found] = lines[i].gpu;
    found++;
  }
  if (!known) return RSMI_STATUS_NOT_FOUND;
  if (dv_indices && *num_devices < found) return RSMI_STATUS_INSUFFICIENT_SIZE;
  *num_devices = found;
  return RSMI_STATUS_SUCCESS;
}

static rsmi_status_t process_vram(uint32_t pid, int gpu, rsmi_process_info_t *proc) {
  if (!proc) return RSMI_STATUS_INVALID_ARGS;
  struct ProcessLine lines[MAX_LINES];
  int count = load_processes(lines), known = 0;
  memset(proc, 0, sizeof *proc);
  for (int i = 0; i < count; i++) {
    if (lines[i].pid != pid) continue;
    known = 1;
    proc->process_id = pid;
    proc->pasid = pid + 1000;
    if ((gpu < 0 || lines[i].gpu == (uint32_t)gpu) && gpu_answers(lines[i].gpu)) proc->vram_usage += lines[i].vram;
  }
  return known ? RSMI_STATUS_SUCCESS : RSMI_STATUS_NOT_FOUND;
}

EXPORT rsmi_status_t rsmi_compute_process_info_by_pid_get(uint32_t pid, rsmi_process_info_t *proc) {
  log_call("rsmi_compute_process_info_by_pid_get");
  return process_vram(pid, -1, proc);
}

#ifndef FAKE_RSMI_OLD
/* ROCm 5.7 and newer. */
rsmi_status_t rsmi_dev_compute_partition_get(uint32_t dv_ind, char *compute_partition, uint32_t len);
rsmi_status_t rsmi_compute_process_info_by_device_get(uint32_t pid, uint32_t dv_ind, rsmi_process_info_t *proc);
/* ROCm 6.0 and newer. */
rsmi_status_t rsmi_dev_current_socket_power_get(uint32_t dv_ind, uint64_t *socket_power);

EXPORT rsmi_status_t rsmi_dev_compute_partition_get(uint32_t dv_ind, char *compute_partition, uint32_t len) {
  log_call("rsmi_dev_compute_partition_get");
  struct FakeGpu *g = gpu_at(dv_ind);
  return g ? device_string(dv_ind, g->partition, compute_partition, len) : RSMI_STATUS_INVALID_ARGS;
}

EXPORT rsmi_status_t rsmi_compute_process_info_by_device_get(uint32_t pid, uint32_t dv_ind, rsmi_process_info_t *proc) {
  log_call("rsmi_compute_process_info_by_device_get");
  if (dv_ind >= (uint32_t)gpu_count) return RSMI_STATUS_INVALID_ARGS;
  return process_vram(pid, (int)dv_ind, proc);
}

EXPORT rsmi_status_t rsmi_dev_current_socket_power_get(uint32_t dv_ind, uint64_t *socket_power) {
  log_call("rsmi_dev_current_socket_power_get");
  return read_u64(dv_ind, socket_power, offsetof(struct FakeGpu, socket_power), CALLS_SOCKET, 1e6);
}
#endif
