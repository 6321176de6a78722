/**
 * system.jsonl: one line per sampler sample (every GPU, the process tree, the host), with the
 * running summary results.json gets. Used by `config-tracker run` and by
 * ConfigTracker.sampleSystem for a process the program supervises itself.
 */
import { stat } from "node:fs/promises";
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

/**
 * The samples of a system log, streamed (a day of samples from many nodes is hundreds of MB).
 * Torn or unreadable lines are skipped and counted in `stats.skipped_lines`.
 */
export async function* readSystemLog(
  path: string,
  stats: { skipped_lines: number } = { skipped_lines: 0 },
): AsyncGenerator<LoggedSystemSample> {
  const size = (await stat(path)).size;
  for await (const chunk of readLineChunks(path, size, MAX_LINE_BYTES)) {
    if (chunk.bytes === undefined) {
      stats.skipped_lines += 1;
      continue;
    }
    for (const line of chunk.bytes.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      try {
        const sample = parsePythonJson(line) as LoggedSystemSample;
        if (typeof sample?.time === "number" && Array.isArray(sample.gpus)) yield sample;
        else stats.skipped_lines += 1;
      } catch {
        stats.skipped_lines += 1; // a torn line
      }
    }
  }
}
