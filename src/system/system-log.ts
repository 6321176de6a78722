/**
 * system.jsonl: one line per sampler sample (every GPU, the process tree, the host), with the
 * running summary results.json gets. Used by `config-tracker run` and by
 * ConfigTracker.sampleSystem for a process the program supervises itself.
 */
import { hostname } from "node:os";

import { stringifyPythonJson } from "../python-json.js";
import { appendLinesSync } from "../runs/append-file.js";
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
