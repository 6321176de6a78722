/**
 * The column cache: a log's series saved in a binary file so that a chart of a long run does not
 * parse its log again. Derived data only: a cache file names the size, modification time and
 * inode its log had, and is used only while the log still has them; anything else (or a file
 * that does not read back) is ignored and rewritten. Writing it is best effort.
 *
 * Where: under the user's cache folder (`$CONFIG_TRACKER_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/config-tracker`, else `~/.cache/config-tracker`), in `columns/<sha1 of the
 * log's real path>.columns`; with `beside`, next to the log as `.<log name>.columns` where its
 * folder is writable (else under the user's cache folder).
 *
 * Format (little-endian): "CTCOLS01", a u32 header length, the header (JSON: source stamp, kind,
 * first time, skipped lines, and per series its name, point count and the offsets of its blocks),
 * zero padding to a multiple of 8, then float64 blocks: every series' overview (x, y by step; x,
 * y by time) first, then every series' steps, times and values.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, rename, unlink } from "node:fs/promises";
import { homedir, endianness } from "node:os";
import { basename, dirname, join } from "node:path";

import type { Column, XKind } from "./columns.js";
import type { LogColumns, LogKind, SourceStamp } from "./log-columns.js";
import type { LogSummary } from "./log-store.js";
import { closeFile, openInside, type Roots } from "./safe-files.js";
import type { Series } from "./views.js";

const MAGIC = "CTCOLS01";
const VERSION = 1;

interface SeriesEntry {
  name: string;
  length: number;
  /** Offsets (in float64s, from the start of the blocks) of: overview step x, y; overview time x, y; steps; times; values. */
  blocks: [number, number, number, number, number, number, number];
  overview: [number, number];
}

interface Header {
  version: number;
  path: string;
  kind: LogKind;
  source: SourceStamp;
  firstTime: number | null;
  skippedLines: number;
  series: SeriesEntry[];
  overviewFloats: number;
}

export type CachePlace = "user" | "beside";

/** The user's cache folder for config-tracker (null: caching turned off with an empty CONFIG_TRACKER_CACHE_DIR). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CONFIG_TRACKER_CACHE_DIR === "") return null;
  return env.CONFIG_TRACKER_CACHE_DIR ?? join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "config-tracker");
}

export class ColumnCache {
  constructor(
    readonly roots: Roots,
    readonly userDir: string,
    readonly place: CachePlace = "user",
  ) {}

  static create(roots: Roots, place: CachePlace | "off", env: NodeJS.ProcessEnv = process.env): ColumnCache | null {
    const dir = userCacheDir(env);
    if (place === "off" || dir === null || endianness() !== "LE") return null;
    return new ColumnCache(roots, dir, place);
  }

  #userFile(path: string): string {
    return join(this.userDir, "columns", `${createHash("sha1").update(path).digest("hex")}.columns`);
  }

  async #location(path: string, forWriting: boolean): Promise<string[]> {
    const user = this.#userFile(path);
    if (this.place !== "beside") return [user];
    const beside = join(dirname(path), `.${basename(path)}.columns`);
    if (!forWriting) return [beside, user];
    try {
      await access(dirname(path), constants.W_OK);
      return [beside];
    } catch {
      return [user];
    }
  }

  async #readHeader(file: string, path: string, kind: LogKind): Promise<{ header: Header; dataStart: number; handle: Awaited<ReturnType<typeof open>> } | null> {
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    } catch {
      return null;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.size < 12) throw new Error("not a cache file");
      const start = Buffer.alloc(12);
      await handle.read(start, 0, 12, 0);
      if (start.toString("latin1", 0, 8) !== MAGIC) throw new Error("not a cache file");
      const length = start.readUInt32LE(8);
      if (length > 64 * 1024 * 1024 || 12 + length > info.size) throw new Error("a cut cache file");
      const text = Buffer.alloc(length);
      await handle.read(text, 0, length, 12);
      const header = JSON.parse(text.toString("utf8")) as Header;
      if (header.version !== VERSION || header.path !== path || header.kind !== kind) throw new Error("another log's");
      // Only while the log is as it was.
      const source = openInside(path, this.roots);
      closeFile(source);
      const { size, mtimeMs, ino } = source.stats;
      if (header.source.size !== size || header.source.mtimeMs !== mtimeMs || header.source.ino !== ino) throw new Error("stale");
      const dataStart = Math.ceil((12 + length) / 8) * 8;
      return { header, dataStart, handle };
    } catch {
      await handle.close();
      return null;
    }
  }

  async #floats(handle: Awaited<ReturnType<typeof open>>, dataStart: number, at: number, count: number): Promise<Float64Array> {
    const bytes = new Float64Array(count);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { bytesRead } = await handle.read(view, 0, view.length, dataStart + at * 8);
    if (bytesRead !== view.length) throw new Error("a cut cache file");
    return bytes;
  }

  /** A log's summary from its cache file, null when there is none that is current. */
  async readSummary(path: string, kind: LogKind): Promise<LogSummary | null> {
    for (const file of await this.#location(path, false)) {
      const opened = await this.#readHeader(file, path, kind);
      if (opened === null) continue;
      const { header, dataStart, handle } = opened;
      try {
        const all = await this.#floats(handle, dataStart, 0, header.overviewFloats);
        const overviews = new Map<string, Record<XKind, Series>>();
        for (const entry of header.series) {
          const [sx, sy, tx, ty] = entry.blocks;
          const [stepCount, timeCount] = entry.overview;
          const series = (x: number, y: number, n: number): Series => ({ xs: Array.from(all.subarray(x, x + n)), ys: Array.from(all.subarray(y, y + n)) });
          overviews.set(entry.name, { step: series(sx, sy, stepCount), time: series(tx, ty, timeCount) });
        }
        return {
          path,
          kind,
          stamp: header.source,
          names: header.series.map((entry) => entry.name),
          firstTime: header.firstTime ?? NaN,
          skippedLines: header.skippedLines,
          overviews,
          counts: new Map(header.series.map((entry) => [entry.name, entry.length])),
        };
      } catch {
        continue;
      } finally {
        await handle.close();
      }
    }
    return null;
  }

  /** One series' points from the cache file, null when there is no current one. */
  async readColumn(path: string, kind: LogKind, name: string): Promise<Column | null> {
    for (const file of await this.#location(path, false)) {
      const opened = await this.#readHeader(file, path, kind);
      if (opened === null) continue;
      const { header, dataStart, handle } = opened;
      try {
        const entry = header.series.find((item) => item.name === name);
        if (entry === undefined) return null;
        const [, , , , steps, times, values] = entry.blocks;
        return {
          steps: await this.#floats(handle, dataStart, steps, entry.length),
          times: await this.#floats(handle, dataStart, times, entry.length),
          values: await this.#floats(handle, dataStart, values, entry.length),
        };
      } catch {
        continue;
      } finally {
        await handle.close();
      }
    }
    return null;
  }

  /** Saves a log's columns (best effort: a cache that cannot be written is no error). */
  async write(path: string, columns: LogColumns): Promise<void> {
    const [file] = await this.#location(path, true);
    if (file === undefined) return;
    const names = columns.set.names();
    const overviewBlocks: Float64Array[] = [];
    const dataBlocks: Float64Array[] = [];
    let overviewFloats = 0;
    const entries: SeriesEntry[] = [];
    for (const name of names) {
      const overview = columns.set.overview(name) as Record<XKind, Series>;
      const starts: number[] = [];
      for (const part of [overview.step.xs, overview.step.ys, overview.time.xs, overview.time.ys]) {
        starts.push(overviewFloats);
        overviewBlocks.push(Float64Array.from(part));
        overviewFloats += part.length;
      }
      entries.push({ name, length: 0, blocks: [starts[0], starts[1], starts[2], starts[3], 0, 0, 0] as SeriesEntry["blocks"], overview: [overview.step.xs.length, overview.time.xs.length] });
    }
    let at = overviewFloats;
    names.forEach((name, index) => {
      const column = columns.set.column(name) as Column;
      const entry = entries[index] as SeriesEntry;
      entry.length = column.steps.length;
      for (const [slot, part] of [[4, column.steps], [5, column.times], [6, column.values]] as const) {
        entry.blocks[slot] = at;
        dataBlocks.push(part);
        at += part.length;
      }
    });
    const header: Header = {
      version: VERSION,
      path,
      kind: columns.kind,
      source: columns.stamp,
      firstTime: Number.isFinite(columns.set.firstTime()) ? columns.set.firstTime() : null,
      skippedLines: columns.set.skippedLines,
      series: entries,
      overviewFloats,
    };
    const text = Buffer.from(JSON.stringify(header), "utf8");
    const start = Buffer.alloc(Math.ceil((12 + text.length) / 8) * 8);
    start.write(MAGIC, 0, "latin1");
    start.writeUInt32LE(text.length, 8);
    text.copy(start, 12);
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(temporary, "wx", 0o644);
      try {
        await handle.writev([start, ...[...overviewBlocks, ...dataBlocks].map((block) => Buffer.from(block.buffer, block.byteOffset, block.byteLength))]);
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    } catch {
      await unlink(temporary).catch(() => {});
    }
  }
}
