/**
 * Writing metrics.jsonl (its line: metrics-line.ts).
 *
 * logMetrics is called from training loops, so a call only validates, formats and buffers (a
 * few microseconds). Lines go to the file within a second, when 1 MiB is buffered, on flush(),
 * and when the process ends (lifecycle.ts), through appendLinesSync: whole lines per write(2)
 * on an O_APPEND descriptor, so several processes can append to one file.
 */
import { ConfigTrackerError } from "../errors.js";
import { appendLinesSync, MAX_LINE_BYTES } from "../io/append-file.js";
import { keyPath } from "../json-value.js";
import { isReservedMetricName, MetricsLineFormat } from "./metrics-line.js";

const FLUSH_INTERVAL_MS = 1000;
const FLUSH_AT_BYTES = 1024 * 1024;
/** When the file cannot be written (disk full), keep this much, then drop the oldest lines. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Checks a step for logMetrics / recordCheckpoint: a non-negative integer. */
export function checkStep(step: unknown, key = "step"): number {
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new ConfigTrackerError(
      "INVALID_CONFIG",
      `${key}: must be a non-negative integer (got ${typeof step === "number" ? step : typeof step})`,
      { key },
    );
  }
  return step;
}

function refuseValues(key: string): never {
  throw new ConfigTrackerError("INVALID_CONFIG", `${key}: must be an object of metric values ({ name: number })`, { key });
}

function refuseValue(key: string, name: string, value: unknown): never {
  const path = keyPath(key, name);
  if (isReservedMetricName(name)) {
    throw new ConfigTrackerError("INVALID_CONFIG", `${path}: "${name}" is written by the tracker; use another name`, { key: path });
  }
  const what =
    value === null || value === undefined
      ? String(value)
      : typeof value === "object"
        ? Array.isArray(value)
          ? "an array"
          : "a nested object"
        : `a ${typeof value}`;
  throw new ConfigTrackerError(
    "INVALID_CONFIG",
    `${path}: ${what} cannot be logged: metric values are numbers (log one name per number, e.g. "${name}_mean")`,
    { key: path },
  );
}

/** A plain object (no class instance, Map or array), without Symbol keys. */
function checkPlainValues(values: unknown, key: string): asserts values is Record<string, unknown> {
  if (typeof values !== "object" || values === null || Array.isArray(values)) refuseValues(key);
  const prototype = Object.getPrototypeOf(values) as object | null;
  if (prototype !== Object.prototype && prototype !== null) refuseValues(key);
  if (Object.getOwnPropertySymbols(values).length > 0) {
    throw new ConfigTrackerError("INVALID_CONFIG", `${key}: Symbol keys cannot be logged`, { key });
  }
}

/**
 * Checks metric values: a flat object of numbers. Returns the entries; names the key of the
 * first value that is not a number.
 */
export function checkMetricValues(values: unknown, key = "metrics"): Array<[string, number]> {
  checkPlainValues(values, key);
  const entries = Object.entries(values);
  for (const [name, value] of entries) {
    if (typeof value !== "number" || isReservedMetricName(name)) refuseValue(key, name, value);
  }
  return entries as Array<[string, number]>;
}

export class MetricsWriter {
  #buffer: string[] = [];
  #bufferedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #format = new MetricsLineFormat();
  /** Lines dropped because the file could not be written for a long time. */
  droppedLines = 0;
  /** The last background write failure; flush() reports it. */
  lastError: ConfigTrackerError | undefined;

  constructor(readonly path: string) {}

  get bufferedLines(): number {
    return this.#buffer.length;
  }

  /** Checks `values` (as checkMetricValues does) and buffers the line, in one pass. */
  append(step: number, values: unknown, time = Date.now() / 1000): void {
    checkPlainValues(values, "metrics");
    const line = this.#format.line(step, time, values);
    if (typeof line !== "string") refuseValue("metrics", line.refused, values[line.refused]);
    const bytes = line.length * 3 > MAX_LINE_BYTES ? Buffer.byteLength(line) : line.length;
    if (bytes > MAX_LINE_BYTES) {
      throw new ConfigTrackerError("LIMIT_EXCEEDED", `metrics: one record is larger than 1 MiB as JSON (${bytes} bytes)`, {
        key: "metrics",
      });
    }
    this.#buffer.push(line);
    this.#bufferedBytes += bytes;
    if (this.#bufferedBytes >= FLUSH_AT_BYTES) this.#flushInBackground();
    else this.#timer ??= setTimeout(() => this.#flushInBackground(), FLUSH_INTERVAL_MS).unref();
  }

  /** Writes every buffered line; throws WRITE_FAILED (keeping the unwritten lines) on failure. */
  flushSync(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buffer.length === 0) return;
    const lines = this.#buffer;
    this.#buffer = [];
    this.#bufferedBytes = 0;
    let written = 0;
    try {
      written = appendLinesSync(this.path, lines);
      this.lastError = undefined;
    } catch (error) {
      written = (error as { linesWritten?: number }).linesWritten ?? 0;
      this.#keep(lines.slice(written));
      this.lastError = error as ConfigTrackerError;
      throw error;
    }
  }

  #flushInBackground(): void {
    try {
      this.flushSync();
    } catch {
      // Kept in the buffer and retried; flush() and saveResults() report the error.
      this.#timer ??= setTimeout(() => this.#flushInBackground(), FLUSH_INTERVAL_MS).unref();
    }
  }

  #keep(unwritten: string[]): void {
    const lines = unwritten.concat(this.#buffer);
    let bytes = lines.reduce((sum, line) => sum + line.length, 0);
    let drop = 0;
    while (bytes > MAX_BUFFERED_BYTES && drop < lines.length) bytes -= (lines[drop++] as string).length;
    this.droppedLines += drop;
    this.#buffer = drop > 0 ? lines.slice(drop) : lines;
    this.#bufferedBytes = bytes;
  }
}
