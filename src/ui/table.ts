/**
 * The runs table as the page loads it (`GET /api/table`): one array per column, in name order,
 * every run's facts, the chosen metric and config columns, and the lists of every metric and of
 * the config keys whose values differ between runs. `since=<version>` gives only the runs that
 * changed after that version (and the names of those removed): a live page stays current by
 * asking for a few rows.
 */
import { matches, parseFilter, subjectOf, type FilterSubject, type ParsedFilter } from "./filter.js";
import type { RunIndex } from "./run-index.js";
import type { RunRow } from "./run-row.js";
import { defaultMetrics, reportedStatus, type LoadedRun } from "./views.js";

/** Metric names derived by results.json beside a metric (best_<m>, best_<m>_step): shown as the best column. */
const DERIVED = /^best_(.+?)(_step)?$/;

/** A value as JSON: non-finite numbers as strings ("NaN", "Infinity", "-Infinity"). */
export type Cell = number | string | boolean | null;
const cell = (value: number | string | boolean | null | undefined): Cell =>
  value === undefined ? null : typeof value === "number" && !Number.isFinite(value) ? String(value) : value;

/** At most this many config keys are sent (the ones that differ between runs). */
const MAX_CONFIG_KEYS = 200;
/** Up to this many metric cells (runs x metrics x 2), every metric's columns are sent at once. */
const ALL_METRICS_CELLS = 400_000;

export interface ShownStatus {
  status: string;
  lost_reason: string | null;
  heartbeat_age_seconds: number | null;
}

/** The status as shown now: a "running" record whose process is gone or whose heartbeat is old is lost. */
export function shownStatus(row: RunRow, now = Date.now()): ShownStatus {
  if (row.state === null) return { status: row.loadedStatus, lost_reason: null, heartbeat_age_seconds: null };
  const reported = reportedStatus(row.state as Parameters<typeof reportedStatus>[0], now);
  return { status: reported.status, lost_reason: reported.lost_reason, heartbeat_age_seconds: reported.heartbeat_age_seconds };
}

/** Duration in seconds as shown now (a running run's grows; a lost one's stops at its last heartbeat). */
export function shownDuration(row: RunRow, status: string, now = Date.now()): number | null {
  if (row.duration_seconds !== null) return row.duration_seconds;
  const start = Date.parse(row.started_at);
  if (Number.isNaN(start)) return null;
  const end = status === "running" ? now : Date.parse(row.state?.ended_at ?? row.state?.updated_at ?? "");
  return Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

/** The metric columns `ls` would show for these names (val_loss, train_loss, ... first). */
function defaultMetricNames(names: string[]): string[] {
  // defaultMetrics reads only the runs' final metric names.
  return defaultMetrics([{ finalMetrics: Object.fromEntries(names.map((name) => [name, 0])) } as unknown as LoadedRun]);
}

/** Every metric the runs have (derived best_* names left out when their metric is there), by how many runs have it. */
export function metricNames(index: RunIndex): Array<{ name: string; runs: number }> {
  const counts = new Map<string, number>();
  for (const { row } of index.runs.values()) for (const name of row.metrics.names()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts]
    .filter(([name]) => {
      const derived = DERIVED.exec(name);
      return derived === null || !counts.has(derived[1] as string);
    })
    .map(([name, runs]) => ({ name, runs }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Config keys whose value is not the same in every run (absent counts as a value). */
export function varyingConfigKeys(index: RunIndex): Array<{ key: string; values: number }> {
  const values = new Map<string, Set<string>>();
  const present = new Map<string, number>();
  for (const { row } of index.runs.values()) {
    for (const [key, value] of row.config) {
      let set = values.get(key);
      if (set === undefined) values.set(key, (set = new Set()));
      if (set.size < 1000) set.add(typeof value === "number" ? `n${value}` : JSON.stringify(value));
      present.set(key, (present.get(key) ?? 0) + 1);
    }
  }
  const total = index.runs.size;
  return [...values]
    .map(([key, set]) => ({ key, values: set.size + ((present.get(key) ?? 0) < total ? 1 : 0) }))
    .filter((entry) => entry.values > 1)
    .slice(0, MAX_CONFIG_KEYS);
}

interface TableKeys {
  version: number;
  metrics: Array<{ name: string; runs: number }>;
  config: Array<{ key: string; values: number }>;
  defaults: { metrics: string[]; config: string[] };
}
const keysOf = new WeakMap<RunIndex, TableKeys>();

/** The metrics and config keys of the runs, worked out once per index version (every request shares them). */
function tableKeys(index: RunIndex): TableKeys {
  const known = keysOf.get(index);
  if (known !== undefined && known.version === index.keysVersion) return known;
  const metrics = metricNames(index);
  const config = varyingConfigKeys(index);
  const keys = {
    version: index.keysVersion,
    metrics,
    config,
    defaults: { metrics: defaultMetricNames(metrics.map((entry) => entry.name)), config: config.slice(0, 12).map((entry) => entry.key) },
  };
  keysOf.set(index, keys);
  return keys;
}

export interface TableRequest {
  since?: number;
  /** Column ids: "m:<metric>" (last and best), "c:<config path>". Default: see tablePayload. */
  columns?: string[];
  filter?: string;
}

/** A row as the filter reads it (the page describes its rows the same way). */
export function rowSubject(row: RunRow, now: number): FilterSubject {
  const status = shownStatus(row, now).status;
  return subjectOf({
    name: row.name,
    group: row.group,
    id: row.id,
    status,
    gpu: row.gpu.model === null ? null : `${row.gpu.model} x${row.gpu.count}`,
    git: row.git.short_hash,
    host: row.host,
    tags: row.notes.tags,
    note: row.notes.note,
    params: row.parameters,
    duration: shownDuration(row, status, now),
    start: Date.parse(row.started_at),
    config: (path) => row.config.get(path),
    metric: (name, which) => (which === "best" ? row.metrics.bestOf(name) : row.metrics.lastOf(name)),
  });
}

export function parseRowFilter(index: RunIndex, text: string): ParsedFilter {
  const names = new Set(tableKeys(index).metrics.map((entry) => entry.name));
  return parseFilter(text, (name) => names.has(name));
}

export function tablePayload(index: RunIndex, request: TableRequest = {}, now = Date.now()): Record<string, unknown> {
  const since = request.since ?? -1;
  const filter = request.filter ? parseRowFilter(index, request.filter) : null;
  const rows = [...index.runs.values()]
    .filter((entry) => entry.version > since)
    .map((entry) => entry.row)
    .filter((row) => filter === null || matches(filter, rowSubject(row, now)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { metrics, config, defaults } = tableKeys(index);
  let columns = request.columns;
  if (columns === undefined) {
    const everyMetric = metrics.length * index.runs.size * 2 <= ALL_METRICS_CELLS;
    columns = [...(everyMetric ? metrics.map((entry) => entry.name) : defaults.metrics).map((name) => `m:${name}`), ...config.map((entry) => `c:${entry.key}`)];
  }
  const statuses = rows.map((row) => shownStatus(row, now));
  const out: Record<string, unknown> = {
    version: index.version,
    now,
    count: index.runs.size,
    runs: {
      name: rows.map((row) => row.name),
      group: rows.map((row) => row.group),
      id: rows.map((row) => row.id),
      status: statuses.map((status) => status.status),
      lost_reason: statuses.map((status) => status.lost_reason),
      started_at: rows.map((row) => row.started_at),
      duration_seconds: rows.map((row, i) => cell(shownDuration(row, (statuses[i] as ShownStatus).status, now))),
      git: rows.map((row) => (row.git.short_hash === null ? null : `${row.git.short_hash}${row.git.dirty ? "*" : ""}`)),
      gpu_model: rows.map((row) => row.gpu.model),
      gpu_count: rows.map((row) => row.gpu.count),
      gpu_nodes: rows.map((row) => row.gpu.nodes),
      parameters: rows.map((row) => row.parameters),
      host: rows.map((row) => row.host),
      note: rows.map((row) => row.notes.note),
      tags: rows.map((row) => row.notes.tags),
      notes_version: rows.map((row) => row.notes.updated_at ?? null),
      warnings: rows.map((row) => row.warnings),
    },
    columns: columnsOf(rows, columns),
    metrics,
    config,
    defaults,
    problems: [...index.problems.values()].map((problem) => problem.message),
  };
  if (since >= 0) out.removed = [...index.removed].filter(([, version]) => version > since).map(([name]) => name);
  return out;
}

function columnsOf(rows: RunRow[], ids: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    if (id.startsWith("m:")) {
      const name = id.slice(2);
      out[id] = { last: rows.map((row) => cell(row.metrics.lastOf(name))), best: rows.map((row) => cell(row.metrics.bestOf(name))) };
    } else if (id.startsWith("c:")) {
      const key = id.slice(2);
      out[id] = rows.map((row) => cell(row.config.get(key)));
    }
  }
  return out;
}
