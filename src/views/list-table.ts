/** `config-tracker ls`: one line per run, sorted by a column, a metric or a config key. */
import { ConfigTrackerError } from "../errors.js";
import type { LoadedRun } from "./load-run.js";
import {
  defaultMetrics,
  formatCount,
  formatDuration,
  formatGit,
  formatGpu,
  formatNumber,
  formatStart,
  formatTable,
  runFacts,
  type RunFacts,
} from "./run-facts.js";

export interface RunListOptions {
  /** Final metrics to show (default: val_loss / train_loss / ... when the runs have them). */
  metrics?: string[];
  /**
   * start (default), name, status, duration, params, git, gpu, a metric's name, or config.<key>
   * (dotted); a leading "-" sorts descending. Runs without the value come last.
   */
  sort?: string;
  now?: number;
}

export interface RunListEntry extends RunFacts {
  /** The chosen metrics (null where the run has none). */
  metrics: Record<string, number | null>;
}

const COLUMNS = new Set(["start", "name", "id", "status", "duration", "params", "git", "gpu"]);

/** The value at a dotted path (`config.optimizer.lr`, `model.num_layers`) of a run's config.json. */
export function configValue(run: LoadedRun, path: string): unknown {
  let value: unknown = run.config;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function sortValue(run: LoadedRun, facts: RunFacts, key: string): string | number | undefined {
  switch (key) {
    case "start":
      return Date.parse(facts.started_at);
    case "name":
      return facts.name;
    case "id":
      return facts.id;
    case "status":
      return facts.status;
    case "duration":
      return facts.duration_seconds ?? undefined;
    case "params":
      return facts.parameters ?? undefined;
    case "git":
      return facts.git.short_hash ?? undefined;
    case "gpu":
      return formatGpu(facts.gpu);
  }
  if (key.startsWith("config.") || key.startsWith("model.") || key.startsWith("dataset.") || key.startsWith("hardware.")) {
    const value = configValue(run, key);
    return typeof value === "number" || typeof value === "string" ? value : value === undefined ? undefined : JSON.stringify(value);
  }
  const metric = facts.final_metrics[key];
  return metric === undefined || Number.isNaN(metric) ? undefined : metric;
}

/**
 * The key of `sort` ("-val_loss": val_loss), or INVALID_ARGUMENT when it names nothing: not a
 * column, not config.<key> (model., dataset., hardware.), and no run has such a metric (with no
 * runs, none has).
 */
export function checkSortKey(runs: LoadedRun[], sort: string): string {
  const key = sort.startsWith("-") ? sort.slice(1) : sort;
  if (key === "") throw new ConfigTrackerError("INVALID_ARGUMENT", `--sort: give a column, a metric or config.<key>`);
  const known = COLUMNS.has(key) || /^(config|model|dataset|hardware)\./.test(key) || runs.some((run) => Object.hasOwn(run.finalMetrics, key));
  if (!known) {
    throw new ConfigTrackerError(
      "INVALID_ARGUMENT",
      `--sort ${key}: not a column (${[...COLUMNS].join(", ")}), a final metric of these runs (${runs.length === 0 ? "there are none" : "none has it"}), or config.<key>`,
      { key },
    );
  }
  return key;
}

export function sortRuns(runs: LoadedRun[], sort: string): LoadedRun[] {
  const descending = sort.startsWith("-");
  const key = checkSortKey(runs, sort);
  const keyed = runs.map((run) => ({ run, value: sortValue(run, runFacts(run), key) }));
  keyed.sort((a, b) => {
    if (a.value === undefined || b.value === undefined) return a.value === undefined ? (b.value === undefined ? 0 : 1) : -1;
    const order =
      typeof a.value === "number" && typeof b.value === "number" ? a.value - b.value : String(a.value).localeCompare(String(b.value));
    return descending ? -order : order;
  });
  return keyed.map((entry) => entry.run);
}

export function runListEntries(runs: LoadedRun[], options: RunListOptions = {}): RunListEntry[] {
  const metrics = options.metrics ?? defaultMetrics(runs);
  const sorted = options.sort === undefined ? runs : sortRuns(runs, options.sort);
  return sorted.map((run) => {
    const facts = runFacts(run, options.now);
    return { ...facts, metrics: Object.fromEntries(metrics.map((name) => [name, facts.final_metrics[name] ?? null])) };
  });
}

/** The table `ls` prints. */
export function formatRunList(runs: LoadedRun[], options: RunListOptions = {}): string {
  const metrics = options.metrics ?? defaultMetrics(runs);
  const entries = runListEntries(runs, { ...options, metrics });
  const header = ["RUN", "STATUS", "START", "DURATION", "GIT", "GPU", "PARAMS", ...metrics];
  const rows = entries.map((entry) => [
    entry.name,
    entry.status,
    formatStart(entry.started_at),
    formatDuration(entry.duration_seconds),
    formatGit(entry.git),
    formatGpu(entry.gpu),
    formatCount(entry.parameters),
    ...metrics.map((name) => formatNumber(entry.metrics[name])),
  ]);
  const right = new Set([3, 6, ...metrics.map((_, index) => 7 + index)]);
  return formatTable(header, rows, right);
}
