/**
 * A run as one row of the dashboard's table: what `ls` shows of it (the library's runFacts, so the
 * two agree), the status record as written (whether a "running" run is lost is decided when it is
 * shown, as the loader decides it), every final metric's last and best value, the leaves of its
 * config, and its notes. Small: numbers in typed arrays, nothing of the files kept.
 *
 * The row is read from the same files as the library's loader reads, through the safe reads of
 * safe-files.ts, without validating results.json against its schema (a results.json of 1,500
 * metrics takes longer to validate than to read): the keys a row uses are checked one by one, and
 * a config.json without them is read by the loader itself, whose error names what is wrong.
 */
import { basename, dirname, join } from "node:path";

import { folderStamp, type FolderStamp } from "./folder-stamps.js";
import { readNotes, NOTES_FILE, type Notes } from "./notes.js";
import { lookAtRunFolder, readSmallFile, type Roots } from "./safe-files.js";
import {
  emptyRecord,
  keyPath,
  setKey,
  latestLogged,
  loadRankFiles,
  loadRun,
  METRICS_FILE,
  parsePythonJson,
  readNodeFiles,
  reportedStatus,
  runFacts,
  type LoadedRun,
  type RunFacts,
} from "./views.js";

export interface StatusFields {
  status: string;
  updated_at: string;
  pid: number;
  host: string;
  boot_id: string | null;
  ended_at: string | null;
  exit_code?: number;
  signal?: string;
  error?: string | null;
  last_step?: number | null;
}

/** Metric names, each stored once for every row. */
export class MetricNames {
  readonly names: string[] = [];
  readonly #ids = new Map<string, number>();

  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.#ids.set(name, id);
    }
    return id;
  }

  find(name: string): number | undefined {
    return this.#ids.get(name);
  }
}

export const metricNames = new MetricNames();

/**
 * Where the metric values of rows kept in a snapshot are (index-snapshot.ts): a column per metric
 * over the snapshot's rows, read when first asked for, so a start reads only the metrics a page
 * shows (a snapshot of 1,500 runs of 1,500 metrics holds 2,250,000 of each).
 */
export interface MetricColumnSource {
  /** The last (0) or best (1) value of metric `id` in the snapshot's row `row`, which has that metric. */
  value(id: number, row: number, which: 0 | 1): number;
}

/** A row's final metrics: ids ascending, the last value of each, and its best (NaN: none). */
export class MetricValues {
  #last: Float64Array | null;
  #best: Float64Array | null;
  readonly #source: MetricColumnSource | null;
  readonly #row: number;

  /** Values in arrays (in the order of `ids`), or in a snapshot's columns (`source`, at its row `row`). */
  constructor(
    readonly ids: Uint32Array,
    last: Float64Array | null,
    best: Float64Array | null,
    source: MetricColumnSource | null = null,
    row = -1,
  ) {
    this.#last = last;
    this.#best = best;
    this.#source = source;
    this.#row = row;
  }

  static from(entries: Array<[string, number, number | undefined]>): MetricValues {
    const sorted = entries.map(([name, last, best]) => [metricNames.id(name), last, best ?? NaN] as const).sort((a, b) => a[0] - b[0]);
    return new MetricValues(
      Uint32Array.from(sorted, (entry) => entry[0]),
      Float64Array.from(sorted, (entry) => entry[1]),
      Float64Array.from(sorted, (entry) => entry[2]),
    );
  }

  /** The last values, in the order of `ids`. */
  get last(): Float64Array {
    if (this.#last === null) this.#last = this.#column(0);
    return this.#last;
  }

  /** The best values (NaN: none), in the order of `ids`. */
  get best(): Float64Array {
    if (this.#best === null) this.#best = this.#column(1);
    return this.#best;
  }

  #column(which: 0 | 1): Float64Array {
    const out = new Float64Array(this.ids.length);
    for (let i = 0; i < this.ids.length; i++) out[i] = (this.#source as MetricColumnSource).value(this.ids[i] as number, this.#row, which);
    return out;
  }

  #value(index: number, which: 0 | 1): number {
    const held = which === 0 ? this.#last : this.#best;
    if (held !== null) return held[index] as number;
    return (this.#source as MetricColumnSource).value(this.ids[index] as number, this.#row, which);
  }

  #index(name: string): number {
    const id = metricNames.find(name);
    if (id === undefined) return -1;
    let low = 0;
    let high = this.ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = this.ids[middle] as number;
      if (at === id) return middle;
      if (at < id) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /** The last value, undefined when the run has no such metric. */
  lastOf(name: string): number | undefined {
    const index = this.#index(name);
    return index === -1 ? undefined : this.#value(index, 0);
  }

  /** The best value, undefined when none is known. */
  bestOf(name: string): number | undefined {
    const index = this.#index(name);
    const value = index === -1 ? NaN : this.#value(index, 1);
    return Number.isNaN(value) ? undefined : value;
  }

  *names(): IterableIterator<string> {
    for (const id of this.ids) yield metricNames.names[id] as string;
  }
}

export interface RunRow {
  name: string;
  /** The folder holding the run, below its root ("" for a run at the top): the sweep. */
  group: string;
  dir: string;
  id: string;
  /** What the loader would say when the row was read (the shown status is worked out again). */
  loadedStatus: string;
  state: StatusFields | null;
  started_at: string;
  /** For runs that ended; a running run's duration grows (worked out when shown). */
  duration_seconds: number | null;
  git: RunFacts["git"];
  gpu: RunFacts["gpu"];
  parameters: number | null;
  host: string | null;
  metrics: MetricValues;
  /** Leaves of config.json's `config`, by dotted path: numbers, strings, booleans, null, or JSON text. */
  config: Map<string, number | string | boolean | null>;
  notes: Notes;
  hasResults: boolean;
  warnings: string[];
  /** What the row was read from: the folder's and each entry's size and times (folder-stamps.ts). */
  stamp: FolderStamp;
  /** The entries of the folder the stamp covers. */
  present: string[];
}

/** Metrics where a higher value is better; every other metric's best is its lowest. */
const HIGHER_IS_BETTER = /acc|accuracy|f1|auc|precision|recall|bleu|rouge|score|reward|mfu|per_second|throughput|iou|map$/i;

export function metricDirection(name: string): "min" | "max" {
  return HIGHER_IS_BETTER.test(name) ? "max" : "min";
}

/** Files the row reads besides the loader's. */
const ROW_EXTRA = [NOTES_FILE];
const MAX_JSON = 64 * 1024 * 1024;

function flattenConfig(value: unknown, path: string, out: Map<string, number | string | boolean | null>, depth = 0): void {
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 && depth < 32) {
    for (const [key, item] of Object.entries(value)) flattenConfig(item, keyPath(path, key), out, depth + 1);
  } else if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    out.set(path, value);
  } else {
    out.set(path, JSON.stringify(value) ?? null);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown): number | null => (typeof value === "number" ? value : null);

/** The status record as written (a loader's "lost" was written "running"). */
function statusFields(state: Record<string, unknown>): StatusFields {
  const exitCode = num(state.exit_code);
  const signal = str(state.signal);
  return {
    status: state.status === "lost" ? "running" : String(state.status),
    updated_at: String(state.updated_at),
    pid: num(state.pid) ?? 0,
    host: str(state.host) ?? "",
    boot_id: str(state.boot_id),
    ended_at: str(state.ended_at),
    ...(exitCode !== null ? { exit_code: exitCode } : {}),
    ...(signal !== null ? { signal } : {}),
    error: str(state.error),
    last_step: num(state.last_step),
  };
}

/** A JSON file of the run, null when absent; a problem is a warning on the row. */
function readJson(path: string, roots: Roots, warnings: string[]): Record<string, unknown> | null {
  try {
    const data = parsePythonJson(readSmallFile(path, roots, MAX_JSON).text);
    if (isRecord(data)) return data;
    warnings.push(`${path}: not a JSON object`);
  } catch (error) {
    warnings.push((error as Error).message.split("\n")[0] as string);
  }
  return null;
}

/** Reads a run's row; throws the loader's error for a folder whose config.json is not a run's. */
export async function readRunRow(dir: string, name: string, roots: Roots): Promise<RunRow> {
  const look = lookAtRunFolder(dir, roots, ROW_EXTRA);
  const group = name.includes("/") ? dirname(name) : "";
  if (look.problem !== null) return { ...emptyRow(dir, name, group, look.stamp, look.present), warnings: [`not read: ${look.problem}`] };
  const has = (entry: string) => look.present.includes(entry);
  const ignored: string[] = [];
  const config = readJson(join(dir, "config.json"), roots, ignored);
  if (config === null || typeof config.experiment_id !== "string" || typeof config.timestamp !== "string" || !isRecord(config.hardware) || !isRecord(config.config)) {
    await loadRun(dir, { name }); // its error says what is wrong
    throw new Error(`${dir}/config.json: not a run's config`);
  }
  const warnings: string[] = [];
  const results = has("results.json") ? readJson(join(dir, "results.json"), roots, warnings) : null;
  const record = has("status.json") ? readJson(join(dir, "status.json"), roots, warnings) : null;
  const state = record !== null && typeof record.status === "string" ? { ...record, ...reportedStatus(record as Parameters<typeof reportedStatus>[0]) } : null;
  const finalMetrics: Record<string, number> = emptyRecord();
  let lastLoggedAt: number | null = null;
  if (results !== null && isRecord(results.final_metrics)) {
    for (const [key, value] of Object.entries(results.final_metrics)) if (typeof value === "number") setKey(finalMetrics, key, value);
  }
  if (has(METRICS_FILE) && (results === null || state?.status === "running" || state?.status === "lost")) {
    try {
      const latest = latestLogged(join(dir, METRICS_FILE));
      lastLoggedAt = latest.time;
      if (results === null) for (const [key, value] of Object.entries(latest.values)) setKey(finalMetrics, key, value);
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }
  const ranks = has("ranks") ? await loadRankFiles(dir).catch(() => []) : [];
  const nodes = has("nodes") ? readNodeFiles(dir) : [];
  const status = state?.status ?? (results !== null ? "finished" : "unknown");
  // The facts as ls works them out (runFacts reads only these fields of a loaded run).
  const loaded = { dir, name, id: config.experiment_id, config, results, state, status, ranks, nodes, finalMetrics, lastLoggedAt, warnings } as unknown as LoadedRun;
  const facts = runFacts(loaded);
  const summary = isRecord(results?.summary) ? (results.summary as Record<string, Record<string, unknown>>) : {};
  const metrics = MetricValues.from(
    Object.entries(finalMetrics).map(([metric, last]) => {
      const recorded = Object.hasOwn(finalMetrics, `best_${metric}`) ? finalMetrics[`best_${metric}`] : undefined;
      const entry = Object.hasOwn(summary, metric) ? summary[metric] : undefined;
      const best = recorded ?? num(metricDirection(metric) === "min" ? entry?.min : entry?.max) ?? undefined;
      return [metric, last, best];
    }),
  );
  let notes: Notes = { note: "", tags: [] };
  if (has(NOTES_FILE)) {
    try {
      notes = readNotes(dir, roots) ?? notes;
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }
  const flat = new Map<string, number | string | boolean | null>();
  flattenConfig(config.config, "", flat);
  const environment = isRecord(config.environment) ? config.environment : {};
  return {
    name,
    group,
    dir,
    id: config.experiment_id,
    loadedStatus: status,
    state: state === null ? null : statusFields(state as Record<string, unknown>),
    started_at: facts.started_at,
    duration_seconds: state?.status === "running" ? null : facts.duration_seconds,
    git: facts.git,
    gpu: facts.gpu,
    parameters: facts.parameters,
    host: str(environment.hostname) ?? str(record?.host),
    metrics,
    config: flat,
    notes,
    hasResults: results !== null,
    warnings,
    stamp: folderStamp(look.stamp, look.present),
    present: look.present,
  };
}

export function emptyRow(dir: string, name: string, group: string, stamp: string, present: string[]): RunRow {
  return {
    name,
    group,
    dir,
    id: basename(dir),
    loadedStatus: "unknown",
    state: null,
    started_at: "",
    duration_seconds: null,
    git: { short_hash: null, dirty: null, branch: null },
    gpu: { model: null, count: 0, nodes: 1 },
    parameters: null,
    host: null,
    metrics: MetricValues.from([]),
    config: new Map(),
    notes: { note: "", tags: [] },
    hasResults: false,
    warnings: [],
    stamp: folderStamp(stamp, present),
    present,
  };
}
