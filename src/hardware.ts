/**
 * The machine an experiment ran on, as the trainer sees it: CPU and memory from Node, GPUs from
 * the addon (NVIDIA's NVML, AMD's ROCm SMI) with the trainer's visibility variables applied
 * (CUDA_VISIBLE_DEVICES; ROCR_VISIBLE_DEVICES then HIP_VISIBLE_DEVICES), Python and torch from the
 * trainer's interpreter. No GPU, no driver, no torch: all normal answers.
 */
import { arch, cpus, availableParallelism, release, totalmem } from "node:os";

import { loadAddon, type RawGpuOptions, type RawVendorReport, type RawVisibleGpu } from "./native.js";
import { checkOptions, optionNames } from "./options.js";
import type { GpuDevice, HardwareInfo } from "./schema.js";
import { findTorch, PYTHON_VARIABLES, type TorchInfo } from "./torch-probe.js";

export interface HardwareOptions {
  /** Bound on a GPU library's initialisation (NVML can take seconds without persistence mode). */
  nvmlTimeoutMs?: number;
  /** Bound on asking python3 where torch is. */
  torchTimeoutMs?: number;
  /**
   * The environment the trainer runs with (default process.env): its visibility variables decide
   * which GPUs are listed, its PATH and PYTHON* variables which Python is asked about torch.
   */
  env?: NodeJS.ProcessEnv;
  /** The interpreter that runs the trainer (default CONFIG_TRACKER_PYTHON, else python3 on PATH). */
  python?: string;
}

// One answer per interpreter and Python environment, for the life of the process.
const torchInfos = new Map<string, Promise<TorchInfo>>();

function torchInfoFor(env: NodeJS.ProcessEnv, python: string | undefined, timeoutMs: number): Promise<TorchInfo> {
  const key = JSON.stringify([python ?? null, env.PATH ?? null, ...PYTHON_VARIABLES.map((name) => env[name] ?? null)]);
  let info = torchInfos.get(key);
  if (info === undefined) {
    info = findTorch({ timeoutMs, env, ...(python === undefined ? {} : { python }) });
    torchInfos.set(key, info);
  }
  return info;
}


// What Node says about the machine does not change while the process runs: read it once
// (os.cpus() parses /proc/cpuinfo on every call).
let hostFacts: Pick<HardwareInfo, "platform" | "arch" | "os_release" | "node_version" | "cpu_count" | "cpu_model" | "memory_total_bytes"> | undefined;

function readHostFacts(): NonNullable<typeof hostFacts> {
  return {
    platform: process.platform,
    arch: arch(),
    os_release: release(),
    node_version: process.version,
    cpu_count: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() || null,
    memory_total_bytes: totalmem(),
  };
}

/** "12.4" from the driver's 12040. */
export function formatCudaVersion(version: number | null): string | null {
  if (version === null || version <= 0) return null;
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

function toGpuDevice(raw: RawVisibleGpu): GpuDevice {
  const major = raw.compute_capability_major;
  const minor = raw.compute_capability_minor;
  return {
    index: raw.cuda_index,
    nvml_index: raw.nvml_index,
    vendor: raw.vendor,
    name: raw.name,
    uuid: raw.uuid,
    memory_total_bytes: raw.memory_total_bytes,
    compute_capability: major === null || minor === null ? null : `${major}.${minor}`,
    pci_bus_id: raw.pci_bus_id,
    serial: raw.serial,
    vbios_version: raw.vbios_version,
    mig_mode: raw.mig_mode,
    mig_parent_uuid: raw.parent_uuid,
    error: raw.error,
  };
}

/**
 * What the addon's GPU calls read: this process's own settings (the CONFIG_TRACKER_* library
 * overrides and ROCM_PATH: they concern the tracker's addon) and the watched process's
 * environment (its visibility variables).
 */
export function gpuOptions(watched: NodeJS.ProcessEnv = process.env): RawGpuOptions {
  const strings = (env: NodeJS.ProcessEnv, keep: (name: string) => boolean) =>
    Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string" && keep(entry[0])));
  return {
    settings: strings(process.env, (name) => name.startsWith("CONFIG_TRACKER_") || name === "ROCM_PATH"),
    environment: strings(watched, () => true),
  };
}

/** Every vendor's answer, with the GPUs the trainer may use gathered from all of them. */
export interface GpuProbe {
  unavailable_code: string | null;
  unavailable_reason: string | null;
  /** Every vendor's physical GPUs. */
  host_gpu_count: number;
  /** NVIDIA's (CUDA ordinals), then AMD's (HIP ordinals). */
  visible_gpus: RawVisibleGpu[];
  vendors: RawVendorReport[];
}

/** Runs the native probe for every vendor. */
export async function probeGpus(options: HardwareOptions = {}): Promise<GpuProbe> {
  const own = process.env;
  const report = await loadAddon().probeGpus({
    ...gpuOptions(options.env ?? own),
    timeoutMs: options.nvmlTimeoutMs ?? (Number(own.CONFIG_TRACKER_NVML_TIMEOUT_MS) || 10_000),
  });
  return {
    unavailable_code: report.unavailable_code,
    unavailable_reason: report.unavailable_reason,
    host_gpu_count: report.vendors.reduce((sum, vendor) => sum + vendor.host_gpu_count, 0),
    visible_gpus: report.vendors.flatMap((vendor) => vendor.visible_gpus),
    vendors: report.vendors,
  };
}

const HARDWARE_OPTIONS = optionNames<HardwareOptions>({ nvmlTimeoutMs: true, torchTimeoutMs: true, env: true, python: true });

export async function getHardwareInfo(options: HardwareOptions = {}): Promise<HardwareInfo> {
  checkOptions("getHardwareInfo(options)", options, HARDWARE_OPTIONS);
  const env = options.env ?? process.env;
  const python = options.python ?? (process.env.CONFIG_TRACKER_PYTHON || undefined);
  const [probe, torch] = await Promise.all([probeGpus(options), torchInfoFor(env, python, options.torchTimeoutMs ?? 3000)]);
  const gpus = probe.visible_gpus.map(toGpuDevice);
  const vendorsUsed = [...new Set(gpus.map((gpu) => gpu.vendor))];
  const vendor = (name: string) => probe.vendors.find((report) => report.vendor === name);
  // The driver of the GPUs listed first; without a usable GPU, the first driver that answered.
  const driver =
    (gpus.length > 0 ? vendor(gpus[0]?.vendor ?? "") : probe.vendors.find((report) => report.driver_version !== null)) ?? null;
  hostFacts ??= readHostFacts();
  return {
    ...hostFacts,
    gpu_available: gpus.length > 0,
    gpu_count: gpus.length,
    host_gpu_count: probe.host_gpu_count,
    gpu_vendor: vendorsUsed.length > 0 ? vendorsUsed.join("+") : null,
    gpu_model: gpus[0]?.name ?? null,
    cuda_version: vendor("nvidia")?.runtime?.version ?? null,
    rocm_version: vendor("amd")?.runtime?.version ?? null,
    driver_version: driver?.driver_version ?? null,
    cuda_visible_devices: env.CUDA_VISIBLE_DEVICES ?? null,
    hip_visible_devices: env.HIP_VISIBLE_DEVICES ?? null,
    rocr_visible_devices: env.ROCR_VISIBLE_DEVICES ?? null,
    gpus,
    gpu_unavailable_reason: gpus.length > 0 ? null : probe.unavailable_reason,
    gpu_unavailable_code: gpus.length > 0 ? null : probe.unavailable_code,
    torch_version: torch.torch_version,
    torch_cuda_version: torch.torch_cuda_version,
    torch_hip_version: torch.torch_hip_version,
    python_version: torch.python_version,
    python_executable: torch.python_executable,
  };
}
