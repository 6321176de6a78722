/**
 * The dashboard's index between starts: every row with the stamp it was read at, the folders
 * listed to find the runs, and the runs that could not be read. Derived data, kept in the user's
 * cache folder (`<cache>/ui/index-<sha1 of the roots>.snapshot`) and trusted only as far as the
 * stamps still match the folders (run-index.ts checks every one). A file that does not read back
 * is ignored.
 *
 * Format: "CTIDX001", a u32 (little-endian) header length, the header (JSON as Python writes it:
 * roots, metric names, containers, rows without their metrics, problems), zero padding to a
 * multiple of 8, then float64s: for each row in order its metric ids, last values and best values.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { endianness } from "node:os";
import { dirname, join } from "node:path";

import type { Container, IndexProblem } from "./run-index.js";
import { MetricValues, metricNames, type RunRow } from "./run-row.js";
import { parsePythonJson, stringifyPythonJson } from "./views.js";

const MAGIC = "CTIDX001";
const VERSION = 1;
const MAX_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface Snapshot {
  roots: string[];
  containers: Map<string, Container>;
  rows: Map<string, RunRow>;
  problems: Map<string, IndexProblem>;
}

type StoredRow = Omit<RunRow, "metrics" | "config"> & { config: Array<[string, number | string | boolean | null]>; m: number };

/** Where the snapshot of these roots is kept, under the user's cache folder. */
export function snapshotFile(cacheDir: string, roots: string[]): string {
  return join(cacheDir, "ui", `index-${createHash("sha1").update(roots.join("\u0000")).digest("hex")}.snapshot`);
}

export function writeSnapshot(file: string, snapshot: Snapshot): void {
  if (endianness() !== "LE") return;
  const rows: StoredRow[] = [];
  const blocks: Float64Array[] = [];
  for (const row of snapshot.rows.values()) {
    const { metrics, config, ...rest } = row;
    rows.push({ ...rest, config: [...config], m: metrics.ids.length });
    blocks.push(Float64Array.from(metrics.ids), metrics.last, metrics.best);
  }
  const header = Buffer.from(
    stringifyPythonJson(
      {
        version: VERSION,
        roots: snapshot.roots,
        names: metricNames.names,
        containers: [...snapshot.containers].map(([dir, container]) => [dir, container.mtimeMs, container.ctimeMs, container.children]),
        rows,
        problems: [...snapshot.problems].map(([name, problem]) => [name, problem.dir, problem.message, problem.stamp, problem.present]),
      },
      0,
    ),
  );
  const start = Buffer.alloc(Math.ceil((12 + header.length) / 8) * 8);
  start.write(MAGIC, 0, "latin1");
  start.writeUInt32LE(header.length, 8);
  header.copy(start, 12);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temporary, Buffer.concat([start, ...blocks.map((block) => Buffer.from(block.buffer, block.byteOffset, block.byteLength))]));
    renameSync(temporary, file);
  } catch {
    // a cache that cannot be written: the next start reads every run
    try {
      unlinkSync(temporary);
    } catch {
      // never made
    }
  }
}

/** The snapshot of these roots, or null (none, another version, unreadable). */
export function readSnapshot(file: string, roots: string[]): Snapshot | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return null;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size < 12 || info.size > MAX_BYTES || endianness() !== "LE") return null;
    const bytes = Buffer.allocUnsafe(info.size);
    for (let filled = 0; filled < bytes.length; ) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) return null;
      filled += read;
    }
    if (bytes.toString("latin1", 0, 8) !== MAGIC) return null;
    const length = bytes.readUInt32LE(8);
    if (12 + length > bytes.length) return null;
    const header = parsePythonJson(bytes.toString("utf8", 12, 12 + length)) as {
      version: number;
      roots: string[];
      names: string[];
      containers: Array<[string, number, number, string[]]>;
      rows: StoredRow[];
      problems: Array<[string, string, string, string, string[]]>;
    };
    if (header.version !== VERSION || JSON.stringify(header.roots) !== JSON.stringify(roots)) return null;
    const dataStart = Math.ceil((12 + length) / 8) * 8;
    const floats = new Float64Array(bytes.buffer, bytes.byteOffset + dataStart, (bytes.length - dataStart) / 8);
    // Ids as this process numbers the names (the same numbers when it has none yet: the rows' sorted ids are used as stored).
    const ids = header.names.map((name) => metricNames.id(name));
    const same = ids.every((id, index) => id === index);
    const rows = new Map<string, RunRow>();
    let at = 0;
    for (const stored of header.rows) {
      const n = stored.m;
      if (at + 3 * n > floats.length) return null;
      const row = stored as unknown as RunRow & { m?: number };
      delete row.m;
      row.config = new Map(stored.config);
      if (same) {
        row.metrics = new MetricValues(Uint32Array.from(floats.subarray(at, at + n)), floats.slice(at + n, at + 2 * n), floats.slice(at + 2 * n, at + 3 * n));
        at += 3 * n;
        rows.set(row.name, row);
        continue;
      }
      const entries: Array<[string, number, number | undefined]> = [];
      for (let i = 0; i < n; i++) {
        const name = metricNames.names[ids[floats[at + i] as number] as number] as string;
        const best = floats[at + 2 * n + i] as number;
        entries.push([name, floats[at + n + i] as number, Number.isNaN(best) ? undefined : best]);
      }
      at += 3 * n;
      row.metrics = MetricValues.from(entries);
      rows.set(row.name, row);
    }
    return {
      roots: header.roots,
      containers: new Map(header.containers.map(([dir, mtimeMs, ctimeMs, children]) => [dir, { mtimeMs, ctimeMs, children }])),
      rows,
      problems: new Map(header.problems.map(([name, dir, message, stamp, present]) => [name, { dir, message, stamp, present }])),
    };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
