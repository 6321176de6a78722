/**
 * The facts every view of a run shows (ls, show, compare, the HTML report), worked out once:
 * when it started, how long it ran, its code, its GPUs, its size, and number formatting.
 */
import { forTerminal, oneLine } from "../text.js";
import type { LoadedRun } from "./load-run.js";

export interface RunFacts {
  name: string;
  id: string;
  dir: string;
  status: LoadedRun["status"];
  /** ISO time of the run's first start (config.json's timestamp). */
  started_at: string;
  /**
   * Seconds from the first start to the end, resumptions included (results' total_time_seconds);
   * while it runs, to now; a lost run, to its last heartbeat or metrics record.
   */
  duration_seconds: number | null;
  git: { short_hash: string | null; dirty: boolean | null; branch: string | null };
  gpu: { model: string | null; count: number; nodes: number };
  parameters: number | null;
  final_metrics: Record<string, number>;
  warnings: string[];
}

const numberOrNull = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** How long a run ran: see RunFacts.duration_seconds. */
function durationOf(run: LoadedRun, now: number): number | null {
  const started = Date.parse(run.config.timestamp);
  const state = run.state;
  const since = (end: number) => (Number.isNaN(started) || !Number.isFinite(end) ? null : Math.max(0, (end - started) / 1000));
  if (state?.status === "running") return since(now);
  if (state?.status === "lost") {
    // Gone without a word: it ran at least until its last heartbeat and its last record.
    return since(Math.max(Date.parse(String(state.updated_at)) || -Infinity, (run.lastLoggedAt ?? -Infinity) * 1000));
  }
  const recorded = numberOrNull(run.results?.final_metrics.total_time_seconds) ?? numberOrNull(run.results?.duration_seconds);
  if (recorded !== null) return recorded;
  const endedAt = typeof state?.ended_at === "string" ? state.ended_at : null;
  return since(endedAt !== null ? Date.parse(endedAt) : state ? Date.parse(String(state.updated_at)) : NaN);
}

export function runFacts(run: LoadedRun, now = Date.now()): RunFacts {
  const duration = durationOf(run, now);
  const git = run.config.git;
  const hardware = run.config.hardware;
  const hosts = new Set([...run.nodes.map((node) => node.host), ...run.ranks.map((rank) => rank.host)]);
  return {
    name: run.name,
    id: run.id,
    dir: run.dir,
    status: run.status,
    started_at: run.config.timestamp,
    duration_seconds: duration,
    git: {
      short_hash: git?.short_hash ?? run.config.git_hash ?? null,
      dirty: git?.dirty ?? null,
      branch: git?.branch ?? null,
    },
    gpu: {
      model: hardware.gpu_model ?? null,
      count: hardware.gpu_count ?? 0,
      nodes: Math.max(1, hosts.size, run.nodes.length),
    },
    parameters: numberOrNull(run.config.model?.num_parameters),
    final_metrics: run.finalMetrics,
    warnings: run.warnings,
  };
}

/** Metrics worth a column when none are asked for: the usual ones the runs have, else the first few. */
const USUAL_METRICS = ["val_loss", "eval_loss", "loss", "train_loss", "accuracy", "val_accuracy", "eval_accuracy", "acc", "val_acc"];

export function defaultMetrics(runs: LoadedRun[], count = 3): string[] {
  const names = new Set<string>();
  for (const run of runs) for (const name of Object.keys(run.finalMetrics)) names.add(name);
  const usual = USUAL_METRICS.filter((name) => names.has(name));
  if (usual.length > 0) return usual.slice(0, count);
  const derived = /(^best_.*_step$)|(^total_time_seconds$)|(^step$)/;
  return [...names].filter((name) => !derived.test(name)).sort().slice(0, count);
}

/** A warning for each asked-for metric that none of the runs has (none when there are no runs). */
export function metricsNoRunHas(runs: LoadedRun[], asked: string[]): string[] {
  if (runs.length === 0) return [];
  const names = new Set<string>();
  for (const run of runs) for (const name of Object.keys(run.finalMetrics)) names.add(name);
  const have = [...names].sort();
  const listed = have.length === 0 ? "they have none" : `they have ${have.slice(0, 12).join(", ")}${have.length > 12 ? `, ... (${have.length})` : ""}`;
  return asked.filter((name) => !names.has(name)).map((name) => `--metrics ${name}: no run has this metric (${listed}); its column is empty`);
}

// --- formatting ----------------------------------------------------------------------------

/** A metric value: integers as they are, others to 5 significant digits; NaN / ±inf by name. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "-";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6 && abs < 1e15) return String(Math.round(value));
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e15)) return value.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(5)));
}

/** 1h02m, 4m05s, 12.3s. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return `${m}m${String(s).padStart(2, "0")}s`;
}

/** Local time to the minute: 2026-11-28 09:40. */
export function formatStart(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** 124.4M, 85.2K, 1.3B. */
export function formatCount(count: number | null): string {
  if (count === null) return "-";
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}K`;
  return String(count);
}

/** 3f2a9c1, 3f2a9c1* when the tree was dirty, - without git. */
export function formatGit(git: RunFacts["git"]): string {
  if (git.short_hash === null) return "-";
  return `${git.short_hash}${git.dirty ? "*" : ""}`;
}

/** "H200 x8", "H200 x8 (2 nodes)", "-" without a GPU. NVIDIA's prefix is left out. */
export function formatGpu(gpu: RunFacts["gpu"]): string {
  if (gpu.model === null || gpu.count === 0) return "-";
  const model = gpu.model.replace(/^NVIDIA /, "");
  return `${model} x${gpu.count}${gpu.nodes > 1 ? ` (${gpu.nodes} nodes)` : ""}`;
}

/**
 * Columns padded to their widest cell; numbers could be right-aligned by the caller's padding.
 * Every cell is made safe for a terminal first (names, keys and values come from run folders).
 */
export function formatTable(rawHeader: string[], rawRows: string[][], rightAligned: Set<number> = new Set()): string {
  const header = rawHeader.map(oneLine);
  const rows = rawRows.map((row) => row.map(oneLine));
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column] as number) : cell.padEnd(widths[column] as number)))
      .join("  ")
      .trimEnd();
  return forTerminal([line(header), ...rows.map(line)].join("\n")) + "\n";
}
