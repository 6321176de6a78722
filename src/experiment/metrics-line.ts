/**
 * The metrics line: one flat JSON object per line of metrics.jsonl, `{"step": 120, "time":
 * 1764322514.123, "train_loss": 2.31}`, as Python's json.dumps writes a dict (NaN, Infinity and
 * -Infinity as bare tokens). The one definition of it: the writer formats lines here, and every
 * reader (the streaming reader, the latest values of a run's log, the addon's fast path through
 * recordsOfNativeLines) takes records from lines here, so that they all read the same bytes the
 * same way (the dashboard's columns too, src/ui/log-columns.ts):
 *  - a UTF-8 BOM before the first line is ignored; a line may end in "\r\n"; a blank line is none;
 *  - a record is a JSON object with a finite number `step`; its `time` (NaN when absent or not a
 *    number) and its other number values are kept, every other value is left out; of duplicate
 *    keys the last wins (as JSON.parse has it);
 *  - anything else (not JSON, torn by a crash, no numeric step, over MAX_LINE_BYTES, no newline
 *    at the end of the file yet) is skipped, with the reason.
 * native/metrics/metric_lines.h is the addon's side: it reads the lines it accepts exactly as
 * here, and hands every other chunk back.
 */
import { MAX_LINE_BYTES } from "../io/append-file.js";
import { setKey } from "../json-value.js";
import type { RawMetricLines } from "../native.js";
import { parsePythonJson } from "../python-json.js";

/** One logged record: step, time (unix seconds) and numeric values. */
export interface MetricRecord {
  step: number;
  time: number;
  [name: string]: number;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** How Python's json module writes a float: NaN, Infinity, -Infinity; -0.0 keeps its sign. */
export function formatMetricValue(value: number): string {
  if (Number.isFinite(value)) return value === 0 && 1 / value < 0 ? "-0.0" : String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}

/** The names `step` and `time` are the line's own. */
export const isReservedMetricName = (name: string): boolean => name === "step" || name === "time";

/** Formats lines; remembers the quoted text of the names it has seen (a training loop logs the same few). */
export class MetricsLineFormat {
  readonly #keyText = new Map<string, string>();

  /**
   * The line for one record (ending in "\n"), or the name of the first value that cannot be in
   * one: not a number, or `step` / `time`.
   */
  line(step: number, time: number, values: Record<string, unknown>): string | { refused: string } {
    let line = `{"step": ${step}, "time": ${time}`;
    for (const name in values) {
      const value = values[name];
      if (typeof value !== "number" || isReservedMetricName(name)) return { refused: name };
      let key = this.#keyText.get(name);
      if (key === undefined) {
        key = `, ${JSON.stringify(name)}: `;
        if (this.#keyText.size < 10_000) this.#keyText.set(name, key);
      }
      line += key + (Number.isFinite(value) && value !== 0 ? String(value) : formatMetricValue(value));
    }
    return `${line}}\n`;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const ZERO = 0x30;
const NINE = 0x39;
// The writer's own lines start `{"step": <digits>,`: their step is read from the bytes.
const STEP_PREFIX = Buffer.from('{"step":');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The bytes of a file's first lines without a UTF-8 BOM before them. */
export function withoutBom(bytes: Buffer): Buffer {
  return bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? bytes.subarray(3) : bytes;
}

/** Why a line is not a record. */
export type LineProblem = "not JSON" | "torn (cut off mid-line)" | "not a JSON object" | "no numeric step" | "too long";

/** The record of a parsed line, or why it is not one. */
export function recordOf(parsed: unknown): MetricRecord | LineProblem {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "not a JSON object";
  const source = parsed as Record<string, unknown>;
  if (typeof source.step !== "number" || !Number.isFinite(source.step)) return "no numeric step";
  let allNumbers = typeof source.time === "number";
  for (const key in source) {
    if (typeof source[key] !== "number") {
      allNumbers = false;
      break;
    }
  }
  if (allNumbers) return source as MetricRecord; // the writer's own lines: no copy
  const record = { step: source.step, time: typeof source.time === "number" ? source.time : NaN } as MetricRecord;
  for (const key in source) {
    const value = source[key];
    if (typeof value === "number" && !isReservedMetricName(key)) setKey(record, key, value);
  }
  return record;
}

/** JSON.parse, with Python's NaN / Infinity tokens accepted (parsed the slow way only when present). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (/NaN|Infinity/.test(text)) return parsePythonJson(text);
    throw error;
  }
}

/** One line of text (no newline) as a record, or why it is not one. `line.length` is not checked against MAX_LINE_BYTES here. */
export function parseMetricsLine(line: string): MetricRecord | LineProblem {
  let parsed: unknown;
  try {
    parsed = parseJson(line);
  } catch {
    const trimmed = line.trim();
    return trimmed.startsWith("{") && !trimmed.endsWith("}") ? "torn (cut off mid-line)" : "not JSON";
  }
  return recordOf(parsed);
}

/** Whether a line of text is longer than MAX_LINE_BYTES (cheaply, for the usual short line). */
export const isTooLong = (line: string): boolean => line.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(line) > MAX_LINE_BYTES;

/** Whether a line of text is blank (a blank line is no line at all). */
export const isBlank = (line: string): boolean => line.length === 0 || (line.length < 8 && line.trim() === "");

/**
 * The step of the line in bytes[start, end) when it has the writer's own form: `{"step":`, an
 * optional space, at most 15 digits (exact as a double), then "," or "}"; -1 otherwise. (A line
 * with a second "step" key, which no writer of this format makes, parses to its last: for it the
 * reader's first pass counts another step than its record has, which only delays when held steps
 * come out, within maxHeldSteps.)
 */
export function plainStep(bytes: Buffer, start: number, end: number): number {
  if (bytes[start] !== OPEN_BRACE) return -1;
  for (let i = 1; i < STEP_PREFIX.length; i++) if (bytes[start + i] !== STEP_PREFIX[i]) return -1;
  let index = start + STEP_PREFIX.length;
  if (bytes[index] === SPACE) index += 1;
  let step = 0;
  const digitsStart = index;
  while (index < end && (bytes[index] as number) >= ZERO && (bytes[index] as number) <= NINE && index - digitsStart < 15) {
    step = step * 10 + ((bytes[index] as number) - ZERO);
    index += 1;
  }
  return index === digitsStart || (bytes[index] !== COMMA && bytes[index] !== CLOSE_BRACE) ? -1 : step;
}

/**
 * The step of a line, NaN for a line that is not a complete record. From the bytes (the
 * reader's first pass) and from the text (its second): both by these rules, so both agree.
 *  - the line, trailing whitespace aside, must end with "}" and be at most MAX_LINE_BYTES;
 *  - the writer's own form (plainStep): those digits;
 *  - otherwise the `step` of the parsed line, when it parses and is a finite number.
 */
export function stepOfLineBytes(bytes: Buffer, start: number, end: number): number {
  if (!endsLikeRecord(bytes, start, end)) return NaN;
  const plain = plainStep(bytes, start, end);
  return plain >= 0 ? plain : stepOfParsed(bytes.toString("utf8", start, end));
}

/** Whether the line in bytes[start, end) ends with "}" (trailing whitespace aside) and is at most MAX_LINE_BYTES. */
export function endsLikeRecord(bytes: Buffer, start: number, end: number): boolean {
  let last = end - 1;
  while (last >= start && (bytes[last] === SPACE || bytes[last] === CR || bytes[last] === TAB)) last -= 1;
  return last >= start && bytes[last] === CLOSE_BRACE && end - start <= MAX_LINE_BYTES;
}

/** stepOfLineBytes for a line as text (`parsed`: the line parsed already, or null). */
export function stepOfLineText(text: string, parsed: MetricRecord | null): number {
  let last = text.length - 1;
  while (last >= 0 && (text.charCodeAt(last) === SPACE || text.charCodeAt(last) === CR || text.charCodeAt(last) === TAB)) last -= 1;
  if (last < 0 || text.charCodeAt(last) !== CLOSE_BRACE) return NaN;
  if (parsed !== null) return parsed.step;
  const plain = plainStep(Buffer.from(text), 0, Buffer.byteLength(text));
  return plain >= 0 ? plain : stepOfParsed(text);
}

function stepOfParsed(text: string): number {
  try {
    const step = (parseJson(text) as { step?: unknown } | null)?.step;
    return typeof step === "number" && Number.isFinite(step) ? step : NaN;
  } catch {
    return NaN;
  }
}

/**
 * A chunk whose every line is `{"step": N, ...}` with no other "{" and no "[": flat records, one
 * per line. Such a chunk parses as one JSON array (a fifth faster than a parse per line), and no
 * line can run into the next: an object can only open at the start of a line, and no string or
 * container can stay open across a newline into a line that starts with `{"step": N`.
 */
export function isFlatChunk(bytes: Buffer, count: number): boolean {
  if (bytes.indexOf(0x5b) !== -1) return false;
  let braces = 0;
  for (let index = bytes.indexOf(OPEN_BRACE); index !== -1; index = bytes.indexOf(OPEN_BRACE, index + 1)) {
    if (++braces > count) return false;
  }
  return braces === count;
}

/** The addon's fast path: what parseMetricLines gives for a blank line. */
export const NATIVE_BLANK_LINE = 0xffffffff;
type RecordFactory = (values: Float64Array, offset: number) => MetricRecord;
const factories = new Map<string, RecordFactory>();

/**
 * A function that builds a record with these keys from consecutive values: one object literal,
 * so every record of a key set shares one hidden class (building them key by key is 3x slower).
 * The keys are the native parser's: printable ASCII without quotes or backslashes, never
 * "__proto__", and JSON.stringify quotes them as property names.
 */
function recordFactory(keys: string[]): RecordFactory {
  const signature = keys.join("\u0000");
  let factory = factories.get(signature);
  if (factory === undefined) {
    const fields = keys.map((key, index) => `${JSON.stringify(key)}: v[i + ${index}]`);
    // Without a time, records look as recordOf makes them: step, time NaN, then the rest.
    const ordered = keys.includes("time")
      ? fields
      : [fields[keys.indexOf("step")] as string, '"time": NaN', ...fields.filter((_, index) => keys[index] !== "step")];
    const body = `return {${ordered.join(", ")}};`;
    factory = new Function("v", "i", body) as RecordFactory;
    if (factories.size >= 1024) factories.clear();
    factories.set(signature, factory);
  }
  return factory;
}

/** A key set of the addon's parseMetricLines: where a line of it holds the step, the time and each metric. */
export interface NativeShape {
  /** Values per line of this shape. */
  width: number;
  step: number;
  /** -1: the lines have no time (NaN). */
  time: number;
  /** The metrics: their names and where each line holds them. */
  names: string[];
  at: number[];
}

/** The key sets of parseMetricLines' output, for readers that take its values without building records. */
export function nativeShapes(native: RawMetricLines): NativeShape[] {
  return native.shapes.map((keys) => {
    const at: number[] = [];
    keys.forEach((key, index) => {
      if (!isReservedMetricName(key)) at.push(index);
    });
    return { width: keys.length, step: keys.indexOf("step"), time: keys.indexOf("time"), names: at.map((index) => keys[index] as string), at };
  });
}

/**
 * The records of the lines the addon's parseMetricLines read (native/metrics/metric_lines.h):
 * `records[i]` is line i's record, undefined for a blank line, exactly what parseMetricsLine gives
 * for each line; `count` of them are not blank.
 */
export function recordsOfNativeLines(native: RawMetricLines): { records: Array<MetricRecord | undefined>; count: number } {
  const builders = native.shapes.map(recordFactory);
  const sizes = native.shapes.map((keys) => keys.length);
  const records: Array<MetricRecord | undefined> = new Array(native.shapeOfLine.length);
  let offset = 0;
  let count = 0;
  for (let i = 0; i < native.shapeOfLine.length; i++) {
    const shape = native.shapeOfLine[i] as number;
    if (shape === NATIVE_BLANK_LINE) continue;
    records[i] = (builders[shape] as RecordFactory)(native.values, offset);
    offset += sizes[shape] as number;
    count += 1;
  }
  return { records, count };
}
