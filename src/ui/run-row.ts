/**
 * A run as one row of the dashboard's table: what `ls` shows of it (runFacts of the library's
 * loader, so the two always agree), the raw status record (whether a "running" run is lost is
 * decided when it is shown, as the loader decides it), every final metric's last and best value,
 * the leaves of its config, and its notes. Small: the loaded run itself is not kept.
 */
import { basename, dirname } from "node:path";

import { readNotes, NOTES_FILE, type Notes } from "./notes.js";
import { lookAtRunFolder, type Roots } from "./safe-files.js";
import { keyPath, loadRun, runFacts, type LoadedRun, type RunFacts } from "./views.js";

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

export interface RunRow {
  name: string;
  /** The folder holding the run, below its root ("" for a run at the top): the sweep. */
  group: string;
  dir: string;
  id: string;
  /** What the loader said when the row was read (the shown status is worked out again). */
  loadedStatus: string;
  state: StatusFields | null;
  started_at: string;
  /** For finished runs; a running run's duration grows (worked out when shown). */
  duration_seconds: number | null;
  git: RunFacts["git"];
  gpu: RunFacts["gpu"];
  parameters: number | null;
  host: string | null;
  /** Final metrics (results.json's, or the latest logged values) and each one's best value. */
  last: Map<string, number>;
  best: Map<string, number>;
  /** Leaves of config.json's `config`, by dotted path: numbers, strings, booleans, null, or JSON text. */
  config: Map<string, number | string | boolean | null>;
  notes: Notes;
  hasResults: boolean;
  warnings: string[];
  /** What the row was read from: the folder's and each file's size and times (safe-files.ts). */
  stamp: string;
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

function flattenConfig(value: unknown, path: string, out: Map<string, number | string | boolean | null>, depth = 0): void {
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 && depth < 32) {
    for (const [key, item] of Object.entries(value)) flattenConfig(item, keyPath(path, key), out, depth + 1);
  } else if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    out.set(path, value);
  } else {
    out.set(path, JSON.stringify(value) ?? null);
  }
}

function bestValues(run: LoadedRun): Map<string, number> {
  const best = new Map<string, number>();
  const summary = run.results?.summary ?? {};
  for (const name of Object.keys(run.finalMetrics)) {
    const recorded = run.finalMetrics[`best_${name}`];
    if (typeof recorded === "number") {
      best.set(name, recorded);
      continue;
    }
    const entry = summary[name];
    if (entry === undefined) continue;
    const value = metricDirection(name) === "min" ? entry.min : entry.max;
    if (typeof value === "number") best.set(name, value);
  }
  return best;
}

/** Reads a run's row; null when the folder holds a config.json that is not a run's. */
export async function readRunRow(dir: string, name: string, roots: Roots): Promise<RunRow> {
  const look = lookAtRunFolder(dir, roots, ROW_EXTRA);
  const group = name.includes("/") ? dirname(name) : "";
  if (look.problem !== null) {
    return {
      ...emptyRow(dir, name, group, look.stamp, look.present),
      warnings: [`not read: ${look.problem}`],
    };
  }
  const run = await loadRun(dir, { name });
  const facts = runFacts(run);
  const state = run.state;
  const warnings = [...facts.warnings];
  let notes: Notes = { note: "", tags: [] };
  if (look.present.includes(NOTES_FILE)) {
    try {
      notes = readNotes(dir, roots) ?? notes;
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }
  const config = new Map<string, number | string | boolean | null>();
  flattenConfig(run.config.config, "", config);
  return {
    name,
    group,
    dir: run.dir,
    id: run.id,
    loadedStatus: run.status,
    state: state === null ? null : statusFields(state as unknown as Record<string, unknown>),
    started_at: facts.started_at,
    duration_seconds: state?.status === "running" ? null : facts.duration_seconds,
    git: facts.git,
    gpu: facts.gpu,
    parameters: facts.parameters,
    host: str(run.config.environment?.hostname) ?? str(state?.host),
    last: new Map(Object.entries(run.finalMetrics)),
    best: bestValues(run),
    config,
    notes,
    hasResults: run.results !== null,
    warnings,
    stamp: look.stamp,
    present: look.present,
  };
}

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown): number | null => (typeof value === "number" ? value : null);

/** The status record as written (the loader's `status` is what it reported: "lost" was written "running"). */
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

function emptyRow(dir: string, name: string, group: string, stamp: string, present: string[]): RunRow {
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
    last: new Map(),
    best: new Map(),
    config: new Map(),
    notes: { note: "", tags: [] },
    hasResults: false,
    warnings: [],
    stamp,
    present,
  };
}
