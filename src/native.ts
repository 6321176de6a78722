/**
 * The typed raw interface to the C++ addon, and its loader. Everything here mirrors the binding
 * one to one; the ergonomic API (hardware.ts, checkpoint.ts) builds on it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

import { elfProblem } from "./elf-check.js";
import { ConfigTrackerError, type ErrorCode } from "./errors.js";

export interface RawGpu {
  /** "nvidia" or "amd". */
  vendor: string;
  /** Physical index as the vendor's tool numbers it (nvidia-smi, rocm-smi / amd-smi). */
  nvml_index: number;
  mig_slot: number | null;
  name: string | null;
  uuid: string | null;
  memory_total_bytes: number | null;
  compute_capability_major: number | null;
  compute_capability_minor: number | null;
  pci_bus_id: string | null;
  serial: string | null;
  vbios_version: string | null;
  mig_mode: boolean | null;
  parent_uuid: string | null;
  error: string | null;
  mig_devices: RawGpu[];
}

/** A GPU the watched process may use; `cuda_index` is its runtime's ordinal there (CUDA's, or HIP's). */
export type RawVisibleGpu = RawGpu & { cuda_index: number };

/** One vendor's answer (native/gpu/device.h VendorReport). */
export interface RawVendorReport {
  vendor: string;
  library_path: string;
  library_loaded: boolean;
  init_result: number | null;
  unavailable_code: string | null;
  unavailable_reason: string | null;
  driver_version: string | null;
  /** The compute runtime the driver offers: CUDA ("13.0", 13000) or HIP ("6.2.60200", null). */
  runtime: { name: string; version: string; number: number | null } | null;
  host_gpu_count: number;
  host_gpus: RawGpu[];
  visible_gpus: RawVisibleGpu[];
}

export interface RawGpuReport {
  /** Null when some vendor's GPU is usable. */
  unavailable_code: string | null;
  unavailable_reason: string | null;
  vendors: RawVendorReport[];
}

/** What every GPU call of the addon reads. */
export interface RawGpuOptions {
  /** This process's CONFIG_TRACKER_* variables and ROCM_PATH (library overrides). */
  settings?: Record<string, string>;
  /** The watched process's environment (its visibility variables). */
  environment?: Record<string, string>;
  timeoutMs?: number;
}

export type ProbeGpusOptions = RawGpuOptions;

/** ModelInfo as the addon returns it (snake_case, like the JSON). */
export interface RawModelInfo {
  type: string;
  format: string;
  num_parameters: number;
  num_trainable_parameters: number;
  num_buffer_elements: number;
  num_tensors: number;
  parameter_bytes: number;
  dtypes: Record<string, number>;
  exact: boolean;
  /** Why the counts are (or are not) exact: recorded roles, the optimizer's state, or names. */
  exact_reason: string;
  /**
   * Classes outside torch's weights_only allow list that the file instantiates (a whole pickled
   * module): `torch.load(path, weights_only=True)` refuses it unless they are allowed. Empty: it loads.
   */
  classes_needed: string[];
  state_dict_key: string | null;
  d_model: number | null;
  num_layers: number | null;
  num_heads: number | null;
  vocab_size: number | null;
  max_seq_len: number | null;
  architecture_source: string | null;
  source: string;
  files: string[];
  /** Bytes the readers fetched from disk: the proof that tensor data was not read. */
  bytes_read: number;
  /** Work units of the inspection's budget spent (native/common/work_budget.h): for benchmarks. */
  work_units: number;
}

/** metrics.jsonl lines of the flat shape, as numbers (see native/metrics/metric_lines.h). */
export interface RawMetricLines {
  /** Distinct key lists. */
  shapes: string[][];
  /** Per line: an index into shapes, or 0xffffffff for a blank line. */
  shapeOfLine: Uint32Array;
  /** Every non-blank line's values, one after the other, in key order. */
  values: Float64Array;
}

/** metrics.jsonl lines of the flat shape by metric (see native/metrics/metric_lines.h). */
export interface RawMetricColumns {
  /** The metrics (every key but step and time), in the order they first appear. */
  keys: string[];
  /** Points per metric. */
  counts: Uint32Array;
  /** Per metric, one after the other: its steps, its times (NaN: the line had none), its values. */
  data: Float64Array;
  /** Doubles of `data` used (data may be the longer array the caller gave). */
  length: number;
}

/** One GPU in one sample (native/gpu/device.h); null where the device or driver cannot say. */
export interface RawDeviceSample {
  vendor: string | null;
  index: number;
  uuid: string | null;
  name: string | null;
  lost: boolean;
  error: string | null;
  utilization_gpu_percent: number | null;
  utilization_memory_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  power_watts: number | null;
  power_limit_watts: number | null;
  temperature_c: number | null;
  /** AMD: "edge", or "junction" on GPUs without an edge sensor (MI300); null for NVIDIA's one sensor. */
  temperature_sensor: string | null;
  /** NVIDIA's SM clock, AMD's SCLK. */
  sm_clock_mhz: number | null;
  /** AMD's MCLK. */
  memory_clock_mhz: number | null;
  clock_event_reasons: number | null;
  clock_event_reason_names: string[];
  tree_memory_bytes: number | null;
  tree_memory_note: string | null;
  processes: Array<{ pid: number; used_bytes: number | null; in_tree: boolean }>;
  sm_active_percent: number | null;
  sm_occupancy_percent: number | null;
  tensor_active_percent: number | null;
  dram_bandwidth_percent: number | null;
  activity_unavailable_reason: string | null;
}

export interface RawSystemSample {
  time: number;
  gpus: RawDeviceSample[];
  process_tree: { pids: number[]; cpu_percent: number | null; rss_bytes: number | null; note: string | null };
  host: { memory_total_bytes: number | null; memory_available_bytes: number | null };
}

export interface RawSamplerStatus {
  opened: boolean;
  backend: string | null;
  gpu_unavailable_reason: string | null;
  samples: number;
  dropped: number;
}

export interface RawSamplerOptions extends RawGpuOptions {
  intervalMs?: number;
  pids?: number[];
  maxQueued?: number;
}

export interface RawSampler {
  read(): RawSystemSample[];
  setPids(pids: number[]): void;
  status(): RawSamplerStatus;
  /** Stops the sampling thread (off the JS thread) and resolves to the samples left. */
  stop(): Promise<RawSystemSample[]>;
}

export interface NativeAddon {
  abiVersion: number;
  /**
   * Hands the addon the class its errors are made of (once, at load): inspectCheckpoint then
   * rejects with `new ErrorClass(code, message, { path })`, the message one line.
   */
  setErrorConstructor(errorClass: new (code: ErrorCode, message: string, details: { path: string }) => Error): void;
  /** The codes the addon's errors carry (native/common/checkpoint_error.h's table). */
  errorCodes: string[];
  probeGpus(options: ProbeGpusOptions): Promise<RawGpuReport>;
  /**
   * Rejects with a ConfigTrackerError (setErrorConstructor) whose code is in errorCodes. onCancel,
   * when given, is called at once with a function that cancels the inspection.
   */
  inspectCheckpoint(path: string, onCancel?: (cancel: () => void) => void): Promise<RawModelInfo>;
  /** Synchronous: one ~1 MiB chunk at a time. null: not all lines are flat; use JSON.parse. */
  parseMetricLines(bytes: Uint8Array): RawMetricLines | null;
  /** Synchronous, as parseMetricLines; the values land in `into` when it is large enough. null: not all lines are flat. */
  metricColumns(bytes: Uint8Array, into?: Float64Array): RawMetricColumns | null;
  /**
   * lstat of each folder and of its entries (folder i's are names[entries[k]] for k in
   * [first[i], first[i + 1])), on the thread pool: 6 numbers each (size, mtime s, mtime ns,
   * ctime s, ctime ns, ino), NaN where it fails.
   */
  lstatFolderEntries(folders: string[], names: string[], first: Uint32Array, entries: Uint32Array): Promise<Float64Array>;
  Sampler: new (options: RawSamplerOptions) => RawSampler;
}

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

/** node-gyp-build's resolver (CommonJS, untyped): a local build, else the prebuilt binary that fits. */
interface NodeGypBuild {
  path(dir: string): string;
}

/**
 * Where the addon is looked for, in order: CONFIG_TRACKER_ADDON alone when set; else the file
 * node-gyp-build picks (build/Release from a source build, else prebuilds/<platform>-<arch>/ for
 * this platform and libc), then the cmake-js build (npm run build:cmake). A string in `missing`
 * says why node-gyp-build found no file.
 */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): { paths: string[]; missing: string | null } {
  if (env.CONFIG_TRACKER_ADDON) return { paths: [env.CONFIG_TRACKER_ADDON], missing: null };
  const cmakeBuild = join(packageRoot, "build-cmake", "Release", "config_tracker.node");
  try {
    return { paths: [(require("node-gyp-build") as NodeGypBuild).path(packageRoot), cmakeBuild], missing: null };
  } catch (error) {
    // "No native build was found for platform=... arch=... libc=..."
    return { paths: [cmakeBuild], missing: (error as Error).message.split("\n")[0] ?? String(error) };
  }
}

/** The cause of a dlopen failure in words, where the loader's own message is cryptic. */
function diagnose(message: string): string | null {
  const glibc = /version `(GLIBC_[0-9.]+)' not found/.exec(message);
  if (glibc === null) return null;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const have = header?.glibcVersionRuntime;
  return `it needs ${glibc[1]}, newer than this system's glibc${have ? ` ${have}` : ""}`;
}

let cached: NativeAddon | undefined;

/**
 * The addon when it loads and has `feature` (a build from before the feature may not), else null:
 * for the callers whose plain TypeScript path gives the same answer without it.
 */
export function addonWith(feature: keyof NativeAddon): NativeAddon | null {
  try {
    const addon = loadAddon();
    return typeof addon[feature] === "function" ? addon : null;
  } catch {
    return null;
  }
}

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const tried: string[] = [];
  let lastError: unknown;
  const { paths, missing } = addonCandidates();
  if (missing) tried.push(`prebuilds/ and build/ (${missing})`);
  for (const candidate of paths) {
    if (!existsSync(candidate)) {
      tried.push(`${candidate} (not found)`);
      continue;
    }
    // A file cut short would kill the process in dlopen (SIGBUS): look at its header first.
    const problem = process.platform === "linux" ? elfProblem(candidate) : null;
    if (problem) {
      tried.push(`${candidate} (${problem})`);
      continue;
    }
    try {
      const addon = require(candidate) as NativeAddon;
      if (typeof addon.probeGpus !== "function") throw new Error("not a config-tracker addon");
      if (typeof addon.setErrorConstructor !== "function") throw new Error("an addon of another config-tracker version");
      addon.setErrorConstructor(ConfigTrackerError);
      cached = addon;
      return addon;
    } catch (error) {
      lastError = error;
      const message = (error as Error).message.split("\n")[0] ?? "";
      const cause = diagnose(message);
      tried.push(`${candidate} (${message}${cause ? `: ${cause}` : ""})`);
    }
  }
  throw new ConfigTrackerError(
    "ADDON_LOAD_FAILED",
    [
      "config-tracker: the native addon could not be loaded.",
      ...tried.map((line) => `  tried ${line}`),
      "Fixes:",
      "  - build it for this machine: `npm rebuild config-tracker --build-from-source` (needs python3, make and a C++17 compiler; no CUDA toolkit)",
      "  - after copying node_modules between machines or a failed download, reinstall: `npm install config-tracker`",
      "  - or point CONFIG_TRACKER_ADDON at a built config_tracker.node",
      "  Prebuilt binaries ship for linux-x64 and linux-arm64 with glibc 2.28 or newer; docs/install.md says more.",
    ].join("\n"),
    { cause: lastError, ...(paths.length === 1 && paths[0] ? { path: paths[0] } : {}) },
  );
}
