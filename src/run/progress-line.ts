/**
 * One status line at the bottom of a terminal (step, latest metrics, GPU use, elapsed time),
 * redrawn in place; cleared before the child's output is written so it never mixes with it.
 * Nothing at all when the stream is not a terminal (piped, redirected, CI).
 */
import type { SystemSample } from "../system/sampler.js";
import type { LineMetrics } from "./output-metrics.js";

export class ProgressLine {
  #shown = false;
  readonly #enabled: boolean;

  /** `stream` null, or not a terminal: no line. */
  constructor(private readonly stream: NodeJS.WriteStream | null) {
    this.#enabled = stream !== null && stream.isTTY === true && process.env.TERM !== "dumb";
  }

  draw(text: string): void {
    if (!this.#enabled || this.stream === null) return;
    const width = this.stream.columns > 0 ? this.stream.columns - 1 : 100;
    this.stream.write(`\r\x1b[2K\x1b[2m${text.slice(0, width)}\x1b[22m`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown || this.stream === null) return;
    this.stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}

/** The progress line's text: the step and its first metrics, each GPU's use, the time elapsed. */
export function describeProgress(metrics: LineMetrics | null, sample: SystemSample | null, elapsedMs: number): string {
  const parts: string[] = [];
  if (metrics) {
    const values = Object.entries(metrics.values)
      .slice(0, 3)
      .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(4)}`);
    parts.push(`step ${metrics.step}${values.length > 0 ? ` ${values.join(" ")}` : ""}`);
  }
  for (const gpu of sample?.gpus ?? []) {
    const used = gpu.tree_memory_bytes ?? gpu.memory_used_bytes;
    const memory = used === null ? "" : ` ${(used / 2 ** 30).toFixed(1)}G`;
    parts.push(`gpu${gpu.index} ${gpu.lost ? "lost" : `${gpu.utilization_gpu_percent ?? "?"}%${memory}`}`);
  }
  const seconds = Math.floor(elapsedMs / 1000);
  const clock = `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  parts.push(clock);
  return parts.join(" | ");
}
