/**
 * What a sweep's launchers share: a combination ready to launch, how each one went, and how a
 * run folder's status is read.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { parsePythonJson } from "../python-json.js";
import { STATUS_FILE } from "../experiment/layout.js";
import { reportedStatus, type ReportedStatus } from "../experiment/status.js";
import type { CombinationStatus, ManifestCombination, SweepManifest } from "./manifest.js";
import type { GpuPool } from "./gpus.js";
import type { SweepOptions } from "./sweep.js";

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
  try {
    const record = parsePythonJson(readFileSync(join(dir, STATUS_FILE), "utf8")) as Parameters<typeof reportedStatus>[0];
    return reportedStatus(record).status;
  } catch {
    return null;
  }
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
