/**
 * system.jsonl: one line per sampler sample (every GPU, the process tree, the host), with the
 * running summary results.json gets. Used by `config-tracker run` and by
 * ConfigTracker.sampleSystem for a process the program supervises itself.
 */
import { hostname } from "node:os";

import { parsePythonJson, stringifyPythonJson } from "../python-json.js";
import { appendLinesSync, MAX_LINE_BYTES } from "../io/append-file.js";
import { readLineChunks } from "../io/line-reader.js";
import type { SystemSample } from "./sampler.js";
import { SystemSummary } from "./system-summary.js";

export class SystemLog {
  readonly summary = new SystemSummary();
  latest: SystemSample | null = null;
  #host = hostname();

  constructor(
    readonly path: string,
    readonly node = 0,
  ) {}

  /** Appends the samples (best effort: a full disk loses system lines, never the run). */
  add(samples: SystemSample[]): void {
    if (samples.length === 0) return;
    const lines = samples.map((sample) => {
      this.summary.add(sample, this.node);
      return `${stringifyPythonJson({ node: this.node, hostname: this.#host, ...sample }, 0)}\n`;
    });
    try {
      appendLinesSync(this.path, lines);
    } catch {
      // the summary still has them
    }
    this.latest = samples[samples.length - 1] ?? null;
  }
}

/** A line of system.jsonl: a sample with the node and host that took it. */
export type LoggedSystemSample = SystemSample & { node?: number; hostname?: string };

/** GPUs of one sample past this many are left out: no machine has that many, a planted line may. */
const MAX_GPUS_PER_SAMPLE = 256;
/** Indices past this are not a GPU's. */
const MAX_GPU_INDEX = 4095;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const numberOrNull = (value: unknown): number | null => (typeof value === "number" ? value : null);
const textOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);
const GPU_NUMBERS = [
  "utilization_gpu_percent",
  "utilization_memory_percent",
  "memory_used_bytes",
  "memory_total_bytes",
  "power_watts",
  "power_limit_watts",
  "temperature_c",
  "sm_clock_mhz",
  "memory_clock_mhz",
  "clock_event_reasons",
  "tree_memory_bytes",
  "sm_active_percent",
  "sm_occupancy_percent",
  "tensor_active_percent",
  "dram_bandwidth_percent",
] as const;
const GPU_TEXTS = ["vendor", "uuid", "name", "error", "temperature_sensor", "tree_memory_note", "activity_unavailable_reason"] as const;

/**
 * A line of a system log as a sample, every field of the type the readers use (a field of another
 * type reads as null, a GPU without a numeric index is left out); null when it is not a sample
 * (no numeric time, no list of GPUs). What any other writer put in the file is read this way.
 */
export function systemSampleOf(parsed: unknown): LoggedSystemSample | null {
  if (!isObject(parsed) || typeof parsed.time !== "number" || !Number.isFinite(parsed.time) || !Array.isArray(parsed.gpus)) return null;
  const gpus: LoggedSystemSample["gpus"] = [];
  for (const item of parsed.gpus.slice(0, MAX_GPUS_PER_SAMPLE)) {
    if (!isObject(item) || !Number.isSafeInteger(item.index) || (item.index as number) < 0 || (item.index as number) > MAX_GPU_INDEX) continue;
    const gpu = { ...item, index: item.index as number, lost: item.lost === true } as Record<string, unknown>;
    for (const key of GPU_NUMBERS) gpu[key] = numberOrNull(item[key]);
    for (const key of GPU_TEXTS) gpu[key] = textOrNull(item[key]);
    gpu.clock_event_reason_names = Array.isArray(item.clock_event_reason_names) ? item.clock_event_reason_names.filter((name) => typeof name === "string") : [];
    gpu.processes = Array.isArray(item.processes) ? item.processes.filter(isObject) : [];
    gpus.push(gpu as unknown as LoggedSystemSample["gpus"][number]);
  }
  const tree = isObject(parsed.process_tree) ? parsed.process_tree : {};
  const host = isObject(parsed.host) ? parsed.host : {};
  return {
    ...parsed,
    time: parsed.time,
    gpus,
    process_tree: {
      pids: Array.isArray(tree.pids) ? tree.pids.filter((pid): pid is number => Number.isSafeInteger(pid)) : [],
      cpu_percent: numberOrNull(tree.cpu_percent),
      rss_bytes: numberOrNull(tree.rss_bytes),
      note: textOrNull(tree.note),
    },
    host: { memory_total_bytes: numberOrNull(host.memory_total_bytes), memory_available_bytes: numberOrNull(host.memory_available_bytes) },
    ...(parsed.node === undefined ? {} : { node: Number.isSafeInteger(parsed.node) && (parsed.node as number) >= 0 ? (parsed.node as number) : 0 }),
    ...(parsed.hostname === undefined ? {} : { hostname: textOrNull(parsed.hostname) ?? "" }),
  } as LoggedSystemSample;
}

/**
 * The samples of a system log, streamed (a day of samples from many nodes is hundreds of MB).
 * Torn or unreadable lines are skipped and counted in `stats.skipped_lines`.
 */
export async function* readSystemLog(
  path: string,
  stats: { skipped_lines: number } = { skipped_lines: 0 },
): AsyncGenerator<LoggedSystemSample> {
  for await (const chunk of readLineChunks(path, MAX_LINE_BYTES)) {
    if (chunk.bytes === undefined) {
      stats.skipped_lines += 1;
      continue;
    }
    for (const line of chunk.bytes.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      let parsed: unknown;
      try {
        parsed = parsePythonJson(line);
      } catch {
        stats.skipped_lines += 1; // a torn line
        continue;
      }
      const sample = systemSampleOf(parsed);
      if (sample !== null) yield sample;
      else stats.skipped_lines += 1;
    }
  }
}
