/**
 * Reading metrics.jsonl back, streamed: memory does not grow with the file. Each line is read
 * by the metrics line codec (metrics-line.ts), through the addon's fast path where it can.
 *
 * A resumed run logs some steps again (it restarts from its last checkpoint). By default each
 * step comes out once, with each metric's latest value at that step: a resumed run's values
 * replace the first run's, and records that add other metrics to a step (val_loss logged after
 * train_loss, or by an evaluator process later) are merged into it. Records come out in
 * ascending step order. `all: true` gives every line as written.
 *
 * Doing that in bounded memory takes two passes. The first notes, per 1 MiB chunk of lines, the
 * smallest step in it. In the second, a step is held back while a later line still has a step
 * as small or smaller (the smallest step of the rest of the file: later chunks' from the first
 * pass, the chunk's own from its lines), and comes out, merged, once none has. A log whose steps
 * only go up streams straight through; memory is proportional to the steps that wait for a later
 * line (a resumption's overlap, an evaluator's late record), never to the file.
 */
import { ConfigTrackerError } from "../errors.js";
import { MAX_LINE_BYTES } from "../io/append-file.js";
import { lineChunksOf, type LineChunk, type SkipReason } from "../io/line-reader.js";
import { closeFile, openRegularFile, readBytes, type OpenedFile } from "../io/read-file.js";
import { setKey } from "../json-value.js";
import { addonWith, type NativeAddon } from "../native.js";
import { checkOptions, optionNames } from "../options.js";
import {
  endsLikeRecord,
  isBlank,
  isFlatChunk,
  isTooLong,
  parseMetricsLine,
  plainStep,
  recordOf,
  recordsOfNativeLines,
  stepOfLineBytes,
  stepOfLineText,
  withoutBom,
  type MetricRecord,
} from "./metrics-line.js";

export type { MetricRecord } from "./metrics-line.js";

export interface ReadMetricsOptions {
  /** Only these metrics (records that have none of them are left out). */
  keys?: string[];
  /** Every line as written, in file order, re-logged steps included. */
  all?: boolean;
  /**
   * At most this many steps are held back waiting for a later record (default 100,000: a
   * resumption re-running that many steps). Past it (a log whose steps keep going back), the
   * oldest held step comes out early, memory stays bounded, and `stats.unordered` counts the
   * records that then came out of step order or twice.
   */
  maxHeldSteps?: number;
}

export const READ_METRICS_OPTION_NAMES = optionNames<ReadMetricsOptions>({ keys: true, all: true, maxHeldSteps: true });

const MAX_HELD_STEPS = 100_000;

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
  /** Records that came out not after the one before (only past maxHeldSteps). */
  unordered: number;
  /** Values left out of a step that already had MAX_METRICS_PER_STEP metrics (a log built to exhaust memory). */
  values_left_out: number;
}

/** The most metrics one step's record holds when several lines of that step are merged. */
export const MAX_METRICS_PER_STEP = 100_000;

const KEEP_SKIPPED = 20;
const COMMA = 0x2c;

// The addon's fast path for flat lines; readMetrics works without it (JSON.parse throughout).
let addon: NativeAddon | null | undefined;

/** Turns the native fast path off (or back on): the tests compare both on the same files. */
export function useNativeMetricParser(enabled: boolean): void {
  addon = enabled ? undefined : null;
}
function nativeParser(): NativeAddon | null {
  if (addon === undefined) addon = addonWith("parseMetricLines");
  return addon;
}

/** The record with only `keys` (and step, time); null when it has none of them. */
function withOnlyKeys(record: MetricRecord, keys: string[] | undefined): MetricRecord | null {
  if (keys === undefined) return record;
  const out = { step: record.step, time: record.time } as MetricRecord;
  let any = false;
  for (const key of keys) {
    if (Object.hasOwn(record, key) && key !== "step" && key !== "time") {
      setKey(out, key, record[key] as number);
      any = true;
    }
  }
  return any ? out : null;
}

/**
 * `later`'s values written over `into`'s (each metric's latest value wins), names like `__proto__`
 * kept, up to MAX_METRICS_PER_STEP names; returns how many names `into` has now and how many
 * values were left out.
 */
function mergeRecord(into: MetricRecord, names: number, later: MetricRecord): { names: number; leftOut: number } {
  let leftOut = 0;
  for (const key in later) {
    if (!Object.hasOwn(into, key)) {
      if (names >= MAX_METRICS_PER_STEP) {
        leftOut += 1;
        continue;
      }
      names += 1;
    }
    setKey(into, key, later[key] as number);
  }
  return { names, leftOut };
}

/** An async iterable of records with the reading's statistics, complete once iterated. */
export class MetricsStream implements AsyncIterable<MetricRecord> {
  readonly stats: MetricsReadStats = { lines: 0, records: 0, skipped_lines: 0, skipped: [], superseded: 0, unordered: 0, values_left_out: 0 };

  constructor(
    readonly path: string,
    readonly options: ReadMetricsOptions = {},
    readonly missingOk = false,
  ) {
    const keys = options.keys;
    if (keys !== undefined && (!Array.isArray(keys) || keys.some((key) => typeof key !== "string"))) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "readMetrics({ keys }): keys must be an array of metric names");
    }
    const held = options.maxHeldSteps;
    if (held !== undefined && !(Number.isSafeInteger(held) && held >= 1)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "readMetrics({ maxHeldSteps }): a positive integer");
    }
  }

  /** Every record in an array (for small logs; iterate for large ones). */
  async toArray(): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    for await (const record of this) out.push(record);
    return out;
  }

  /**
   * Records are produced a chunk (1 MiB of lines) at a time and handed out one by one, so the
   * per-record cost is one resolved promise, not a generator step.
   */
  [Symbol.asyncIterator](): AsyncIterator<MetricRecord> {
    const chunks = this.#chunks();
    let buffer: MetricRecord[] = [];
    let index = 0;
    return {
      next: async (): Promise<IteratorResult<MetricRecord>> => {
        while (index >= buffer.length) {
          const next = await chunks.next();
          if (next.done) return { value: undefined, done: true };
          buffer = next.value;
          index = 0;
        }
        this.stats.records += 1;
        return { value: buffer[index++] as MetricRecord, done: false };
      },
      return: async (): Promise<IteratorResult<MetricRecord>> => {
        await chunks.return(undefined);
        return { value: undefined, done: true };
      },
    };
  }

  async *#chunks(): AsyncGenerator<MetricRecord[]> {
    let file: OpenedFile;
    try {
      file = openRegularFile(this.path);
    } catch (error) {
      if ((error as ConfigTrackerError).code === "NOT_FOUND" && this.missingOk) return;
      throw error;
    }
    try {
      if (this.options.all) yield* this.#everyLine(file);
      else yield* this.#latestPerStep(file);
    } finally {
      closeFile(file);
    }
  }

  #skip(line: number, reason: string | SkipReason): void {
    this.stats.skipped_lines += 1;
    if (this.stats.skipped.length < KEEP_SKIPPED) this.stats.skipped.push({ line, reason });
  }

  /**
   * Parses a chunk: `records[i]` is line `first + i` as a record, null when it is not one
   * (counted as skipped), undefined for a blank line; `texts` when parsed line by line.
   */
  #parseChunk(chunk: LineChunk, flat: boolean): { records: Array<MetricRecord | null | undefined>; texts: string[] | null } {
    if (chunk.skip !== undefined) {
      this.stats.lines += 1;
      this.#skip(chunk.first, chunk.skip);
      return { records: [null], texts: null };
    }
    const bytes = chunk.first === 1 ? withoutBom(chunk.bytes) : chunk.bytes;
    const native = nativeParser()?.parseMetricLines(bytes) ?? null;
    if (native !== null) {
      const { records, count } = recordsOfNativeLines(native);
      this.stats.lines += count;
      return { records, texts: null };
    }
    if (flat) {
      // Newlines become commas in place (and back afterwards): one decode, one parse.
      const newlines: number[] = [];
      for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) {
        newlines.push(index);
        bytes[index] = COMMA;
      }
      let parsed: unknown[] | null = null;
      try {
        parsed = JSON.parse(`[${bytes.toString("utf8")}]`) as unknown[];
      } catch {
        // NaN / Infinity tokens, or a line that is not JSON: line by line below
      }
      for (const index of newlines) bytes[index] = 0x0a;
      if (parsed !== null && parsed.length === chunk.count) {
        const records = parsed.map(recordOf);
        if (records.every((record) => typeof record !== "string")) {
          this.stats.lines += chunk.count;
          return { records: records as MetricRecord[], texts: null };
        }
      }
    }
    const texts = bytes.toString("utf8").split("\n");
    const records: Array<MetricRecord | null | undefined> = new Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const line = texts[i] as string;
      if (isBlank(line)) continue;
      this.stats.lines += 1;
      records[i] = null;
      if (isTooLong(line)) {
        this.#skip(chunk.first + i, "too long");
        texts[i] = ""; // its step is NaN, as pass 1 found
        continue;
      }
      const record = parseMetricsLine(line);
      if (typeof record === "string") this.#skip(chunk.first + i, record);
      else records[i] = record;
    }
    return { records, texts };
  }

  async *#everyLine(file: OpenedFile): AsyncGenerator<MetricRecord[]> {
    const keys = this.options.keys;
    for await (const chunk of lineChunksOf(file, file.stats.size, MAX_LINE_BYTES)) {
      const out: MetricRecord[] = [];
      for (const record of this.#parseChunk(chunk, false).records) {
        const projected = record && withOnlyKeys(record, keys);
        if (projected) out.push(projected);
      }
      if (out.length > 0) yield out;
    }
  }

  async *#latestPerStep(file: OpenedFile): AsyncGenerator<MetricRecord[]> {
    // Both passes read the same bytes: the file as it was when reading started.
    const size = file.stats.size;
    // Pass 1, on the bytes: the smallest step of each 1 MiB chunk of lines (one number per chunk:
    // bounded by the file's size / 1 MiB), and whether its lines are all the writer's own.
    const maxHeld = this.options.maxHeldSteps ?? MAX_HELD_STEPS;
    const chunkMins: number[] = [];
    const flatChunks: boolean[] = [];
    for await (const chunk of lineChunksOf(file, size, MAX_LINE_BYTES)) {
      if (chunk.skip !== undefined) {
        chunkMins.push(Infinity);
        flatChunks.push(false);
        continue;
      }
      const bytes = chunk.first === 1 ? withoutBom(chunk.bytes) : chunk.bytes;
      let plain = true;
      let min = Infinity;
      for (let start = 0; start <= bytes.length; ) {
        let end = bytes.indexOf(0x0a, start);
        if (end === -1) end = bytes.length;
        if (end > start) {
          // stepOfLineBytes, with whether the line has the writer's own form.
          const shaped = endsLikeRecord(bytes, start, end);
          const plainAt = shaped ? plainStep(bytes, start, end) : -1;
          plain &&= plainAt >= 0;
          const step = plainAt >= 0 ? plainAt : shaped ? stepOfLineBytes(bytes, start, end) : NaN;
          if (step < min) min = step;
        } else {
          plain = false; // a blank line
        }
        start = end + 1;
      }
      chunkMins.push(min);
      flatChunks.push(plain && isFlatChunk(bytes, chunk.count));
    }
    // The smallest step after each chunk.
    const minAfter: number[] = new Array(chunkMins.length);
    for (let i = chunkMins.length - 1, rest = Infinity; i >= 0; i--) {
      minAfter[i] = rest;
      rest = Math.min(rest, chunkMins[i] as number);
    }

    // Pass 2: stream; a step waits (in `held`, a min-heap by step) while the rest of the file has
    // a step as small; past maxHeld waiting, the smallest comes out early.
    interface Held {
      step: number;
      record: MetricRecord | null;
      /** Keys of `record`. */
      names: number;
    }
    const held = new MinHeap<Held>((a, b) => a.step - b.step);
    const heldByStep = new Map<number, Held>();
    const keys = this.options.keys;
    const stats = this.stats;
    let highest = -Infinity;
    let previousStep = NaN;
    let lastEmitted = -Infinity;
    let out: MetricRecord[] = [];
    const emit = (entry: Held) => {
      heldByStep.delete(entry.step);
      if (entry.step <= lastEmitted) stats.unordered += 1;
      lastEmitted = Math.max(lastEmitted, entry.step);
      const projected = entry.record && withOnlyKeys(entry.record, keys);
      if (projected) out.push(projected);
    };

    let chunkIndex = 0;
    for await (const chunk of lineChunksOf(file, size, MAX_LINE_BYTES)) {
      const index = chunkIndex++;
      const { records, texts } = this.#parseChunk(chunk, flatChunks[index] === true);
      if (chunk.skip !== undefined) continue;
      // Each line's step (NaN: not a record), then the smallest step after each line.
      const steps = new Float64Array(records.length);
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        // A parsed record's own step: the number pass 1 read from the bytes of the line.
        steps[i] = record === undefined ? NaN : record !== null ? record.step : stepOfLineText((texts as string[])[i] as string, null);
      }
      const restMin = new Float64Array(records.length);
      for (let i = records.length - 1, rest = minAfter[index] ?? Infinity; i >= 0; i--) {
        restMin[i] = rest;
        const step = steps[i] as number;
        if (step < rest) rest = step;
      }
      for (let i = 0; i < records.length; i++) {
        const step = steps[i] as number;
        if (Number.isNaN(step)) continue; // blank, or counted as skipped above
        const record = records[i] as MetricRecord | null;
        const comesBack = step <= highest;
        if (!comesBack) highest = step;
        const sameBurst = step === previousStep; // another record for the step just logged
        previousStep = step;
        let entry = heldByStep.get(step);
        if (entry === undefined) {
          entry = { step, record: null, names: 0 };
          held.push(entry);
          heldByStep.set(step, entry);
        }
        if (record) {
          if (entry.record === null) {
            entry.record = record;
            for (const _ in record) entry.names += 1;
          } else {
            const merged = mergeRecord(entry.record, entry.names, record);
            entry.names = merged.names;
            stats.values_left_out += merged.leftOut;
            if (comesBack && !sameBurst) stats.superseded += 1;
          }
        }
        // Out: every waiting step below the smallest step still to come.
        const rest = restMin[i] as number;
        while (held.size > 0 && (held.peek() as Held).step < rest) emit(held.pop() as Held);
        while (held.size > maxHeld) emit(held.pop() as Held);
      }
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
    // Lines that changed between the passes (a rewrite under us) may leave steps waiting.
    while (held.size > 0) emit(held.pop() as Held);
    if (out.length > 0) yield out;
  }
}

/** A binary min-heap: held steps come out smallest first, in O(log n) each. */
class MinHeap<T> {
  #items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i] as T, items[parent] as T) >= 0) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.compare(items[left] as T, items[smallest] as T) < 0) smallest = left;
        if (right < items.length && this.compare(items[right] as T, items[smallest] as T) < 0) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as T, items[i] as T];
        i = smallest;
      }
    }
    return top;
  }
}

/** How much of the end of a metrics log is read for its latest values. */
const TAIL_BYTES = 256 * 1024;

/**
 * The latest value of each metric (and the step) in the last lines of a metrics log, as the
 * reader reads them (a line being written, with no newline yet, is not read), and the time of its
 * last record: a run without results.json (still going, or lost) shows where it got to and when,
 * without reading a log of millions of lines.
 */
export function latestLogged(path: string): { values: Record<string, number>; time: number | null } {
  const file = openRegularFile(path);
  let text: string;
  try {
    const end = file.stats.size;
    const start = Math.max(0, end - TAIL_BYTES);
    let bytes = readBytes(file, start, end);
    bytes = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1); // whole lines only
    if (start === 0) bytes = withoutBom(bytes);
    text = bytes.toString("utf8");
    if (start > 0) text = text.slice(text.indexOf("\n") + 1); // the first line is cut
  } finally {
    closeFile(file);
  }
  const latest: Record<string, number> = Object.create(null) as Record<string, number>;
  let time: number | null = null;
  const lines = text.split("\n");
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index] as string;
    if (isBlank(line) || isTooLong(line)) continue;
    const record = parseMetricsLine(line);
    if (typeof record === "string") continue;
    if (time === null && Number.isFinite(record.time)) time = record.time;
    for (const key in record) {
      if (key === "time" || Object.hasOwn(latest, key)) continue;
      setKey(latest, key, record[key] as number);
    }
  }
  return { values: latest, time };
}

/** Streams any metrics.jsonl (NOT_FOUND when it does not exist); see ConfigTracker.readMetrics. */
export function readMetrics(path: string, options: ReadMetricsOptions = {}): MetricsStream {
  checkOptions("readMetrics(path, options)", options, READ_METRICS_OPTION_NAMES);
  return new MetricsStream(path, options, false);
}
