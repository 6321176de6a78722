/**
 * What a sweep's launchers share: a combination ready to launch, how each one went, and how a
 * run folder's status is read.
 */
import { join } from "node:path";

import { STATUS_FILE } from "../experiment/layout.js";
import { readStatusRecord, reportedStatus, type ReportedStatus } from "../experiment/status.js";
import type { CombinationStatus, ManifestCombination, SweepManifest } from "./manifest.js";
import type { GpuPool, GpuSelection } from "./gpus.js";
import type { Grid } from "./grid.js";

export interface CombinationResult {
  index: number;
  name: string;
  /** The run folder (absolute). */
  dir: string;
  values: Record<string, unknown>;
  status: CombinationStatus;
  /** True when the run had finished (or was running) before this sweep and was left alone. */
  skipped: boolean;
  exitCode: number | null;
  signal: string | null;
  gpus: string[] | null;
  durationSeconds: number | null;
  /** Why it failed, when known: the last line the run wrote to stderr. */
  error: string | null;
}

/** One combination, ready to launch. */
export interface PlannedRun extends ManifestCombination {
  /** Absolute run folder. */
  path: string;
}

/** The status a run folder's status.json reports, or null when it has none (never started). */
export function runFolderStatus(dir: string): ReportedStatus | null {
  const record = readStatusRecord(join(dir, STATUS_FILE));
  return record === null ? null : reportedStatus(record).status;
}

/** `--set key=<json>` for each value: the run's config is the combination. */
export function configArgs(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ["--set", `${key}=${JSON.stringify(value)}`]);
}

export type SweepContext = {
  options: SweepOptions;
  root: string;
  manifest: SweepManifest;
  planned: PlannedRun[];
  /** In index order; the launcher fills `results` for each. */
  toRun: PlannedRun[];
  results: Map<number, CombinationResult>;
  log: (line: string) => void;
  /** Local launcher: the GPUs to hand out; undefined when there are none (see noGpuReason). */
  pool?: GpuPool;
  noGpuReason?: string;
};

export interface LaunchOutcome {
  interrupted: NodeJS.Signals | null;
  slurmJobId: string | null;
  plan?: string;
}

/** A combination's result with no outcome of its own (nothing ran, nothing ended): what the launchers report
 * for runs not started, and the base they fill in with what happened. */
export function pendingResult(run: PlannedRun, status: CombinationResult["status"]): CombinationResult {
  return {
    index: run.index,
    name: run.name,
    dir: run.path,
    values: run.values,
    status,
    skipped: false,
    exitCode: null,
    signal: null,
    gpus: null,
    durationSeconds: null,
    error: null,
  };
}

/** runSweep's options (see docs/sweeps.md). */
export interface SweepOptions {
  /** The grid, or the path of a grid.json. */
  grid: Grid | string;
  /** The command (argv) with {placeholders}: grid keys, {run_name}, {run_dir}. */
  command: string[];
  /** The sweep's folder: runs and sweep.json go there (default "runs"). */
  root?: string;
  /** GPUs to hand out (default "all"; "none": runs are not pinned). */
  gpus?: GpuSelection;
  /** GPUs per run (default 1). */
  gpusPerRun?: number;
  /** At most this many runs at once (default: as many as the GPUs allow; 1 without GPUs). */
  parallel?: number;
  /** Run combinations that already finished again (as resumptions of their folders). */
  rerun?: boolean;
  launcher?: "local" | "slurm";
  /** Options for each `config-tracker run` (e.g. ["--metrics-regex", "..."]); placeholders allowed. */
  runOptions?: string[];
  /** Extra #SBATCH lines (e.g. "--partition=gpu", "--time=4:00:00"). */
  sbatchOptions?: string[];
  /** SLURM: wait for the array to end (sbatch --wait) and report how each run went. */
  wait?: boolean;
  /** Print what would run (and the batch script) without running or writing anything. */
  dryRun?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Stops the sweep: running children get SIGTERM (and are recorded as interrupted). */
  signal?: AbortSignal;
  /** Catch SIGINT / SIGTERM / SIGHUP and pass them to the runs (default true). */
  handleSignals?: boolean;
  /** How often free GPUs are looked for (ms, default 1000). */
  gpuPollMs?: number;
  /** Environment of the runs (default process.env). */
  env?: NodeJS.ProcessEnv;
}
