/**
 * The logs the charts draw from, read once and kept small: for each log file the server keeps its
 * stamp and, per series, the full range decimated (the overview: what a chart of the whole run
 * shows). The points themselves are kept only for logs that grow (a live run: each look reads
 * only the new lines) and within a byte budget; a zoomed chart of another run reads its points
 * from the column cache file (column-cache.ts), or from the log.
 */
import { ColumnSet, decimate, type Column, type XKind } from "./columns.js";
import { ColumnCache } from "./column-cache.js";
import { isCurrent, readLogColumns, type LogColumns, type LogKind, type SourceStamp } from "./log-columns.js";
import { openInside, closeFile, type Roots } from "./safe-files.js";
import type { Series } from "./views.js";
import type { WorkerPool } from "./worker-pool.js";

export interface LogSummary {
  path: string;
  kind: LogKind;
  stamp: SourceStamp;
  names: string[];
  firstTime: number;
  skippedLines: number;
  overviews: Map<string, Record<XKind, Series>>;
  /** Points per series (more than its overview holds: the overview is decimated). */
  counts: Map<string, number>;
}

/** Bytes of points kept for growing logs. */
const LIVE_BUDGET = 96 * 1024 * 1024;
/** Logs to read adding up to more than this go to the worker pool. */
const WORKERS_FROM_BYTES = 16 * 1024 * 1024;
/** Summaries kept (each a few KB per series). */
const MAX_SUMMARIES = 2000;

export function summarize(path: string, columns: LogColumns): LogSummary {
  const overviews = new Map<string, Record<XKind, Series>>();
  const counts = new Map<string, number>();
  for (const name of columns.set.names()) {
    overviews.set(name, columns.set.overview(name) as Record<XKind, Series>);
    counts.set(name, (columns.set.column(name) as Column).steps.length);
  }
  return {
    path,
    kind: columns.kind,
    stamp: columns.stamp,
    names: columns.set.names(),
    firstTime: columns.set.firstTime(),
    skippedLines: columns.set.skippedLines,
    overviews,
    counts,
  };
}

export class LogStore {
  readonly #summaries = new Map<string, LogSummary>();
  readonly #live = new Map<string, LogColumns>();

  constructor(
    readonly roots: Roots,
    readonly cache: ColumnCache | null,
    readonly pool: WorkerPool | null,
  ) {}

  #stats(path: string): { size: number; mtimeMs: number; ino: number } | null {
    try {
      const file = openInside(path, this.roots);
      closeFile(file);
      return { size: file.stats.size, mtimeMs: file.stats.mtimeMs, ino: file.stats.ino };
    } catch {
      return null;
    }
  }

  #remember(path: string, summary: LogSummary): void {
    this.#summaries.delete(path);
    this.#summaries.set(path, summary);
    if (this.#summaries.size > MAX_SUMMARIES) this.#summaries.delete(this.#summaries.keys().next().value as string);
  }

  #keepLive(path: string, columns: LogColumns): void {
    this.#live.delete(path);
    this.#live.set(path, columns);
    let total = 0;
    for (const kept of this.#live.values()) total += kept.set.bytes();
    for (const [key, kept] of this.#live) {
      if (total <= LIVE_BUDGET) break;
      total -= kept.set.bytes();
      this.#live.delete(key);
    }
  }

  /**
   * The summary of each log, current with the files (read where they changed). `growing`: these
   * logs are expected to grow, so their points are kept for the next look. Logs that are gone or
   * cannot be read are left out (with the reason in `problems`).
   */
  async summaries(requests: Array<{ path: string; kind: LogKind; growing: boolean }>, problems: string[] = []): Promise<Array<LogSummary | null>> {
    const out: Array<LogSummary | null> = new Array(requests.length).fill(null);
    const fresh: number[] = [];
    let freshBytes = 0;
    requests.forEach(({ path }, index) => {
      const stats = this.#stats(path);
      const known = this.#summaries.get(path);
      if (stats === null) return;
      if (known && isCurrent(known.stamp, stats)) out[index] = known;
      else {
        fresh.push(index);
        freshBytes += stats.size;
      }
    });
    // Workers pay off for tens of MB; a few small logs are read here at once.
    const useWorkers = this.pool !== null && freshBytes > WORKERS_FROM_BYTES;
    // Growing logs with their points at hand: read on from where they were.
    const rest: number[] = [];
    for (const index of fresh) {
      const { path, kind, growing } = requests[index] as (typeof requests)[number];
      const live = this.#live.get(path);
      if (live === undefined) {
        rest.push(index);
        continue;
      }
      try {
        const columns = readLogColumns(path, this.roots, kind, live);
        const summary = summarize(path, columns);
        this.#remember(path, summary);
        if (growing) this.#keepLive(path, columns);
        out[index] = summary;
      } catch (error) {
        this.#live.delete(path);
        problems.push((error as Error).message);
      }
    }
    // The others: from the column cache when it is current, else read (in the worker pool when there is one).
    await Promise.all(
      rest.map(async (index) => {
        const { path, kind, growing } = requests[index] as (typeof requests)[number];
        try {
          const cached = growing ? null : await this.cache?.readSummary(path, kind);
          if (cached) {
            this.#remember(path, cached);
            out[index] = cached;
            return;
          }
          if (useWorkers && !growing) {
            const summary = await (this.pool as WorkerPool).summarize(path, kind);
            this.#remember(path, summary);
            out[index] = summary;
            return;
          }
          const columns = readLogColumns(path, this.roots, kind, null);
          const summary = summarize(path, columns);
          this.#remember(path, summary);
          if (growing) this.#keepLive(path, columns);
          else await this.cache?.write(path, columns);
          out[index] = summary;
        } catch (error) {
          problems.push((error as Error).message);
        }
      }),
    );
    return out;
  }

  /** A series' points with x in [from, to], decimated to `points`: for a zoomed chart. */
  async range(path: string, kind: LogKind, name: string, x: XKind, from: number, to: number, points: number): Promise<Series | null> {
    const live = this.#live.get(path);
    let column: Column | null = null;
    if (live !== undefined) column = live.set.column(name);
    else {
      column = (await this.cache?.readColumn(path, kind, name)) ?? null;
      if (column === null) {
        const columns = readLogColumns(path, this.roots, kind, null);
        await this.cache?.write(path, columns);
        column = columns.set.column(name);
      }
    }
    return column === null ? null : decimate(column, x, from, to, points);
  }

  /** Forgets what is kept for these logs (a run removed). */
  forget(paths: string[]): void {
    for (const path of paths) {
      this.#summaries.delete(path);
      this.#live.delete(path);
    }
  }
}

export { ColumnSet };
