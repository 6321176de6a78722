/**
 * Metrics a trainer prints, read without changing the trainer: JSON lines with a numeric step
 * (`{"step": 100, "loss": 2.31}`), or plain text through a regular expression with named groups
 * (nanoGPT's `iter 100: loss 2.3012, time 45.21ms` with
 * `iter (?<step>\d+): loss (?<loss>[\d.]+), time (?<time_ms>[\d.]+)ms`).
 */
import { setFlagsFromString } from "node:v8";

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

/**
 * Lines longer than this are not matched against --metrics-regex (a printed metrics line is a few
 * hundred characters): with the linear-time engine one match then takes a fraction of a second
 * whatever the pattern, and a pipe's chunk of output a second at most, so signals are answered.
 */
export const MAX_REGEX_LINE_CHARS = 16 * 1024;

let linearEngine = false;

/**
 * A regular expression from the user, matched by V8's linear-time engine (the `l` flag): however
 * it is written, matching a line takes time proportional to the line, so `(a+)+$` against a long
 * line cannot stall the wrapper (which must go on answering signals). The engine has no
 * backreferences (and, before Node 22, no lookarounds): such a pattern is refused with the reason.
 */
export function linearRegExp(source: string): RegExp {
  if (!linearEngine) {
    setFlagsFromString("--enable-experimental-regexp-engine");
    linearEngine = true;
  }
  try {
    new RegExp(source);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `--metrics-regex: not a regular expression: ${(error as Error).message}`);
  }
  try {
    return new RegExp(source, "l");
  } catch {
    throw new ConfigTrackerError(
      "INVALID_ARGUMENT",
      `--metrics-regex: ${JSON.stringify(source)} cannot be matched in linear time (backreferences such as \\1, or lookarounds on this Node): write it without them`,
    );
  }
}

/** Compiles --metrics-regex: it must have a `step` group and at least one other named group. */
export function regexLineMetrics(source: string): LineParser {
  const pattern = linearRegExp(source);
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
    if (line.length > MAX_REGEX_LINE_CHARS) return null;
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
