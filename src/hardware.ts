/**
 * The machine an experiment ran on, as the trainer sees it: CPU and memory from Node, GPUs from
 * NVML through the addon with the trainer's CUDA_VISIBLE_DEVICES applied, Python and torch from
 * the trainer's interpreter. No GPU, no driver, no torch: all normal answers.
 */
import { arch, cpus, availableParallelism, release, totalmem } from "node:os";

import { loadAddon, type RawGpu, type RawGpuReport } from "./native.js";
import type { GpuDevice, HardwareInfo } from "./schema.js";
import { findTorch, PYTHON_VARIABLES, type TorchInfo } from "./torch-probe.js";

export interface HardwareOptions {
  /** Bound on NVML initialisation (it can take seconds on hosts without persistence mode). */
  nvmlTimeoutMs?: number;
  /** Bound on asking python3 where torch is. */
  torchTimeoutMs?: number;
  /**
   * The environment the trainer runs with (default process.env): its CUDA_VISIBLE_DEVICES decides
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

function toGpuDevice(raw: RawGpu & { cuda_index: number }): GpuDevice {
  const major = raw.compute_capability_major;
  const minor = raw.compute_capability_minor;
  return {
    index: raw.cuda_index,
    nvml_index: raw.nvml_index,
    name: raw.name,
    uuid: raw.uuid,
    memory_total_bytes: raw.memory_total_bytes,
    compute_capability: major === null || minor === null ? null : `${major}.${minor}`,
    pci_bus_id: raw.pci_bus_id,
    mig_mode: raw.mig_mode,
    mig_parent_uuid: raw.parent_uuid,
    error: raw.error,
  };
}

/**
 * Runs the native probe. The library overrides come from this process's environment (they
 * concern the tracker's own addon); CUDA_VISIBLE_DEVICES from the trainer's.
 */
export function probeGpus(options: HardwareOptions = {}): Promise<RawGpuReport> {
  const own = process.env;
  const visible = (options.env ?? own).CUDA_VISIBLE_DEVICES;
  return loadAddon().probeGpus({
    nvmlLibrary: own.CONFIG_TRACKER_NVML_LIBRARY || "libnvidia-ml.so.1",
    cudaLibrary: own.CONFIG_TRACKER_CUDA_LIBRARY || "libcuda.so.1",
    ...(visible === undefined ? {} : { cudaVisibleDevices: visible }),
    timeoutMs: options.nvmlTimeoutMs ?? (Number(own.CONFIG_TRACKER_NVML_TIMEOUT_MS) || 10_000),
  });
}

export async function getHardwareInfo(options: HardwareOptions = {}): Promise<HardwareInfo> {
  const env = options.env ?? process.env;
  const python = options.python ?? (process.env.CONFIG_TRACKER_PYTHON || undefined);
  const [report, torch] = await Promise.all([
    probeGpus(options),
    torchInfoFor(env, python, options.torchTimeoutMs ?? 3000),
  ]);
  const gpus = report.visible_gpus.map(toGpuDevice);
  hostFacts ??= readHostFacts();
  return {
    ...hostFacts,
    gpu_available: gpus.length > 0,
    gpu_count: gpus.length,
    host_gpu_count: report.host_gpu_count,
    gpu_model: gpus[0]?.name ?? null,
    cuda_version: formatCudaVersion(report.cuda_driver_version),
    driver_version: report.driver_version,
    cuda_visible_devices: env.CUDA_VISIBLE_DEVICES ?? null,
    gpus,
    gpu_unavailable_reason: gpus.length > 0 ? null : report.unavailable_reason,
    gpu_unavailable_code: gpus.length > 0 ? null : report.unavailable_code,
    torch_version: torch.torch_version,
    torch_cuda_version: torch.torch_cuda_version,
    python_version: torch.python_version,
    python_executable: torch.python_executable,
  };
}
