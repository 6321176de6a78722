/**
 * runSweep: every combination of a grid as a `config-tracker run` of the command with its values
 * filled in, into one root folder with a manifest (sweep.json). Launched on this host's free GPUs
 * (local.ts) or as one SLURM job array (slurm.ts). A combination whose run already finished is
 * skipped unless `rerun`.
 */
import { join, resolve } from "node:path";

import { ensureFolderSync } from "../io/atomic-write.js";
import { ConfigTrackerError } from "../errors.js";
import { checkOptions, optionNames } from "../options.js";
import { checkGrid, checkPlaceholders, expandGrid, fillCommand, placeholderValues, placeholdersIn, readGridFile } from "./grid.js";
import { openGpuPool, runLocal } from "./local.js";
import {
  MANIFEST_FILE,
  readManifest,
  sweepId,
  writeManifest,
  type SweepManifest,
} from "./manifest.js";
import { pendingResult, runFolderStatus, type CombinationResult, type PlannedRun, type SweepContext, type SweepOptions } from "./plan.js";
import { queuedCombinations, submitSlurm } from "./slurm.js";

export interface SweepResult {
  root: string;
  manifestPath: string;
  combinations: CombinationResult[];
  /** The signal that stopped the sweep, or null. */
  interrupted: NodeJS.Signals | null;
  slurmJobId: string | null;
  /** Dry run: the commands (and, for SLURM, the batch script) that would run. */
  plan?: string;
}

function positiveInteger(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${name} ${value}: expected a whole number of at least 1`, { key: name });
  }
}

function skippedResult(run: PlannedRun, status: "finished" | "running" | "submitted"): CombinationResult {
  return { ...pendingResult(run, status), skipped: true, exitCode: status === "finished" ? 0 : null, gpus: run.last?.gpus ?? null };
}

const SWEEP_OPTIONS = optionNames<SweepOptions>({
  grid: true,
  command: true,
  root: true,
  gpus: true,
  gpusPerRun: true,
  parallel: true,
  rerun: true,
  launcher: true,
  runOptions: true,
  sbatchOptions: true,
  wait: true,
  dryRun: true,
  log: true,
  signal: true,
  handleSignals: true,
  gpuPollMs: true,
  env: true,
});

export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  if (typeof options !== "object" || options === null) throw new ConfigTrackerError("INVALID_ARGUMENT", "runSweep(options): options with a grid and a command are required");
  checkOptions("runSweep(options)", options, SWEEP_OPTIONS);
  const grid = typeof options.grid === "string" ? await readGridFile(options.grid) : checkGrid(options.grid, "grid");
  if (!Array.isArray(options.command) || options.command.length === 0 || options.command.some((arg) => typeof arg !== "string")) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "runSweep: command must be a non-empty array of strings (argv)");
  }
  checkPlaceholders(options.command, grid, "the command");
  const runOptions = options.runOptions ?? [];
  checkPlaceholders(runOptions, grid, "the run options");
  positiveInteger(options.gpusPerRun, "--gpus-per-run");
  positiveInteger(options.parallel, "--parallel");
  const gpus = options.gpus;
  if (
    gpus !== undefined &&
    gpus !== "all" &&
    gpus !== "none" &&
    !(Array.isArray(gpus) && gpus.length > 0 && gpus.every((index) => Number.isSafeInteger(index) && index >= 0) && new Set(gpus).size === gpus.length)
  ) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `gpus ${JSON.stringify(gpus)}: expected "all", "none" or distinct GPU indices`, { key: "--gpus" });
  }
  const launcher = options.launcher ?? "local";
  if (launcher !== "local" && launcher !== "slurm") {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `launcher ${JSON.stringify(launcher)}: expected "local" or "slurm"`, { key: "--launcher" });
  }
  if (launcher === "slurm" && options.gpus !== undefined) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "--gpus: SLURM picks the GPUs; ask for them with --gpus-per-run N", { key: "--gpus" });
  }

  const root = resolve(options.root ?? "runs");
  const id = sweepId(grid, options.command, runOptions);
  const previous = options.dryRun ? null : readManifest(root);
  const lastByName = new Map(previous?.combinations.map((combination) => [combination.name, combination.last]) ?? []);
  const planned: PlannedRun[] = expandGrid(grid).map((combination) => {
    const path = join(root, combination.name);
    const values = placeholderValues(combination, path);
    return {
      index: combination.index,
      name: combination.name,
      dir: combination.name,
      path,
      values: combination.values,
      command: fillCommand(options.command, values),
      run_options: fillCommand(runOptions, values),
      last: lastByName.get(combination.name) ?? null,
    };
  });

  const now = new Date().toISOString();
  const manifest: SweepManifest = {
    format: "config-tracker-sweep",
    version: 1,
    sweep_id: id,
    created_at: previous?.sweep_id === id ? previous.created_at : now,
    updated_at: now,
    grid,
    command: options.command,
    run_options: runOptions,
    launcher,
    gpus_per_run: options.gpusPerRun ?? null,
    combinations: planned.map(({ path: _path, ...combination }) => combination),
    slurm_jobs: previous?.slurm_jobs ?? [],
  };

  const log = options.log ?? (() => {});
  const used = new Set(placeholdersIn([...options.command, ...runOptions]));
  const unused = Object.keys(grid).filter((key) => !used.has(key));
  if (unused.length > 0) log(`sweep: ${unused.map((key) => `{${key}}`).join(", ")} not in the command: only recorded in each run's config`);

  // What is left to do: a finished run is kept unless rerun; a live one is never started twice.
  const results = new Map<number, CombinationResult>();
  const toRun: PlannedRun[] = [];
  let finishedBefore = 0;
  const queued = launcher === "slurm" && !options.dryRun ? queuedCombinations(manifest.slurm_jobs, options.env ?? process.env) : new Set<number>();
  if (queued.size > 0) log(`sweep: ${queued.size} combination(s) still queued or running in SLURM: left alone`);
  for (const run of planned) {
    const status = queued.has(run.index) && runFolderStatus(run.path) !== "finished" ? "submitted" : runFolderStatus(run.path);
    if (status === "submitted") {
      results.set(run.index, skippedResult(run, "submitted"));
      continue;
    }
    if ((status === "finished" && !options.rerun) || status === "running") {
      if (status === "finished") finishedBefore += 1;
      else log(`sweep: ${run.name} is still running (${run.path}): left alone`);
      results.set(run.index, skippedResult(run, status));
    } else toRun.push(run);
  }
  if (finishedBefore > 0) log(`sweep: ${finishedBefore} of ${planned.length} combinations already finished, skipped (--rerun runs them again)`);

  const context: SweepContext = { options, root, manifest, planned, toRun, results, log };
  if (launcher === "local" && !options.dryRun && toRun.length > 0 && options.gpus !== "none") {
    const pool = await openGpuPool(options, options.gpuPollMs ?? 1000);
    if (typeof pool === "string") context.noGpuReason = pool;
    else context.pool = pool;
  }
  if (!options.dryRun) {
    try {
      ensureFolderSync(root);
      writeManifest(root, manifest);
    } catch (error) {
      await context.pool?.close();
      throw error;
    }
  }
  const outcome = launcher === "slurm" ? await submitSlurm(context) : await runLocal(context);
  const combinations = planned.map((run) => results.get(run.index) as CombinationResult);
  return {
    root,
    manifestPath: join(root, MANIFEST_FILE),
    combinations,
    interrupted: outcome.interrupted,
    slurmJobId: outcome.slurmJobId,
    ...(outcome.plan === undefined ? {} : { plan: outcome.plan }),
  };
}

export type { CombinationResult, SweepOptions } from "./plan.js";
