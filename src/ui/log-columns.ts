/**
 * Logs read into columns, from where the last read stopped: metrics.jsonl (every metric) and the
 * system logs (each GPU's figures, the process tree's CPU and memory). A source is stamped with
 * the size, modification time and inode it had, the offset read to, and a hash of the bytes
 * before that offset: a log that grew with those bytes unchanged is read on from there; any other
 * change (rewritten, truncated, replaced) is read again from the start.
 */
import { createHash } from "node:crypto";

import { ColumnSet } from "./columns.js";
import { closeFile, openInside, readBytes, type Roots } from "./safe-files.js";
import { addonWith, isBlank, MAX_LINE_BYTES, parseMetricsLine, parsePythonJson, readLinesFrom, withoutBom, type NativeAddon } from "./views.js";

export type LogKind = "metrics" | "system";

export interface SourceStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  /** Offset after the last whole line read. */
  end: number;
  /** sha1 of the (up to) 4 KiB before `end`. */
  tail: string;
}

export interface LogColumns {
  kind: LogKind;
  set: ColumnSet;
  stamp: SourceStamp;
}

const TAIL_BYTES = 4096;

function tailHash(path: string, roots: Roots, end: number): string {
  if (end === 0) return "";
  const file = openInside(path, roots);
  try {
    return createHash("sha1").update(readBytes(file, Math.max(0, end - TAIL_BYTES), end)).digest("hex");
  } finally {
    closeFile(file);
  }
}

/** Whether `stamp` still describes the file (same size and time: nothing to read). */
export function isCurrent(stamp: SourceStamp, stats: { size: number; mtimeMs: number; ino: number }): boolean {
  return stamp.size === stats.size && stamp.mtimeMs === stats.mtimeMs && stamp.ino === stats.ino;
}

/**
 * Reads what `previous` has not read yet (everything when there is none, or when the file is
 * not the one it read); returns the columns (the same object extended, or a new one).
 */
export function readLogColumns(path: string, roots: Roots, kind: LogKind, previous: LogColumns | null): LogColumns {
  let set = previous?.set ?? new ColumnSet();
  let from = 0;
  if (previous !== null) {
    const { stamp } = previous;
    const file = openInside(path, roots);
    const { size, mtimeMs, ino } = file.stats;
    closeFile(file);
    if (isCurrent(stamp, { size, mtimeMs, ino })) return previous;
    const grown = ino === stamp.ino && size >= stamp.end && tailHash(path, roots, stamp.end) === stamp.tail;
    if (grown) from = stamp.end;
    else set = new ColumnSet();
  }
  const parse = kind === "metrics" ? parseMetricLines : parseSystemLines;
  let first = from === 0; // a BOM before the first line is not part of it
  const read = readLinesFrom(
    path,
    from,
    MAX_LINE_BYTES,
    (lines) => {
      parse(first ? withoutBom(lines) : lines, set);
      first = false;
    },
    roots,
  );
  set.skippedLines += read.tooLong;
  set.settle();
  return { kind, set, stamp: { size: read.size, mtimeMs: read.mtimeMs, ino: read.ino, end: read.end, tail: tailHash(path, roots, read.end) } };
}

// --- metrics.jsonl ---------------------------------------------------------------------------

let addon: NativeAddon | null | undefined;
function nativeParser(): NativeAddon | null {
  if (addon === undefined) addon = addonWith("metricColumns");
  return addon;
}

/** Turns the addon's parser off (or on again): the tests compare both ways on the same bytes. */
export function useNativeColumns(enabled: boolean): void {
  addon = enabled ? undefined : null;
}

/** The array the addon fills for each chunk (grown as chunks need). */
let scratch: Float64Array = new Float64Array(0);

/**
 * Lines read by the metrics line codec (experiment/metrics-line.ts): the tracker's flat lines
 * through the addon, which hands them back by metric (every key but the codec's reserved step and
 * time, as nativeShapes takes them), so each metric's points are appended as one block; a chunk
 * with any other line, line by line.
 */
export function parseMetricLines(bytes: Buffer, set: ColumnSet): void {
  const native = nativeParser()?.metricColumns(bytes, scratch) ?? null;
  if (native !== null) {
    if (native.data.length > scratch.length) scratch = native.data;
    let at = 0;
    native.keys.forEach((name, k) => {
      const count = native.counts[k] as number;
      set.addColumn(name, native.data, at, count);
      at += 3 * count;
    });
    return;
  }
  for (const line of bytes.toString("utf8").split("\n")) {
    if (isBlank(line)) continue;
    const record = parseMetricsLine(line);
    if (typeof record === "string") {
      set.skippedLines += 1;
      continue;
    }
    for (const key in record) if (key !== "step" && key !== "time") set.add(key, record.step, record.time, record[key] as number);
  }
}

function parseObject(line: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    if (!/NaN|Infinity/.test(line)) return null;
    try {
      parsed = parsePythonJson(line);
    } catch {
      return null;
    }
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
}

// --- system.jsonl ----------------------------------------------------------------------------

/** The per-GPU figures charted, and the process tree's. */
export const GPU_FIGURES = ["utilization_gpu_percent", "sm_active_percent", "memory_used_bytes", "power_watts", "temperature_c"] as const;
export const PROCESS_FIGURES = ["cpu_percent", "rss_bytes"] as const;

/**
 * One series per GPU and figure (`gpu<i>/<figure>`, `node<k>/gpu<i>/<figure>` on node k > 0) and
 * per node for the process tree (`process/<figure>`); x is the sample's time (its "step" is the
 * sample's number in the log).
 */
export function parseSystemLines(bytes: Buffer, set: ColumnSet): void {
  for (const line of bytes.toString("utf8").split("\n")) {
    if (line.trim() === "") continue;
    const sample = parseObject(line);
    const time = sample?.time;
    if (sample === null || typeof time !== "number" || !Number.isFinite(time) || !Array.isArray(sample.gpus)) {
      set.skippedLines += 1;
      continue;
    }
    const node = typeof sample.node === "number" && sample.node > 0 ? `node${sample.node}/` : "";
    for (const gpu of sample.gpus as Array<Record<string, unknown>>) {
      if (typeof gpu !== "object" || gpu === null || typeof gpu.index !== "number") continue;
      for (const figure of GPU_FIGURES) {
        const value = gpu[figure];
        if (typeof value === "number") set.add(`${node}gpu${gpu.index}/${figure}`, time, time, value);
      }
    }
    const tree = sample.process_tree as Record<string, unknown> | undefined;
    if (typeof tree === "object" && tree !== null) {
      for (const figure of PROCESS_FIGURES) {
        const value = tree[figure];
        if (typeof value === "number") set.add(`${node}process/${figure}`, time, time, value);
      }
    }
  }
}
