/**
 * The dashboard's index between starts: every row with the stamp it was read at, the folders
 * listed to find the runs, and the runs that could not be read. Derived data, kept in the user's
 * cache folder (`<cache>/ui/index-<sha1 of the roots>.snapshot`) and trusted only as far as the
 * stamps still match the folders (run-index.ts checks every one). A file that does not read back
 * is ignored.
 *
 * Format: "CTIDX002", a u32 (little-endian) header length, the header (JSON, see Header), zero
 * padding to a multiple of 8, the rows' numeric stamps (float64s, folder-stamps.ts), then one
 * block per metric: the rows that have it (u32s, padded to a multiple of 8 bytes), their last
 * values and their best values (float64s). A start reads the header and the stamps; a metric's
 * block is read when its values are first asked for (the file stays open until then), so 1,500
 * runs of 1,500 metrics start by reading the few metrics the page shows.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { endianness } from "node:os";
import { dirname, join, sep } from "node:path";

import { STAMP_FIGURES, type FolderStamp } from "./folder-stamps.js";
import type { Container, IndexProblem } from "./run-index.js";
import { MetricValues, metricNames, type MetricColumnSource, type RunRow, type StatusFields } from "./run-row.js";

const MAGIC = "CTIDX002";
const VERSION = 2;
const MAX_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface Snapshot {
  roots: string[];
  containers: Map<string, Container>;
  rows: Map<string, RunRow>;
  problems: Map<string, IndexProblem>;
  /** Closes the file the rows' metric values are read from (reading them all first). */
  release(): void;
}

type Value = number | string | boolean | null;
/** A number that JSON cannot hold (NaN, Infinity, -Infinity) is written as {"n": "NaN"}: no value of these fields is an object. */
type Stored<T> = T | { n: string };

/**
 * A row, by position: name, dir (0: its root joined with its name), id (0: the last part of its
 * name), loadedStatus, state (STATE_KEYS' values), started_at, duration_seconds, git (index into
 * objects), gpu (index), parameters, host, notes (index), hasResults, warnings, present (index),
 * metric set (index), config keys (index into configShapes), config values, text stamp (null: its
 * numbers are in the stamp block).
 */
type StoredRow = [
  string,
  string | 0,
  string | 0,
  string,
  Stored<Value>[] | null,
  string,
  Stored<number> | null,
  number,
  number,
  Stored<number> | null,
  string | null,
  number,
  boolean,
  string[],
  number,
  number,
  number,
  Stored<Value>[],
  string | null,
];

interface Header {
  version: number;
  roots: string[];
  /** Metric names; a metric's block and the metric sets refer to it by its place here. */
  names: string[];
  containers: Array<[string, number, number, string[]]>;
  presents: string[][];
  metricSets: number[][];
  configShapes: string[][];
  /** The rows' git, gpu and notes objects, each once. */
  objects: unknown[];
  rows: StoredRow[];
  /** float64s in the stamp block. */
  stamps: number;
  /** Per metric (as in names): its block's byte offset from the end of the stamp block, and how many rows have it. */
  columns: Array<[number, number]>;
  /** name, dir, message, stamp (text or numbers), present. */
  problems: Array<[string, string, string, string | number[], string[]]>;
}

const STATE_KEYS = ["status", "updated_at", "pid", "host", "boot_id", "ended_at", "exit_code", "signal", "error", "last_step"] as const;

const store = <T extends Value>(value: T): Stored<T> => (typeof value === "number" && !Number.isFinite(value) ? { n: String(value) } : value);
const revive = <T extends Value>(value: Stored<T>): T =>
  (typeof value === "object" && value !== null ? Number((value as { n: string }).n) : value) as T;
const lastPart = (name: string) => name.slice(name.lastIndexOf("/") + 1);

/** Where the snapshot of these roots is kept, under the user's cache folder. */
export function snapshotFile(cacheDir: string, roots: string[]): string {
  return join(cacheDir, "ui", `index-${createHash("sha1").update(roots.join("\u0000")).digest("hex")}.snapshot`);
}

const pad8 = (bytes: number) => Math.ceil(bytes / 8) * 8;

export function writeSnapshot(file: string, snapshot: Omit<Snapshot, "release">): void {
  if (endianness() !== "LE") return;
  const presents = new Interner<string[]>((list) => list.join("\u0000"));
  const metricSets = new Interner<Uint32Array>((ids) => ids.join(","));
  const configShapes = new Interner<string[]>((keys) => keys.join("\u0000"));
  const objects = new Interner<unknown>((value) => JSON.stringify(value));
  const rows: StoredRow[] = [];
  const stampBlocks: Float64Array[] = [];
  let stamps = 0;
  const list = [...snapshot.rows.values()];
  // Per metric id: how many rows have it, then its rows and values.
  const counts = new Uint32Array(metricNames.names.length);
  for (const row of list) for (const id of row.metrics.ids) counts[id] = (counts[id] as number) + 1;
  const blocks = Array.from(counts, (count) => ({ rows: new Uint32Array(count), last: new Float64Array(count), best: new Float64Array(count), filled: 0 }));
  const root = snapshot.roots.length === 1 ? (snapshot.roots[0] as string) : null;
  list.forEach((row, index) => {
    const { ids, last, best } = row.metrics;
    for (let i = 0; i < ids.length; i++) {
      const block = blocks[ids[i] as number] as (typeof blocks)[number];
      block.rows[block.filled] = index;
      block.last[block.filled] = last[i] as number;
      block.best[block.filled] = best[i] as number;
      block.filled += 1;
    }
    const numeric = typeof row.stamp !== "string";
    if (numeric) {
      stampBlocks.push(row.stamp as Float64Array);
      stamps += (row.stamp as Float64Array).length;
    }
    rows.push([
      row.name,
      root !== null && `${root}${sep}${row.name.split("/").join(sep)}` === row.dir ? 0 : row.dir,
      row.id === lastPart(row.name) ? 0 : row.id,
      row.loadedStatus,
      row.state === null ? null : STATE_KEYS.map((key) => store((row.state as StatusFields)[key] ?? null)),
      row.started_at,
      row.duration_seconds === null ? null : store(row.duration_seconds),
      objects.id(row.git),
      objects.id(row.gpu),
      row.parameters === null ? null : store(row.parameters),
      row.host,
      objects.id(row.notes),
      row.hasResults,
      row.warnings,
      presents.id(row.present),
      metricSets.id(ids),
      configShapes.id([...row.config.keys()]),
      [...row.config.values()].map(store),
      numeric ? null : (row.stamp as string),
    ]);
  });
  const columns: Array<[number, number]> = [];
  const columnBlocks: Uint8Array[] = [];
  let offset = 0;
  for (const block of blocks) {
    const rowBytes = pad8(block.rows.byteLength);
    columns.push([offset, block.rows.length]);
    const rowsPadded = new Uint8Array(rowBytes);
    rowsPadded.set(new Uint8Array(block.rows.buffer, block.rows.byteOffset, block.rows.byteLength));
    columnBlocks.push(rowsPadded, bytesOf(block.last), bytesOf(block.best));
    offset += rowBytes + block.last.byteLength + block.best.byteLength;
  }
  const header: Header = {
    version: VERSION,
    roots: snapshot.roots,
    names: metricNames.names,
    containers: [...snapshot.containers].map(([dir, container]) => [dir, container.mtimeMs, container.ctimeMs, container.children]),
    presents: presents.values,
    metricSets: metricSets.values.map((ids) => Array.from(ids)),
    configShapes: configShapes.values,
    objects: objects.values,
    rows,
    stamps,
    columns,
    problems: [...snapshot.problems].map(([name, problem]) => [
      name,
      problem.dir,
      problem.message,
      typeof problem.stamp === "string" ? problem.stamp : Array.from(problem.stamp),
      problem.present,
    ]),
  };
  // ASCII only (every other character escaped): read back as one-byte text, the fastest to parse.
  const text = Buffer.from(JSON.stringify(header).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`), "latin1");
  const start = Buffer.alloc(pad8(12 + text.length));
  start.write(MAGIC, 0, "latin1");
  start.writeUInt32LE(text.length, 8);
  text.copy(start, 12);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temporary, Buffer.concat([start, ...stampBlocks.map(bytesOf), ...columnBlocks]));
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

const bytesOf = (array: Float64Array | Uint32Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** Values given a number each, in the order first seen. */
class Interner<T> {
  readonly values: T[] = [];
  readonly #ids = new Map<string, number>();
  constructor(readonly key: (value: T) => string) {}
  id(value: T): number {
    const key = this.key(value);
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, (id = this.values.push(value) - 1));
    return id;
  }
}

function readFully(fd: number, bytes: Uint8Array, position: number): boolean {
  for (let filled = 0; filled < bytes.length; ) {
    const read = readSync(fd, bytes, filled, bytes.length - filled, position + filled);
    if (read === 0) return false;
    filled += read;
  }
  return true;
}

/** The metric blocks of an open snapshot, each read when first asked for. */
class SnapshotColumns implements MetricColumnSource {
  #fd: number | null;
  readonly #loaded: Array<[Float64Array, Float64Array] | undefined>;
  #missing: number;

  constructor(
    fd: number,
    readonly blocksAt: number,
    readonly size: number,
    readonly rowCount: number,
    /** Per metric id of this process: its place in the file's names, -1 for none. */
    readonly storedOf: Int32Array,
    readonly columns: Array<[number, number]>,
  ) {
    this.#fd = fd;
    this.#loaded = new Array(columns.length);
    this.#missing = columns.length;
    if (this.#missing === 0) this.release();
  }

  value(id: number, row: number, which: 0 | 1): number {
    const stored = id < this.storedOf.length ? (this.storedOf[id] as number) : -1;
    if (stored < 0) return NaN;
    const column = this.#loaded[stored] ?? this.#load(stored);
    return column[which][row] as number;
  }

  #load(stored: number): [Float64Array, Float64Array] {
    const last = new Float64Array(this.rowCount).fill(NaN);
    const best = new Float64Array(this.rowCount).fill(NaN);
    const [offset, count] = this.columns[stored] as [number, number];
    const rowBytes = pad8(count * 4);
    const at = this.blocksAt + offset;
    if (this.#fd !== null && count > 0 && at + rowBytes + 16 * count <= this.size) {
      const bytes = new Uint8Array(rowBytes + 16 * count);
      if (readFully(this.#fd, bytes, at)) {
        const rows = new Uint32Array(bytes.buffer, 0, count);
        const lasts = new Float64Array(bytes.buffer, rowBytes, count);
        const bests = new Float64Array(bytes.buffer, rowBytes + 8 * count, count);
        for (let i = 0; i < count; i++) {
          const row = rows[i] as number;
          if (row >= this.rowCount) continue;
          last[row] = lasts[i] as number;
          best[row] = bests[i] as number;
        }
      }
    }
    const column: [Float64Array, Float64Array] = [last, best];
    this.#loaded[stored] = column;
    if (--this.#missing === 0) this.release();
    return column;
  }

  /** Reads every block not read yet, and closes the file. */
  release(): void {
    if (this.#fd === null) return;
    for (let stored = 0; stored < this.columns.length; stored++) if (this.#loaded[stored] === undefined) this.#load(stored);
    this.close();
  }

  /** Closes the file (blocks not read yet read as NaN). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

interface RowContext {
  root: string | null;
  header: Header;
  stamps: Float64Array;
  /** Metric sets as this process numbers the metrics, sorted. */
  sets: Uint32Array[];
  columns: SnapshotColumns;
}

/**
 * A row of a snapshot, made from its stored form when a field is first read: a start makes
 * 10,000 of these, and a page asks for a few fields of each.
 */
class SnapshotRow implements RunRow {
  #state: StatusFields | null | undefined;
  #metrics: MetricValues | undefined;
  #config: Map<string, Value> | undefined;
  #dir: string | undefined;
  #stamp: FolderStamp | undefined;

  constructor(
    readonly context: RowContext,
    readonly stored: StoredRow,
    /** Its place in the snapshot (for its metric values). */
    readonly index: number,
    /** Where its numeric stamp starts in the stamp block, -1 for a text stamp. */
    readonly stampAt: number,
  ) {}

  get name(): string {
    return this.stored[0];
  }
  get group(): string {
    const name = this.stored[0];
    return name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
  }
  get dir(): string {
    if (this.#dir === undefined) {
      const dir = this.stored[1];
      this.#dir = dir === 0 ? `${this.context.root as string}${sep}${sep === "/" ? this.stored[0] : this.stored[0].split("/").join(sep)}` : dir;
    }
    return this.#dir;
  }
  get id(): string {
    const id = this.stored[2];
    return id === 0 ? lastPart(this.stored[0]) : id;
  }
  get loadedStatus(): string {
    return this.stored[3];
  }
  get state(): StatusFields | null {
    if (this.#state === undefined) {
      const values = this.stored[4];
      if (values === null) this.#state = null;
      else {
        const state: Record<string, Value> = {};
        STATE_KEYS.forEach((key, k) => {
          const value = revive(values[k] as Stored<Value>);
          if (value !== null || (key !== "exit_code" && key !== "signal")) state[key] = value;
        });
        this.#state = state as unknown as StatusFields;
      }
    }
    return this.#state;
  }
  get started_at(): string {
    return this.stored[5];
  }
  get duration_seconds(): number | null {
    const value = this.stored[6];
    return value === null ? null : revive(value);
  }
  get git(): RunRow["git"] {
    return this.context.header.objects[this.stored[7]] as RunRow["git"];
  }
  get gpu(): RunRow["gpu"] {
    return this.context.header.objects[this.stored[8]] as RunRow["gpu"];
  }
  get parameters(): number | null {
    const value = this.stored[9];
    return value === null ? null : revive(value);
  }
  get host(): string | null {
    return this.stored[10];
  }
  get notes(): RunRow["notes"] {
    return this.context.header.objects[this.stored[11]] as RunRow["notes"];
  }
  get hasResults(): boolean {
    return this.stored[12];
  }
  get warnings(): string[] {
    return this.stored[13];
  }
  get present(): string[] {
    return this.context.header.presents[this.stored[14]] as string[];
  }
  get metrics(): MetricValues {
    this.#metrics ??= new MetricValues(this.context.sets[this.stored[15]] ?? new Uint32Array(0), null, null, this.context.columns, this.index);
    return this.#metrics;
  }
  get config(): Map<string, Value> {
    if (this.#config === undefined) {
      const keys = this.context.header.configShapes[this.stored[16]] ?? [];
      const values = this.stored[17];
      this.#config = new Map(keys.map((key, k) => [key, revive(values[k] as Stored<Value>)]));
    }
    return this.#config;
  }
  get stamp(): FolderStamp {
    this.#stamp ??= this.stampAt < 0 ? (this.stored[18] as string) : this.context.stamps.subarray(this.stampAt, this.stampAt + (1 + this.present.length) * STAMP_FIGURES);
    return this.#stamp;
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
  let columns: SnapshotColumns | null = null;
  try {
    const info = fstatSync(fd);
    const fail = (why: string) => new Error(why);
    if (!info.isFile() || info.size < 12 || info.size > MAX_BYTES || endianness() !== "LE") throw fail("not a snapshot");
    const start = Buffer.alloc(12);
    if (!readFully(fd, start, 0) || start.toString("latin1", 0, 8) !== MAGIC) throw fail("not a snapshot");
    const length = start.readUInt32LE(8);
    if (12 + length > info.size) throw fail("cut short");
    const text = Buffer.allocUnsafe(length);
    if (!readFully(fd, text, 12)) throw fail("cut short");
    const header = JSON.parse(text.toString("latin1")) as Header;
    if (header.version !== VERSION || JSON.stringify(header.roots) !== JSON.stringify(roots)) throw fail("another version's, or other roots'");
    const stampsAt = pad8(12 + length);
    if (stampsAt + header.stamps * 8 > info.size) throw fail("cut short");
    const stampBytes = new Uint8Array(header.stamps * 8);
    if (!readFully(fd, stampBytes, stampsAt)) throw fail("cut short");
    // The metric blocks, read later, must be where the header says, up to the file's end.
    let blocksEnd = 0;
    if (header.columns.length !== header.names.length) throw fail("a metric without its block");
    for (const [offset, count] of header.columns) {
      if (offset !== blocksEnd || !(count >= 0 && count <= header.rows.length)) throw fail("the blocks do not add up");
      blocksEnd += pad8(count * 4) + 16 * count;
    }
    if (stampsAt + header.stamps * 8 + blocksEnd !== info.size) throw fail("cut short");
    // The file's metric names as this process numbers them; each set sorted by those numbers.
    const ids = header.names.map((name) => metricNames.id(name));
    const storedOf = new Int32Array(metricNames.names.length).fill(-1);
    ids.forEach((id, stored) => (storedOf[id] = stored));
    columns = new SnapshotColumns(fd, stampsAt + header.stamps * 8, info.size, header.rows.length, storedOf, header.columns);
    const context: RowContext = {
      root: roots.length === 1 ? (roots[0] as string) : null,
      header,
      stamps: new Float64Array(stampBytes.buffer, 0, header.stamps),
      sets: header.metricSets.map((set) => Uint32Array.from(set, (stored) => ids[stored] ?? 0).sort()),
      columns,
    };
    const rows = new Map<string, RunRow>();
    let at = 0;
    header.rows.forEach((stored, index) => {
      const present = header.presents[stored[14]];
      if (present === undefined) throw fail("a row without its entries");
      rows.set(stored[0], new SnapshotRow(context, stored, index, stored[18] === null ? at : -1));
      if (stored[18] === null) at += (1 + present.length) * STAMP_FIGURES;
    });
    if (at !== header.stamps) throw fail("the stamps do not add up");
    const source = columns;
    return {
      roots: header.roots,
      containers: new Map(header.containers.map(([dir, mtimeMs, ctimeMs, children]) => [dir, { mtimeMs, ctimeMs, children }])),
      rows,
      problems: new Map(
        header.problems.map(([name, dir, message, stamp, present]) => [name, { dir, message, stamp: typeof stamp === "string" ? stamp : Float64Array.from(stamp), present }]),
      ),
      release: () => source.release(),
    };
  } catch {
    if (columns === null) closeSync(fd);
    else columns.close();
    return null;
  }
}
