/**
 * sweep.json in the sweep's root: the grid, the command, every combination with its run folder,
 * what the launcher last saw of it, and the SLURM jobs submitted. Re-runs and SLURM array tasks
 * read it; the run folders themselves stay the record of how each run went.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

import { writeFileAtomicSync } from "../io/atomic-write.js";
import { readRegularFileIfPresent } from "../io/read-file.js";
import { ConfigTrackerError } from "../errors.js";
import { isPlainRecord, MAX_JSON_BYTES } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";
import type { Grid } from "./grid.js";

export const MANIFEST_FILE = "sweep.json";

export type CombinationStatus = "finished" | "failed" | "interrupted" | "running" | "lost" | "submitted" | "not started";

export interface LastOutcome {
  status: CombinationStatus;
  exit_code: number | null;
  signal: string | null;
  /** The GPUs the run was given (nvidia-smi indices), null when the sweep did not pin it. */
  gpus: string[] | null;
  started_at: string | null;
  ended_at: string | null;
}

export interface ManifestCombination {
  index: number;
  name: string;
  /** The run folder, relative to the sweep's root. */
  dir: string;
  values: Record<string, unknown>;
  /** The command with this combination's values filled in. */
  command: string[];
  /** Options given to `config-tracker run` (before the command), values filled in. */
  run_options: string[];
  last: LastOutcome | null;
}

export interface SlurmSubmission {
  job_id: string;
  /** sbatch's --array value: combination indices, with %K when --parallel limits them. */
  array: string;
  /** The batch script, relative to the root. */
  script: string;
  submitted_at: string;
  combinations: number[];
}

export interface SweepManifest {
  format: "config-tracker-sweep";
  version: 1;
  /** Hash of grid, command and run options: an array task refuses a manifest rewritten for another sweep. */
  sweep_id: string;
  created_at: string;
  updated_at: string;
  grid: Grid;
  command: string[];
  run_options: string[];
  launcher: "local" | "slurm";
  gpus_per_run: number | null;
  combinations: ManifestCombination[];
  slurm_jobs: SlurmSubmission[];
}

export function sweepId(grid: Grid, command: string[], runOptions: string[]): string {
  return createHash("sha256").update(JSON.stringify([grid, command, runOptions])).digest("hex").slice(0, 16);
}

/** The manifest in `root`, or null when there is none; a corrupt one is an error naming it. */
export function readManifest(root: string): SweepManifest | null {
  const path = join(root, MANIFEST_FILE);
  const text = readRegularFileIfPresent(path, MAX_JSON_BYTES);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = parsePythonJson(text);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not JSON (${(error as Error).message})`, { path });
  }
  if (!isPlainRecord(parsed) || parsed.format !== "config-tracker-sweep" || !Array.isArray(parsed.combinations)) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not a config-tracker sweep manifest`, { path });
  }
  return parsed as unknown as SweepManifest;
}

/** Atomic (a reader never sees half of it); `durable: false` for the updates as runs start and end. */
export function writeManifest(root: string, manifest: SweepManifest, options: { durable?: boolean } = {}): void {
  manifest.updated_at = new Date().toISOString();
  writeFileAtomicSync(join(root, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { durable: options.durable !== false });
}
