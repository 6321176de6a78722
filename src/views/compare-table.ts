/**
 * The comparison table: one row per run, with the config keys that differ between the runs,
 * the chosen final metrics, the GPUs and the code. `config-tracker compare` prints it, the HTML
 * report shows it, and a sweep prints it when it ends (formatCompareTable).
 */
import { relative, resolve, sep } from "node:path";
import { stat } from "node:fs/promises";

import { keyPath } from "../json-value.js";
import { checkOptions, optionNames } from "../options.js";
import { formatValue } from "./diff-runs.js";
import { CONFIG_FILE } from "../experiment/layout.js";
import { loadRun, type LoadedRun } from "./load-run.js";
import { LIST_RUNS_OPTIONS, listRuns, type ListRunsOptions } from "./list-runs.js";
import { defaultMetrics, formatGit, formatGpu, formatNumber, formatTable, runFacts } from "./run-facts.js";

export interface CompareOptions {
  /**
   * Final metrics to show (default: val_loss / train_loss / ... when the runs have them, each
   * followed by its best value, best_val_loss, where the runs have one).
   */
  metrics?: string[];
  /** At most this many differing config keys become columns (default 12; the rest are counted). */
  maxConfigKeys?: number;
}

export interface CompareColumns {
  /** Paths inside config.json's `config` whose values are not the same in every run. */
  configKeys: string[];
  /** How many more differing keys there were than maxConfigKeys. */
  configKeysLeftOut: number;
  metrics: string[];
}

export interface CompareRow {
  name: string;
  status: string;
  config: Record<string, unknown>;
  metrics: Record<string, number | null>;
  gpu: string;
  git: string;
}

/** A config's leaves by dotted path (an empty object or array is a leaf). */
function flatten(config: unknown): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  const walk = (value: unknown, at: string) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [key, item] of Object.entries(value)) walk(item, keyPath(at, key));
    } else flat.set(at, value);
  };
  walk(config, "");
  return flat;
}

/** The leaves as text, to tell values apart (NaN and Infinity as themselves). */
function leaves(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, value] of flatten(config)) {
    out.set(path, JSON.stringify(value, (_key, item: unknown) => (typeof item === "number" && !Number.isFinite(item) ? String(item) : item)));
  }
  return out;
}

export function compareColumns(runs: LoadedRun[], options: CompareOptions = {}): CompareColumns {
  const flat = runs.map((run) => leaves(run.config.config));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const map of flat) for (const key of map.keys()) if (!seen.has(key)) (seen.add(key), keys.push(key));
  const differing = runs.length < 2 ? [] : keys.filter((key) => new Set(flat.map((map) => map.get(key) ?? "(absent)")).size > 1);
  const max = options.maxConfigKeys ?? 12;
  return {
    configKeys: differing.slice(0, max),
    configKeysLeftOut: Math.max(0, differing.length - max),
    metrics: options.metrics ?? withBestValues(runs, defaultMetrics(runs)),
  };
}

/**
 * Each metric followed by its best value (best_<metric>) where some run has one: results.json
 * holds it for the metrics with a direction (lower or higher is better).
 */
function withBestValues(runs: LoadedRun[], metrics: string[]): string[] {
  const has = (name: string) => runs.some((run) => Object.hasOwn(run.finalMetrics, name));
  return metrics.flatMap((name) => (!name.startsWith("best_") && has(`best_${name}`) && !metrics.includes(`best_${name}`) ? [name, `best_${name}`] : [name]));
}

export function compareRows(runs: LoadedRun[], columns: CompareColumns): CompareRow[] {
  return runs.map((run) => {
    const facts = runFacts(run);
    const flat = columns.configKeys.length === 0 ? new Map<string, unknown>() : flatten(run.config.config);
    return {
      name: run.name,
      status: run.status,
      config: Object.fromEntries(columns.configKeys.map((key) => [key, flat.get(key)])),
      metrics: Object.fromEntries(columns.metrics.map((name) => [name, facts.final_metrics[name] ?? null])),
      gpu: formatGpu(facts.gpu),
      git: formatGit(facts.git),
    };
  });
}

/** The terminal table (a line under it when some differing config keys were left out). */
export const COMPARE_OPTIONS = optionNames<CompareOptions>({ metrics: true, maxConfigKeys: true });

export function formatCompareTable(runs: LoadedRun[], options: CompareOptions = {}): string {
  checkOptions("formatCompareTable(runs, options)", options, COMPARE_OPTIONS);
  const columns = compareColumns(runs, options);
  const rows = compareRows(runs, columns);
  const header = ["RUN", "STATUS", ...columns.configKeys, ...columns.metrics, "GPU", "GIT"];
  const cells = rows.map((row) => [
    row.name,
    row.status,
    ...columns.configKeys.map((key) => (row.config[key] === undefined ? "-" : formatValue(row.config[key]))),
    ...columns.metrics.map((name) => formatNumber(row.metrics[name])),
    row.gpu,
    row.git,
  ]);
  const firstMetric = 2 + columns.configKeys.length;
  const right = new Set(columns.metrics.map((_, index) => firstMetric + index));
  let text = formatTable(header, cells, right);
  if (columns.configKeysLeftOut > 0) text += `(${columns.configKeysLeftOut} more config keys differ; compare --json lists them all)\n`;
  if (runs.length > 1 && columns.configKeys.length === 0) text += "(the runs' configs are the same)\n";
  return text;
}

/**
 * The runs named on a command line: a run's folder (holding config.json) is that run; any other
 * folder is a root whose runs are all taken (listRuns). Names are the paths as given, or below
 * the root when a single root is given.
 */
export async function loadRunsFrom(paths: string[], options: ListRunsOptions = {}): Promise<LoadedRun[]> {
  checkOptions("loadRunsFrom(paths, options)", options, LIST_RUNS_OPTIONS);
  const runs: LoadedRun[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const isRun = await stat(resolve(path, CONFIG_FILE)).then(
      (info) => info.isFile(),
      () => false,
    );
    const found = isRun ? [await loadRun(path, { name: path.replace(/\/+$/, "") || path })] : await listRuns(path, options);
    for (const run of found) {
      if (seen.has(run.dir)) continue;
      seen.add(run.dir);
      if (!isRun && paths.length > 1) run.name = relative(process.cwd(), run.dir).split(sep).join("/") || run.name;
      runs.push(run);
    }
  }
  return runs;
}

/**
 * The compare table of the runs in these folders, each shown by its given name; folders without a
 * loadable run (not started yet, only submitted to SLURM) are left out. "" when none is left.
 * What `config-tracker sweep` prints under its summary.
 */
export async function formatCompareTableOf(folders: Array<{ dir: string; name: string }>, options: CompareOptions = {}): Promise<string> {
  checkOptions("formatCompareTableOf(folders, options)", options, COMPARE_OPTIONS);
  const runs: LoadedRun[] = [];
  for (const { dir, name } of folders) {
    try {
      runs.push(await loadRun(dir, { name }));
    } catch {
      // no run there (yet): the sweep's own summary says why
    }
  }
  return runs.length === 0 ? "" : formatCompareTable(runs, options);
}
