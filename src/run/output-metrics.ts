/**
 * Metrics a trainer prints, read without changing the trainer: JSON lines with a numeric step
 * (`{"step": 100, "loss": 2.31}`), or plain text through a regular expression with named groups
 * (nanoGPT's `iter 100: loss 2.3012, time 45.21ms` with
 * `iter (?<step>\d+): loss (?<loss>[\d.]+), time (?<time_ms>[\d.]+)ms`).
 */
import { ConfigTrackerError } from "../errors.js";
import { emptyRecord, setKey } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";

export interface LineMetrics {
  step: number;
  values: Record<string, number>;
  /** When the record was made (unix seconds), when the line says: its own `time` / `timestamp`. */
  time?: number;
}

/** A unix time in seconds (2001..2286), not a duration or a step time in ms. */
export const isUnixSeconds = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 1e9 && value < 1e10;

export type LineParser = (line: string) => LineMetrics | null;

const RESERVED = new Set(["step", "time"]);

function isStep(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A line that is a JSON object with a numeric `step`: its numeric fields. Its `time`, when it is
 * a unix time in seconds, says when the record was made; any other `time` is left out (the name is
 * the tracker's).
 */
export function jsonLineMetrics(line: string): LineMetrics | null {
  const trimmed = line.trim();
  if (trimmed.length < 2 || trimmed[0] !== "{" || trimmed[trimmed.length - 1] !== "}") return null;
  let parsed: unknown;
  try {
    parsed = parsePythonJson(trimmed);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  if (!isStep(record.step)) return null;
  const values: Record<string, number> = emptyRecord();
  let any = false;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== "number" || RESERVED.has(key)) continue;
    setKey(values, key, value);
    any = true;
  }
  if (!any) return null;
  const time = record.time ?? record.timestamp;
  return isUnixSeconds(time) ? { step: record.step, values, time } : { step: record.step, values };
}

/** Compiles --metrics-regex: it must have a `step` group and at least one other named group. */
export function regexLineMetrics(source: string): LineParser {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `--metrics-regex: not a regular expression: ${(error as Error).message}`);
  }
  const groups = [...source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((match) => match[1] as string);
  if (!groups.includes("step")) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "--metrics-regex: needs a named group `step`, e.g. iter (?<step>\\d+)");
  }
  const names = groups.filter((name) => name !== "step");
  if (names.length === 0) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "--metrics-regex: needs a named group per metric, e.g. loss (?<loss>[\\d.]+)");
  }
  if (names.includes("time")) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "--metrics-regex: `time` is written by the tracker; name the group time_ms or similar");
  }
  return (line) => {
    const match = pattern.exec(line);
    const found = match?.groups;
    if (!found) return null;
    const step = Number(found.step);
    if (!isStep(step)) return null;
    const values: Record<string, number> = emptyRecord();
    let any = false;
    for (const name of names) {
      const text = found[name];
      if (text === undefined) continue;
      const value = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$|^\s*-?(?:nan|inf(?:inity)?)\s*$/i.test(text)
        ? parseNumber(text)
        : NaN;
      if (Number.isNaN(value) && !/nan/i.test(text)) continue; // not a number: left out
      setKey(values, name, value);
      any = true;
    }
    return any ? { step, values } : null;
  };
}

function parseNumber(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "nan" || trimmed === "-nan") return NaN;
  if (trimmed === "inf" || trimmed === "infinity") return Infinity;
  if (trimmed === "-inf" || trimmed === "-infinity") return -Infinity;
  return Number(trimmed);
}

/** Lines torchrun --tee prefixes with "[default0]:": local rank 0's are kept, others dropped. */
const TORCHRUN_PREFIX = /^\[[A-Za-z_-]*(\d+)\]:/;

/**
 * The metrics of one line of the command's output: a JSON line, else the first regex that
 * matches; null for other output. Lines from other local ranks than 0 (torchrun --tee) are not
 * metrics.
 */
export function metricsOfOutputLine(line: string, regexes: LineParser[]): LineMetrics | null {
  let text = line;
  const prefixed = TORCHRUN_PREFIX.exec(text);
  if (prefixed) {
    if (prefixed[1] !== "0") return null;
    text = text.slice(prefixed[0].length);
  }
  let metrics = jsonLineMetrics(text);
  for (let i = 0; metrics === null && i < regexes.length; i++) metrics = (regexes[i] as LineParser)(text);
  return metrics;
}

/**
 * Splits a byte stream into lines (across chunk boundaries), each given to `onLine` without its
 * newline. A line longer than maxLineBytes is passed on cut (it is output, not a record).
 */
export class LineSplitter {
  #pending = "";
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineChars = 1024 * 1024,
  ) {}

  push(chunk: string): void {
    let text = this.#pending + chunk;
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      this.onLine(text.slice(start, newline).replace(/\r$/, ""));
      start = newline + 1;
    }
    text = text.slice(start);
    if (text.length > this.maxLineChars) {
      this.onLine(text);
      text = "";
    }
    this.#pending = text;
  }

  end(): void {
    if (this.#pending !== "") this.onLine(this.#pending);
    this.#pending = "";
  }
}
