/**
 * results.json's `system`: what the sampler saw over the whole run, per GPU (mean and max of
 * each figure, the tree's peak GPU memory) and for the process tree and the host, over every
 * node's system log (system.jsonl, system.node-<k>.jsonl).
 */
import type { SystemSample } from "./sampler.js";

interface Stat {
  sum: number;
  count: number;
  max: number;
}

const GPU_FIGURES = [
  "utilization_gpu_percent",
  "utilization_memory_percent",
  "memory_used_bytes",
  "power_watts",
  "temperature_c",
  "sm_clock_mhz",
  "memory_clock_mhz",
  "sm_active_percent",
  "sm_occupancy_percent",
  "tensor_active_percent",
  "dram_bandwidth_percent",
] as const;

type GpuFigure = (typeof GPU_FIGURES)[number];

interface GpuAccumulator {
  node: number;
  index: number;
  vendor: string | null;
  uuid: string | null;
  name: string | null;
  memory_total_bytes: number | null;
  power_limit_watts: number | null;
  temperature_sensor: string | null;
  figures: Map<GpuFigure, Stat>;
  tree_memory_peak_bytes: number | null;
  clock_event_reasons_seen: Set<string>;
  lost: boolean;
  activity_unavailable_reason: string | null;
  samples: number;
}

export interface MeanMax {
  mean: number;
  max: number;
}

export interface GpuSummary {
  node: number;
  index: number;
  vendor: string | null;
  uuid: string | null;
  name: string | null;
  samples: number;
  memory_total_bytes: number | null;
  power_limit_watts: number | null;
  temperature_sensor: string | null;
  tree_memory_peak_bytes: number | null;
  clock_event_reasons_seen: string[];
  lost: boolean;
  activity_unavailable_reason: string | null;
  [figure: string]: unknown;
}

export interface SystemSummaryResult {
  nodes: number;
  samples: number;
  first_sample_time: number | null;
  last_sample_time: number | null;
  gpus: GpuSummary[];
  /** Per node: the most GPU memory the tree held at once, summed over its GPUs. */
  tree_gpu_memory_peak_bytes: Record<string, number | null>;
  process_tree: Record<string, { cpu_percent: MeanMax | null; rss_peak_bytes: number | null }>;
  host: Record<string, { memory_available_min_bytes: number | null; memory_total_bytes: number | null }>;
  gpu_unavailable_reason?: string;
}

function add(stats: Map<string, Stat>, key: string, value: number | null | undefined): void {
  if (value === null || value === undefined || !Number.isFinite(value)) return;
  const stat = stats.get(key);
  if (stat === undefined) stats.set(key, { sum: value, count: 1, max: value });
  else {
    stat.sum += value;
    stat.count += 1;
    if (value > stat.max) stat.max = value;
  }
}

/** GPUs summarised at most (past it a log is not a machine's: the rest are left out). */
const MAX_GPUS = 1024;

const round = (value: number) => Math.round(value * 1000) / 1000;
const meanMax = (stat: Stat | undefined): MeanMax | null =>
  stat === undefined ? null : { mean: round(stat.sum / stat.count), max: round(stat.max) };

export class SystemSummary {
  #gpus = new Map<string, GpuAccumulator>();
  #samples = 0;
  #first: number | null = null;
  #last: number | null = null;
  #nodes = new Set<number>();
  #treeGpuPeak = new Map<number, number | null>();
  #cpu = new Map<number, Map<string, Stat>>();
  #rssPeak = new Map<number, number>();
  #hostAvailableMin = new Map<number, number>();
  #hostTotal = new Map<number, number>();

  add(sample: SystemSample, node = 0): void {
    this.#samples += 1;
    this.#nodes.add(node);
    this.#first = this.#first === null ? sample.time : Math.min(this.#first, sample.time);
    this.#last = this.#last === null ? sample.time : Math.max(this.#last, sample.time);
    let treeGpu: number | null = null;
    for (const gpu of sample.gpus) {
      const key = `${node}:${gpu.uuid ?? gpu.index}`;
      let entry = this.#gpus.get(key);
      if (entry === undefined) {
        if (this.#gpus.size >= MAX_GPUS) continue;
        entry = {
          node,
          index: gpu.index,
          vendor: gpu.vendor ?? null,
          uuid: gpu.uuid,
          name: gpu.name,
          memory_total_bytes: gpu.memory_total_bytes,
          power_limit_watts: gpu.power_limit_watts,
          temperature_sensor: gpu.temperature_sensor ?? null,
          figures: new Map(),
          tree_memory_peak_bytes: null,
          clock_event_reasons_seen: new Set(),
          lost: false,
          activity_unavailable_reason: null,
          samples: 0,
        };
        this.#gpus.set(key, entry);
      }
      entry.samples += 1;
      if (gpu.lost) entry.lost = true;
      entry.memory_total_bytes ??= gpu.memory_total_bytes;
      if (gpu.power_limit_watts !== null) entry.power_limit_watts = gpu.power_limit_watts;
      for (const figure of GPU_FIGURES) add(entry.figures as Map<string, Stat>, figure, gpu[figure]);
      for (const reason of gpu.clock_event_reason_names) entry.clock_event_reasons_seen.add(reason);
      if (gpu.activity_unavailable_reason && entry.figures.get("sm_active_percent") === undefined) {
        entry.activity_unavailable_reason = gpu.activity_unavailable_reason;
      }
      if (gpu.tree_memory_bytes !== null) {
        entry.tree_memory_peak_bytes = Math.max(entry.tree_memory_peak_bytes ?? 0, gpu.tree_memory_bytes);
        treeGpu = (treeGpu ?? 0) + gpu.tree_memory_bytes;
      }
    }
    if (treeGpu !== null) this.#treeGpuPeak.set(node, Math.max(this.#treeGpuPeak.get(node) ?? 0, treeGpu));
    else if (!this.#treeGpuPeak.has(node)) this.#treeGpuPeak.set(node, null);
    let cpu = this.#cpu.get(node);
    if (cpu === undefined) this.#cpu.set(node, (cpu = new Map()));
    add(cpu, "cpu_percent", sample.process_tree.cpu_percent);
    if (sample.process_tree.rss_bytes !== null) {
      this.#rssPeak.set(node, Math.max(this.#rssPeak.get(node) ?? 0, sample.process_tree.rss_bytes));
    }
    if (sample.host.memory_available_bytes !== null) {
      this.#hostAvailableMin.set(node, Math.min(this.#hostAvailableMin.get(node) ?? Infinity, sample.host.memory_available_bytes));
    }
    if (sample.host.memory_total_bytes !== null) this.#hostTotal.set(node, sample.host.memory_total_bytes);
  }

  result(gpuUnavailableReason?: string | null): SystemSummaryResult {
    const gpus: GpuSummary[] = [...this.#gpus.values()]
      .sort((a, b) => a.node - b.node || a.index - b.index)
      .map((entry) => {
        const summary: GpuSummary = {
          node: entry.node,
          index: entry.index,
          vendor: entry.vendor,
          uuid: entry.uuid,
          name: entry.name,
          samples: entry.samples,
          memory_total_bytes: entry.memory_total_bytes,
          power_limit_watts: entry.power_limit_watts,
          temperature_sensor: entry.temperature_sensor,
          tree_memory_peak_bytes: entry.tree_memory_peak_bytes,
          clock_event_reasons_seen: [...entry.clock_event_reasons_seen].sort(),
          lost: entry.lost,
          activity_unavailable_reason: entry.activity_unavailable_reason,
        };
        for (const figure of GPU_FIGURES) summary[figure] = meanMax(entry.figures.get(figure));
        return summary;
      });
    const perNode = <T>(map: Map<number, T>) =>
      Object.fromEntries([...this.#nodes].sort((a, b) => a - b).map((node) => [String(node), map.get(node) ?? null]));
    const processTree = Object.fromEntries(
      [...this.#nodes].sort((a, b) => a - b).map((node) => [
        String(node),
        { cpu_percent: meanMax(this.#cpu.get(node)?.get("cpu_percent")), rss_peak_bytes: this.#rssPeak.get(node) ?? null },
      ]),
    );
    const host = Object.fromEntries(
      [...this.#nodes].sort((a, b) => a - b).map((node) => [
        String(node),
        {
          memory_available_min_bytes: this.#hostAvailableMin.get(node) ?? null,
          memory_total_bytes: this.#hostTotal.get(node) ?? null,
        },
      ]),
    );
    return {
      nodes: this.#nodes.size,
      samples: this.#samples,
      first_sample_time: this.#first,
      last_sample_time: this.#last,
      gpus,
      tree_gpu_memory_peak_bytes: perNode(this.#treeGpuPeak),
      process_tree: processTree,
      host,
      ...(gpuUnavailableReason ? { gpu_unavailable_reason: gpuUnavailableReason } : {}),
    };
  }
}
