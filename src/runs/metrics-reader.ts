/**
 * Reading metrics.jsonl back, streamed: memory does not grow with the file.
 *
 * A resumed run logs some steps again (it restarts from its last checkpoint). By default each
 * step comes out once, with each metric's latest value at that step: a resumed run's values
 * replace the first run's, and records that add other metrics to a step (val_loss logged after
 * train_loss, or by an evaluator process later) are merged into it. Records come out in
 * ascending step order. `all: true` gives every line as written.
 *
 * Doing that in bounded memory takes two passes. The first notes which steps come back: a line
 * whose step is not larger than every step before it. Only those steps are held back in the
 * second pass, until their last occurrence; everything else streams straight through. Memory is
 * proportional to the steps logged twice (a resumption's overlap), not to the file.
 */
import { stat } from "node:fs/promises";

import { ConfigTrackerError } from "../errors.js";
import { parsePythonJson } from "../python-json.js";
import { MAX_LINE_BYTES } from "./append-file.js";
import { readLineBatches, type SkipReason } from "./line-reader.js";

/** One logged record: step, time (unix seconds) and numeric values. */
export interface MetricRecord {
  step: number;
  time: number;
  [name: string]: number;
}

export interface ReadMetricsOptions {
  /** Only these metrics (records that have none of them are left out). */
  keys?: string[];
  /** Every line as written, in file order, re-logged steps included. */
  all?: boolean;
}

export interface MetricsReadStats {
  /** Lines read (blank lines not counted). */
  lines: number;
  /** Records yielded. */
  records: number;
  /** Lines that were not a record: torn by a crash, not JSON, no numeric step, too long. */
  skipped_lines: number;
  /** The first few skipped lines: 1-based line number and why. */
  skipped: Array<{ line: number; reason: string }>;
  /** Records of a step that came back after larger steps (a resumption re-running them). */
  superseded: number;
}

const KEEP_SKIPPED = 20;
// The tracker's own lines start like this; other writers' lines are parsed to find the step.
const STEP_PREFIX = /^\{"step": ?(\d+)[,}]/;

/** The step of a line, NaN for a line that is not a complete record. Used by both passes alike. */
function stepOf(text: string): number {
  const trimmed = text.trimEnd();
  if (!trimmed.endsWith("}")) return NaN;
  const match = STEP_PREFIX.exec(trimmed);
  if (match) return Number(match[1]);
  try {
    const step = (parseLine(trimmed) as { step?: unknown } | null)?.step;
    return typeof step === "number" && Number.isFinite(step) ? step : NaN;
  } catch {
    return NaN;
  }
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (/NaN|Infinity/.test(text)) return parsePythonJson(text);
    throw error;
  }
}

/** The numeric fields of a parsed line (other writers may add strings: those are left out). */
function toRecord(parsed: unknown): MetricRecord | string {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "not a JSON object";
  const source = parsed as Record<string, unknown>;
  if (typeof source.step !== "number" || !Number.isFinite(source.step)) return "no numeric step";
  const record = { step: source.step, time: typeof source.time === "number" ? source.time : NaN } as MetricRecord;
  for (const key in source) {
    const value = source[key];
    if (typeof value === "number" && key !== "step" && key !== "time") record[key] = value;
  }
  return record;
}

function project(record: MetricRecord, keys: string[] | undefined): MetricRecord | null {
  if (keys === undefined) return record;
  const out = { step: record.step, time: record.time } as MetricRecord;
  let any = false;
  for (const key of keys) {
    if (key in record) {
      out[key] = record[key] as number;
      any = true;
    }
  }
  return any ? out : null;
}

/** An async iterable of records with the reading's statistics, complete once iterated. */
export class MetricsStream implements AsyncIterable<MetricRecord> {
  readonly stats: MetricsReadStats = { lines: 0, records: 0, skipped_lines: 0, skipped: [], superseded: 0 };

  constructor(
    readonly path: string,
    readonly options: ReadMetricsOptions = {},
    readonly missingOk = false,
  ) {
    const keys = options.keys;
    if (keys !== undefined && (!Array.isArray(keys) || keys.some((key) => typeof key !== "string"))) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "readMetrics({ keys }): keys must be an array of metric names");
    }
  }

  /** Every record in an array (for small logs; iterate for large ones). */
  async toArray(): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    for await (const record of this) out.push(record);
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<MetricRecord> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && this.missingOk) return;
      const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR";
      throw new ConfigTrackerError(code, `${this.path}: ${(error as Error).message}`, { path: this.path, cause: error });
    }
    if (this.options.all) yield* this.#everyLine(size);
    else yield* this.#latestPerStep(size);
  }

  #skip(line: number, reason: string | SkipReason): void {
    this.stats.skipped_lines += 1;
    if (this.stats.skipped.length < KEEP_SKIPPED) this.stats.skipped.push({ line, reason });
  }

  /** Parses a line, counting it as skipped when it is not a record. */
  #record(text: string, line: number): MetricRecord | null {
    let parsed: unknown;
    try {
      parsed = parseLine(text);
    } catch {
      const trimmed = text.trim();
      this.#skip(line, trimmed.startsWith("{") && !trimmed.endsWith("}") ? "torn (cut off mid-line)" : "not JSON");
      return null;
    }
    const record = toRecord(parsed);
    if (typeof record === "string") {
      this.#skip(line, record);
      return null;
    }
    return record;
  }

  async *#everyLine(size: number): AsyncGenerator<MetricRecord> {
    for await (const batch of readLineBatches(this.path, size, MAX_LINE_BYTES)) {
      for (let i = 0; i < batch.texts.length; i++) {
        const text = batch.texts[i] as string | null;
        const line = batch.first + i;
        if (text === null) {
          this.stats.lines += 1;
          this.#skip(line, batch.reasons.get(line) ?? "unreadable");
          continue;
        }
        if (text.trim() === "") continue;
        this.stats.lines += 1;
        const record = this.#record(text, line);
        const projected = record && project(record, this.options.keys);
        if (projected) {
          this.stats.records += 1;
          yield projected;
        }
      }
    }
  }

  async *#latestPerStep(size: number): AsyncGenerator<MetricRecord> {
    // Pass 1: how many times each step comes back (shows up when not larger than all before it).
    const returns = new Map<number, number>();
    let highest = -Infinity;
    for await (const batch of readLineBatches(this.path, size, MAX_LINE_BYTES)) {
      for (const text of batch.texts) {
        if (text === null) continue;
        const step = stepOf(text);
        if (Number.isNaN(step)) continue;
        if (step <= highest) returns.set(step, (returns.get(step) ?? 0) + 1);
        else highest = step;
      }
    }

    // Pass 2: stream; steps that come back wait (in `held`, ascending) until their last line.
    interface Held {
      step: number;
      record: MetricRecord | null;
      complete: boolean;
    }
    const held: Held[] = [];
    const heldByStep = new Map<number, Held>();
    const keys = this.options.keys;
    const stats = this.stats;
    highest = -Infinity;
    let previousStep = NaN;

    const insert = (entry: Held) => {
      let index = held.length;
      while (index > 0 && (held[index - 1] as Held).step > entry.step) index -= 1;
      held.splice(index, 0, entry);
    };
    function* release(): Generator<MetricRecord> {
      while (held.length > 0 && (held[0] as Held).complete) {
        const entry = held.shift() as Held;
        heldByStep.delete(entry.step);
        const projected = entry.record && project(entry.record, keys);
        if (projected) {
          stats.records += 1;
          yield projected;
        }
      }
    }

    for await (const batch of readLineBatches(this.path, size, MAX_LINE_BYTES)) {
      for (let i = 0; i < batch.texts.length; i++) {
        const text = batch.texts[i] as string | null;
        const line = batch.first + i;
        if (text === null) {
          this.stats.lines += 1;
          this.#skip(line, batch.reasons.get(line) ?? "unreadable");
          continue;
        }
        if (text.trim() === "") continue;
        this.stats.lines += 1;
        const step = stepOf(text);
        const record = this.#record(text, line);
        if (Number.isNaN(step)) continue; // counted as skipped by #record
        const comesBack = step <= highest;
        if (!comesBack) highest = step;
        const sameBurst = step === previousStep; // another record for the step just logged
        previousStep = step;

        const remaining = returns.get(step);
        if (remaining === undefined) {
          // Logged once: out at once, unless an earlier step is still waiting.
          if (held.length === 0) {
            const projected = record && project(record, keys);
            if (projected) {
              stats.records += 1;
              yield projected;
            }
          } else {
            const entry = { step, record, complete: true };
            insert(entry);
            heldByStep.set(step, entry);
          }
          continue;
        }
        let entry = heldByStep.get(step);
        if (entry === undefined) {
          entry = { step, record: null, complete: false };
          insert(entry);
          heldByStep.set(step, entry);
        }
        if (record) {
          if (entry.record === null) entry.record = record;
          else Object.assign(entry.record, record); // each metric's latest value wins
          if (comesBack && !sameBurst) stats.superseded += 1;
        }
        if (comesBack) {
          if (remaining <= 1) {
            returns.delete(step);
            entry.complete = true;
          } else {
            returns.set(step, remaining - 1);
          }
        }
        yield* release();
      }
    }
    // Lines that changed between the passes (a rewrite under us) may leave steps waiting.
    for (const entry of held) entry.complete = true;
    yield* release();
  }
}
