/**
 * The SLURM launcher: one job array (`sbatch --array`), one task per combination still to run.
 * Each task runs `config-tracker sweep --task <root>/sweep.json`, which finds its combination by
 * SLURM_ARRAY_TASK_ID in the manifest and becomes that combination's `config-tracker run`, into
 * the shared root. SLURM sets each task's CUDA_VISIBLE_DEVICES from --gres=gpu:N.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

import { ensureSubfolderSync, writeFileAtomicSync } from "../io/atomic-write.js";
import { ConfigTrackerError } from "../errors.js";
import { shellQuote } from "./grid.js";
import { CLI_PATH } from "./local.js";
import { MANIFEST_FILE, readManifest, writeManifest, type CombinationStatus, type SlurmSubmission } from "./manifest.js";
import { listenForStops } from "./signals.js";
import { configArgs, pendingResult, runFolderStatus, type LaunchOutcome, type SweepContext } from "./plan.js";

/** Batch scripts and the tasks' own output (SLURM's, not the runs') go here, under the root. */
export const SLURM_FOLDER = "slurm";

/** `0-3,5,7-9`: sorted indices as sbatch --array ranges. */
export function arrayRanges(indices: number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export interface BatchScriptOptions {
  jobName: string;
  array: string;
  output: string;
  gpusPerRun: number | null;
  sbatchOptions: string[];
  manifestPath: string;
  sweepId: string;
}

/** Control characters (C0, DEL, C1): a line of a batch script cannot hold one (a newline would start another). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function batchScript(options: BatchScriptOptions): string {
  for (const [what, text] of [
    ["the sweep's root", dirname(options.manifestPath)],
    ["the output path", options.output],
    ["the job name", options.jobName],
    ["Node.js's path", process.execPath],
    ["config-tracker's path", CLI_PATH],
  ] as const) {
    if (CONTROL.test(text)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", `${what} ${JSON.stringify(text)}: a control character cannot be in a SLURM batch script`, { key: "--root" });
    }
  }
  const directives = [
    `--job-name=${options.jobName}`,
    `--array=${options.array}`,
    `--output=${options.output}`,
    ...(options.gpusPerRun === null ? [] : [`--gres=gpu:${options.gpusPerRun}`]),
    ...options.sbatchOptions,
  ];
  const command = [process.execPath, CLI_PATH, "sweep", "--task", options.manifestPath, "--sweep-id", options.sweepId];
  return [
    "#!/bin/sh",
    ...directives.map((directive) => `#SBATCH ${directive}`),
    `# One task per combination of the sweep in ${dirname(options.manifestPath)}: the task finds its`,
    "# combination in sweep.json by SLURM_ARRAY_TASK_ID and runs it as `config-tracker run`.",
    `exec ${command.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

function checkSbatchOptions(options: string[]): void {
  for (const option of options) {
    if (!option.startsWith("-") || CONTROL.test(option)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", `--sbatch ${JSON.stringify(option)}: expected one sbatch option, such as --partition=gpu`, {
        key: "--sbatch",
      });
    }
  }
}

/**
 * Combinations whose array task of an earlier submission SLURM still has queued or running
 * (`squeue -r`), so that a re-run does not submit them twice. Empty when squeue cannot say.
 */
export function queuedCombinations(jobs: SlurmSubmission[], env: NodeJS.ProcessEnv): Set<number> {
  const queued = new Set<number>();
  if (jobs.length === 0) return queued;
  const result = spawnSync("squeue", ["-h", "-r", "-j", jobs.map((job) => job.job_id).join(","), "-o", "%F %K"], {
    env,
    encoding: "utf8",
    timeout: 15_000,
  });
  if (result.status !== 0 || typeof result.stdout !== "string") return queued; // jobs long gone: "Invalid job id"
  const ids = new Set(jobs.map((job) => job.job_id));
  for (const line of result.stdout.split("\n")) {
    const [job, task] = line.trim().split(/\s+/);
    if (job !== undefined && ids.has(job) && task !== undefined && /^\d+$/.test(task)) queued.add(Number(task));
  }
  return queued;
}

interface Submitted {
  jobId: string | null;
  exit: Promise<{ code: number | null; stderr: string }>;
}

/** Starts sbatch; resolves once it printed the job id (or ended without one). */
function startSbatch(args: string[], env: NodeJS.ProcessEnv): Promise<Submitted> {
  return new Promise((resolveSubmitted, reject) => {
    // Its own process group: Ctrl-C reaches the sweep, which cancels the job (scancel).
    const child = spawn("sbatch", args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let jobId: string | null = null;
    let resolveExit: (value: { code: number | null; stderr: string }) => void = () => {};
    const exit = new Promise<{ code: number | null; stderr: string }>((resolvePromise) => (resolveExit = resolvePromise));
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const match = /^(\d+)(?:;\S*)?\s*$/m.exec(stdout);
      if (jobId === null && match) {
        jobId = match[1] as string;
        resolveSubmitted({ jobId, exit });
      }
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.once("error", (error) => {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new ConfigTrackerError("NOT_FOUND", "sbatch: command not found (--launcher slurm needs SLURM's client commands on PATH)"));
      } else reject(error);
    });
    child.once("close", (code) => {
      resolveExit({ code, stderr });
      if (jobId === null) resolveSubmitted({ jobId: null, exit });
    });
  });
}

export async function submitSlurm(context: SweepContext): Promise<LaunchOutcome> {
  const { options, toRun, results, log, manifest, root } = context;
  const sbatchOptions = options.sbatchOptions ?? [];
  checkSbatchOptions(sbatchOptions);
  const setAll = (status: CombinationStatus) => {
    for (const run of toRun) {
      const reported = status === "submitted" ? null : runFolderStatus(run.path);
      results.set(run.index, pendingResult(run, reported === null ? status : reported));
    }
  };
  if (toRun.length === 0) return { interrupted: null, slurmJobId: null };

  const submission = manifest.slurm_jobs.length + 1;
  const scriptPath = join(root, SLURM_FOLDER, `sweep-${submission}.sbatch`);
  const array = `${arrayRanges(toRun.map((run) => run.index))}${options.parallel === undefined ? "" : `%${options.parallel}`}`;
  const script = batchScript({
    jobName: `sweep-${basename(root)}`,
    array,
    output: join(root, SLURM_FOLDER, "%A_%a.out"),
    gpusPerRun: options.gpusPerRun ?? null,
    sbatchOptions,
    manifestPath: join(root, MANIFEST_FILE),
    sweepId: manifest.sweep_id,
  });
  if (options.dryRun) {
    setAll("not started");
    return { interrupted: null, slurmJobId: null, plan: `${scriptPath}:\n${script}` };
  }
  ensureSubfolderSync(root, SLURM_FOLDER);
  writeFileAtomicSync(scriptPath, script); // replaces whatever stands under the name, a link included
  chmodSync(scriptPath, 0o755);

  const env = options.env ?? process.env;
  const submitted = await startSbatch(["--parsable", ...(options.wait ? ["--wait"] : []), scriptPath], env);
  if (submitted.jobId === null) {
    const { code, stderr } = await submitted.exit;
    const reason = stderr.trim().split("\n").pop() || `exit code ${code}`;
    throw new ConfigTrackerError("IO_ERROR", `sbatch ${relative(process.cwd(), scriptPath) || scriptPath}: ${reason}`, { path: scriptPath });
  }
  const jobId = submitted.jobId;
  const now = new Date().toISOString();
  manifest.slurm_jobs.push({
    job_id: jobId,
    array,
    script: relative(root, scriptPath),
    submitted_at: now,
    combinations: toRun.map((run) => run.index),
  });
  for (const run of toRun) {
    const entry = manifest.combinations.find((combination) => combination.index === run.index);
    if (entry) entry.last = { status: "submitted", exit_code: null, signal: null, gpus: null, started_at: null, ended_at: null };
  }
  writeManifest(root, manifest);
  log(`sweep: submitted SLURM job ${jobId} (array ${array}, ${toRun.length} task(s)); follow it with squeue -j ${jobId}`);

  if (!options.wait) {
    setAll("submitted");
    return { interrupted: null, slurmJobId: jobId };
  }
  let interrupted: NodeJS.Signals | null = null;
  const stopListening = listenForStops(options, (signal) => {
    if (interrupted !== null) return;
    interrupted = signal;
    log(`sweep: ${signal}: cancelling SLURM job ${jobId} (its runs are recorded as interrupted)`);
    spawn("scancel", [jobId], { env, stdio: "ignore" }).on("error", () => log("sweep: scancel: command not found"));
  });
  try {
    await submitted.exit;
  } finally {
    stopListening();
  }
  setAll("not started");
  return { interrupted, slurmJobId: jobId };
}

/**
 * The array task's side: the `config-tracker run` arguments of the combination whose index is
 * SLURM_ARRAY_TASK_ID in the manifest at `manifestPath`.
 */
export function arrayTaskRunArguments(manifestPath: string, expectedSweepId: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const taskId = env.SLURM_ARRAY_TASK_ID;
  if (taskId === undefined || !/^\d+$/.test(taskId)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "sweep --task: SLURM_ARRAY_TASK_ID is not set (this runs inside a SLURM array task)");
  }
  const root = dirname(resolve(manifestPath));
  const manifest = readManifest(root);
  if (manifest === null) throw new ConfigTrackerError("NOT_FOUND", `${manifestPath}: no such file`, { path: manifestPath });
  if (expectedSweepId !== undefined && manifest.sweep_id !== expectedSweepId) {
    throw new ConfigTrackerError(
      "INVALID_FILE",
      `${manifestPath}: now describes another sweep (id ${manifest.sweep_id}, this job was submitted for ${expectedSweepId})`,
      { path: manifestPath },
    );
  }
  const combination = manifest.combinations.find((entry) => entry.index === Number(taskId));
  if (combination === undefined) {
    throw new ConfigTrackerError("INVALID_FILE", `${manifestPath}: no combination ${taskId}`, { path: manifestPath });
  }
  return ["--dir", resolve(root, combination.dir), ...configArgs(combination.values), ...combination.run_options, "--", ...combination.command];
}
