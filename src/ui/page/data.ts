/**
 * The runs as the page holds them: one object per run from /api/table's columns, kept current
 * with `?since=` deltas when the server says the table changed. Metric and config columns not
 * loaded yet are fetched when a column or a filter needs them.
 */
import { get } from "./api.js";

export type Cell = number | string | boolean | null;

export interface Row {
  name: string;
  group: string;
  id: string;
  status: string;
  lost_reason: string | null;
  started_at: string;
  start: number;
  duration: number | null;
  git: string | null;
  gpu_model: string | null;
  gpu_count: number;
  gpu_nodes: number;
  parameters: number | null;
  host: string | null;
  note: string;
  tags: string[];
  notes_version: string | null;
  warnings: string[];
  /** Metric name -> [last, best]. */
  metrics: Map<string, [Cell, Cell]>;
  /** Config path -> value. */
  config: Map<string, Cell>;
}

interface TablePayload {
  version: number;
  now: number;
  count: number;
  runs: Record<string, unknown[]>;
  columns: Record<string, { last: Cell[]; best: Cell[] } | Cell[]>;
  metrics: Array<{ name: string; runs: number }>;
  config: Array<{ key: string; values: number }>;
  defaults: { metrics: string[]; config: string[] };
  problems: string[];
  removed?: string[];
}

/** A cell as a number for sorting and comparing: "NaN" / "Infinity" strings back to numbers. */
export function numeric(cell: Cell | undefined): number | null {
  if (typeof cell === "number") return cell;
  if (cell === "NaN") return NaN;
  if (cell === "Infinity") return Infinity;
  if (cell === "-Infinity") return -Infinity;
  return null;
}

export class RunData {
  rows: Row[] = [];
  readonly byName = new Map<string, Row>();
  version = -1;
  /** Server time minus page time (durations of running runs are counted on). */
  clockOffset = 0;
  metrics: Array<{ name: string; runs: number }> = [];
  config: Array<{ key: string; values: number }> = [];
  defaults: TablePayload["defaults"] = { metrics: [], config: [] };
  problems: string[] = [];
  /** Column ids loaded ("m:<metric>", "c:<path>"). */
  readonly loaded = new Set<string>();
  #listeners = new Set<(changed: string[] | null) => void>();
  #refreshing: Promise<void> | null = null;
  #again = false;

  /** Called after a load (null: everything) or a delta (the names that changed). */
  onChange(listener: (changed: string[] | null) => void): void {
    this.#listeners.add(listener);
  }

  metricNames(): Set<string> {
    return new Set(this.metrics.map((entry) => entry.name));
  }

  async load(columns: string[] | null): Promise<void> {
    const payload = await get<TablePayload>("/api/table", columns === null ? {} : { columns: columns.length ? columns : [""] });
    this.rows = [];
    this.byName.clear();
    this.loaded.clear();
    this.#apply(payload);
    for (const listener of this.#listeners) listener(null);
  }

  /** Fetches columns not loaded yet (for a column shown, a sort or a filter). */
  async ensure(columns: string[]): Promise<void> {
    const missing = columns.filter((id) => !this.loaded.has(id) && (id.startsWith("m:") || id.startsWith("c:")));
    if (missing.length === 0) return;
    const payload = await get<TablePayload>("/api/table", { columns: missing });
    this.#apply(payload, true);
    for (const listener of this.#listeners) listener(null);
  }

  /** Asks for the rows changed since the version held (one request at a time, coalesced). */
  async refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        const payload = await get<TablePayload>("/api/table", { since: this.version, columns: [...this.loaded] });
        const changed = this.#apply(payload, false, true);
        for (const listener of this.#listeners) listener(changed);
      } while (this.#again);
    })().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  #apply(payload: TablePayload, columnsOnly = false, delta = false): string[] {
    this.version = Math.max(this.version, payload.version);
    this.clockOffset = payload.now - Date.now();
    this.metrics = payload.metrics;
    this.config = payload.config;
    this.defaults = payload.defaults;
    this.problems = payload.problems;
    const runs = payload.runs;
    const names = runs.name as string[];
    const changed: string[] = [];
    // The metric and config columns of the answer, looked up once rather than per row.
    const metricColumns: Array<[string, Cell[], Cell[]]> = [];
    const configColumns: Array<[string, Cell[]]> = [];
    for (const [id, column] of Object.entries(payload.columns)) {
      if (id.startsWith("m:")) metricColumns.push([id.slice(2), (column as { last: Cell[] }).last, (column as { best: Cell[] }).best]);
      else if (id.startsWith("c:")) configColumns.push([id.slice(2), column as Cell[]]);
    }
    names.forEach((name, i) => {
      let row = this.byName.get(name);
      if (columnsOnly) {
        if (row === undefined) return;
      } else {
        const fresh: Row = {
          name,
          group: runs.group?.[i] as string,
          id: runs.id?.[i] as string,
          status: runs.status?.[i] as string,
          lost_reason: runs.lost_reason?.[i] as string | null,
          started_at: runs.started_at?.[i] as string,
          start: Date.parse(runs.started_at?.[i] as string),
          duration: runs.duration_seconds?.[i] as number | null,
          git: runs.git?.[i] as string | null,
          gpu_model: runs.gpu_model?.[i] as string | null,
          gpu_count: runs.gpu_count?.[i] as number,
          gpu_nodes: runs.gpu_nodes?.[i] as number,
          parameters: runs.parameters?.[i] as number | null,
          host: runs.host?.[i] as string | null,
          note: runs.note?.[i] as string,
          tags: runs.tags?.[i] as string[],
          notes_version: runs.notes_version?.[i] as string | null,
          warnings: runs.warnings?.[i] as string[],
          metrics: row?.metrics ?? new Map(),
          config: row?.config ?? new Map(),
        };
        if (row === undefined) this.rows.push(fresh);
        else this.rows[this.rows.indexOf(row)] = fresh;
        this.byName.set(name, fresh);
        row = fresh;
        changed.push(name);
      }
      for (const [metric, last, best] of metricColumns) {
        const cellLast = last[i] ?? null;
        const cellBest = best[i] ?? null;
        if (cellLast === null && cellBest === null) row.metrics.delete(metric);
        else row.metrics.set(metric, [cellLast, cellBest]);
      }
      for (const [key, column] of configColumns) {
        const value = column[i];
        if (value === undefined || value === null) row.config.delete(key);
        else row.config.set(key, value);
      }
    });
    for (const id of Object.keys(payload.columns)) this.loaded.add(id);
    if (delta && payload.removed?.length) {
      const gone = new Set(payload.removed);
      this.rows = this.rows.filter((row) => !gone.has(row.name));
      for (const name of gone) this.byName.delete(name);
      changed.push(...gone);
    }
    return changed;
  }
}
