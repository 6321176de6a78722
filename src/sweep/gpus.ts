/**
 * Which GPUs a sweep may give its runs, and which of them are free right now: a GPU is free when
 * this sweep has not given it to a run and NVML lists no compute process on it (someone else's
 * job, a notebook holding memory). The addon's sampler thread reads the process lists every
 * poll, so no process is started per check.
 */
import { ConfigTrackerError } from "../errors.js";
import { probeGpus } from "../hardware.js";
import { startSampler, type Sampler, type SystemSample } from "../system/sampler.js";

/** `all`, `none`, or nvidia-smi indices. */
export type GpuSelection = "all" | "none" | number[];

export interface GpuSlot {
  /** How people name it: the nvidia-smi index (`0`), or `0.1` for MIG device 1 of GPU 0. */
  label: string;
  nvmlIndex: number;
  uuid: string | null;
  /** What CUDA_VISIBLE_DEVICES gets: the UUID (right whatever CUDA_DEVICE_ORDER says), else the index. */
  cudaId: string;
  /** Its CUDA ordinal in the sweep's own process (its sampler numbers GPUs so). */
  sweepIndex: number;
}

/** Parses --gpus: `all`, `none`, or a comma-separated list of indices (`0,2,3`). */
export function parseGpuSelection(text: string): GpuSelection {
  const trimmed = text.trim();
  if (trimmed === "all" || trimmed === "none") return trimmed;
  const parts = trimmed.split(",").map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => !/^\d{1,4}$/.test(part))) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `--gpus ${text}: expected all, none, or GPU indices such as 0,2,3`, { key: "--gpus" });
  }
  const indices = parts.map(Number);
  const duplicate = indices.find((index, i) => indices.indexOf(index) !== i);
  if (duplicate !== undefined) throw new ConfigTrackerError("INVALID_ARGUMENT", `--gpus ${text}: GPU ${duplicate} is listed twice`, { key: "--gpus" });
  return indices;
}

export interface GpuPoolOptions {
  selection: GpuSelection;
  /** The sweep's environment: its CUDA_VISIBLE_DEVICES limits the GPUs it may hand out. */
  env?: NodeJS.ProcessEnv;
  /** How often NVML's process lists are read (ms). */
  pollMs?: number;
}

/** GPUs the sweep hands out, one run at a time each. */
export class GpuPool {
  private readonly inUse = new Set<string>();
  /** label -> pids NVML lists on it (from the latest sample). */
  private busy = new Map<string, number[]>();
  private unusable = new Map<string, string>();
  private sampled = false;

  private constructor(
    readonly slots: GpuSlot[],
    private readonly sampler: Sampler,
  ) {}

  /**
   * The pool, or the reason there is none (no driver, no GPU): the caller then runs without
   * CUDA_VISIBLE_DEVICES. A --gpus index the host does not have is an error.
   */
  static async open(options: GpuPoolOptions): Promise<GpuPool | { unavailable: string }> {
    const env = options.env ?? process.env;
    const report = await probeGpus({ env });
    if (report.visible_gpus.length === 0) {
      return { unavailable: report.unavailable_reason ?? "no NVIDIA GPU found" };
    }
    const all: GpuSlot[] = report.visible_gpus.map((gpu) => ({
      label: gpu.mig_slot === null ? String(gpu.nvml_index) : `${gpu.nvml_index}.${gpu.mig_slot}`,
      nvmlIndex: gpu.nvml_index,
      uuid: gpu.uuid,
      cudaId: gpu.uuid ?? String(gpu.nvml_index),
      sweepIndex: gpu.cuda_index,
    }));
    let slots = all;
    if (Array.isArray(options.selection)) {
      const wanted = options.selection;
      for (const index of wanted) {
        if (!all.some((slot) => slot.nvmlIndex === index)) {
          const have = [...new Set(all.map((slot) => slot.nvmlIndex))].join(",");
          throw new ConfigTrackerError("INVALID_ARGUMENT", `--gpus: there is no GPU ${index} (this sweep may use GPUs ${have})`, { key: "--gpus" });
        }
      }
      slots = all.filter((slot) => wanted.includes(slot.nvmlIndex));
    }
    const sampler = startSampler({ intervalMs: options.pollMs ?? 1000, env });
    const pool = new GpuPool(slots, sampler);
    await pool.firstSample();
    return pool;
  }

  private async firstSample(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!this.sampled && Date.now() < deadline) {
      this.refresh();
      if (!this.sampled) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Takes in the latest process lists. */
  refresh(): void {
    const samples = this.sampler.read();
    const latest: SystemSample | undefined = samples[samples.length - 1];
    if (latest === undefined) return;
    this.sampled = true;
    const busy = new Map<string, number[]>();
    const unusable = new Map<string, string>();
    for (const slot of this.slots) {
      const gpu = latest.gpus.find((device) => (slot.uuid !== null ? device.uuid === slot.uuid : device.index === slot.sweepIndex));
      if (gpu === undefined) continue;
      if (gpu.lost) unusable.set(slot.label, "fell off the bus");
      if (gpu.processes.length > 0) busy.set(slot.label, gpu.processes.map((process) => process.pid));
    }
    this.busy = busy;
    this.unusable = unusable;
  }

  private isFree(slot: GpuSlot): boolean {
    return !this.inUse.has(slot.label) && !this.busy.has(slot.label) && !this.unusable.has(slot.label);
  }

  /** `count` free GPUs, now taken, or null when fewer are free. */
  take(count: number): GpuSlot[] | null {
    const free = this.slots.filter((slot) => this.isFree(slot));
    if (free.length < count) return null;
    const taken = free.slice(0, count);
    for (const slot of taken) this.inUse.add(slot.label);
    return taken;
  }

  release(slots: GpuSlot[]): void {
    for (const slot of slots) this.inUse.delete(slot.label);
  }

  /** Why the others are not free, for the "waiting" line: `GPU 1 (pid 4242), GPU 3 (lost)`. */
  describeBusy(): string {
    const parts: string[] = [];
    for (const slot of this.slots) {
      if (this.inUse.has(slot.label)) parts.push(`GPU ${slot.label} (this sweep)`);
      else if (this.unusable.has(slot.label)) parts.push(`GPU ${slot.label} (${this.unusable.get(slot.label)})`);
      else if (this.busy.has(slot.label)) {
        const pids = this.busy.get(slot.label) as number[];
        parts.push(`GPU ${slot.label} (pid ${pids.slice(0, 3).join(", ")}${pids.length > 3 ? ", ..." : ""})`);
      }
    }
    return parts.join(", ");
  }

  async close(): Promise<void> {
    await this.sampler.stop();
  }
}
