/**
 * The local launcher: each combination as a `config-tracker run` child process, on GPUs no one
 * else uses (CUDA_VISIBLE_DEVICES set per run), as many at once as the GPUs and --parallel allow.
 * A run that fails does not stop the others. A signal to the sweep is passed to every running
 * wrapper, which passes it to its command and records the run as interrupted; nothing new starts.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { ConfigTrackerError } from "../errors.js";
import { GpuPool, type GpuSlot } from "./gpus.js";
import { shellQuote } from "./grid.js";
import { writeManifest, type CombinationStatus } from "./manifest.js";
import { listenForStops } from "./signals.js";
import { configArgs, pendingResult, runFolderStatus, type LaunchOutcome, type PlannedRun, type SweepContext, type SweepOptions } from "./plan.js";

/** The CLI that runs each combination (dist/cli.js next to dist/sweep/). */
export const CLI_PATH = fileURLToPath(new URL("../cli.js", import.meta.url));

/** `config-tracker run` arguments for a combination (after `node cli.js`). */
export function runArguments(run: PlannedRun): string[] {
  return ["run", "--dir", run.path, ...configArgs(run.values), ...run.run_options, "--", ...run.command];
}

interface Running {
  run: PlannedRun;
  slots: GpuSlot[] | null;
  kill: (signal: NodeJS.Signals) => void;
}

/** The two lines `config-tracker run` writes around its command (src/run/outcome.ts). */
const RUN_STATUS_LINE = /^config-tracker run: (recording in |(finished|failed|interrupted) \(.*; recorded in )/;

/**
 * The last non-empty line of what a run wrote to stderr (kept to the last 4 KiB), other than the
 * wrapper's own lines saying where it records and how it ended.
 */
class Tail {
  private text = "";
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-4096);
  }
  lastLine(): string | null {
    const lines = this.text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !RUN_STATUS_LINE.test(line));
    return lines[lines.length - 1] ?? null;
  }
}

function dryRunPlan(context: SweepContext, gpusPerRun: number): string {
  const lines = context.toRun.map((run) => `${run.name}\n  ${[process.execPath, CLI_PATH, ...runArguments(run)].map(shellQuote).join(" ")}`);
  const pinning = context.options.gpus === "none" ? "no GPU pinning" : `${gpusPerRun} GPU(s) per run`;
  return `${context.toRun.length} of ${context.planned.length} combinations to run (${pinning}):\n${lines.join("\n")}\n`;
}

/**
 * The GPUs to hand out, opened before anything is written (a --gpus or --gpus-per-run the host
 * cannot satisfy is an error, GPU indices on a host without GPUs too); a string when there are
 * none to hand out (the reason).
 */
export async function openGpuPool(options: SweepOptions, pollMs: number): Promise<GpuPool | string> {
  const opened = await GpuPool.open({ selection: options.gpus ?? "all", env: options.env ?? process.env, pollMs });
  if ("unavailable" in opened) {
    if (!Array.isArray(options.gpus)) return opened.unavailable;
    throw new ConfigTrackerError(
      "INVALID_ARGUMENT",
      `--gpus ${options.gpus.join(",")}: this sweep has no GPU to hand out (${opened.unavailable}); without --gpus (or with --gpus none) it runs without setting CUDA_VISIBLE_DEVICES`,
      { key: "--gpus" },
    );
  }
  const gpusPerRun = options.gpusPerRun ?? 1;
  if (gpusPerRun > opened.slots.length) {
    await opened.close();
    throw new ConfigTrackerError(
      "INVALID_ARGUMENT",
      `--gpus-per-run ${gpusPerRun}: this sweep has only ${opened.slots.length} GPU(s) (${opened.slots.map((slot) => slot.label).join(",")})`,
      { key: "--gpus-per-run" },
    );
  }
  return opened;
}

export async function runLocal(context: SweepContext): Promise<LaunchOutcome> {
  const { options, toRun, results, log, manifest, root } = context;
  const gpusPerRun = options.gpusPerRun ?? 1;
  if (options.dryRun) {
    for (const run of toRun) results.set(run.index, pendingResult(run, "not started"));
    return { interrupted: null, slurmJobId: null, plan: dryRunPlan(context, gpusPerRun) };
  }
  const env = options.env ?? process.env;
  const pollMs = options.gpuPollMs ?? 1000;

  const pool = context.pool ?? null;
  if (context.pool === undefined && toRun.length > 0 && options.gpus !== "none") {
    log(`sweep: no GPU to hand out (${context.noGpuReason}): running ${options.parallel ?? 1} at a time without setting CUDA_VISIBLE_DEVICES`);
  }
  const limit = options.parallel ?? (pool === null ? 1 : Number.POSITIVE_INFINITY);
  const total = context.planned.length;
  const queue = [...toRun];
  const running = new Map<number, Running>();
  let stopping: NodeJS.Signals | null = null;
  // Something happened (a run ended, a signal): look again now rather than at the next poll.
  let woken = false;
  let wake: () => void = () => {
    woken = true;
  };

  const stopListening = listenForStops(options, (signal) => {
    if (stopping === null) log(`sweep: ${signal}: stopping ${running.size} running run(s); ${queue.length} not started`);
    stopping = signal;
    for (const { kill } of running.values()) kill(signal);
    wake();
  });

  const saveManifest = () => {
    try {
      writeManifest(root, manifest, { durable: false });
    } catch (error) {
      log(`sweep: could not update ${root}/sweep.json: ${(error as Error).message}`);
    }
  };

  const start = (run: PlannedRun, slots: GpuSlot[] | null) => {
    const label = `[${run.index + 1}/${total}] ${run.name}`;
    const gpus = slots?.map((slot) => slot.label) ?? null;
    const childEnv: NodeJS.ProcessEnv = { ...env };
    if (slots !== null) childEnv.CUDA_VISIBLE_DEVICES = slots.map((slot) => slot.cudaId).join(",");
    const started = Date.now();
    const tail = new Tail();
    // Its own process group: Ctrl-C at a terminal reaches the sweep alone, which passes it on
    // once to each wrapper. The command's output is in the run's output.log.
    const child = spawn(process.execPath, [CLI_PATH, ...runArguments(run)], {
      env: childEnv,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => tail.push(text));
    const entry = manifest.combinations.find((combination) => combination.index === run.index);
    const last = { status: "running" as CombinationStatus, exit_code: null, signal: null, gpus, started_at: new Date(started).toISOString(), ended_at: null };
    if (entry) entry.last = last;
    saveManifest();
    log(`${label}: started${gpus === null ? "" : ` on GPU ${gpus.join(",")}`}`);
    running.set(run.index, {
      run,
      slots,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (!running.has(run.index)) return;
      running.delete(run.index);
      if (slots !== null) pool?.release(slots);
      const reported = runFolderStatus(run.path);
      const status: CombinationStatus =
        reported === "finished" || reported === "failed" || reported === "interrupted"
          ? reported
          : stopping !== null
            ? "interrupted"
            : code === 0
              ? "finished"
              : "failed";
      const error = spawnError?.message ?? (status === "finished" ? null : tail.lastLine());
      const seconds = (Date.now() - started) / 1000;
      results.set(run.index, { ...pendingResult(run, status), exitCode: code, signal, gpus, durationSeconds: seconds, error });
      if (entry) entry.last = { ...last, status, exit_code: code, signal, ended_at: new Date().toISOString() };
      saveManifest();
      const how = signal !== null ? `by ${signal}` : `exit ${code}`;
      log(`${label}: ${status} (${how}, ${seconds.toFixed(1)} s)${status !== "finished" && error ? `: ${error}` : ""}`);
      wake();
    };
    child.once("error", (error) => finish(null, null, error));
    child.once("close", (code, signal) => finish(code, signal));
  };

  let lastWaiting = "";
  try {
    while (queue.length > 0 || running.size > 0) {
      if (stopping === null) {
        pool?.refresh();
        while (queue.length > 0 && running.size < limit) {
          const slots = pool === null ? null : pool.take(gpusPerRun);
          if (pool !== null && slots === null) break;
          start(queue.shift() as PlannedRun, slots);
        }
        if (queue.length > 0 && pool !== null && running.size < limit) {
          const busy = pool.describeBusy();
          if (busy !== lastWaiting) log(`sweep: ${queue.length} waiting for a free GPU; busy: ${busy}`);
          lastWaiting = busy;
        }
      } else {
        for (const run of queue.splice(0)) results.set(run.index, pendingResult(run, "not started"));
        if (running.size === 0) break;
      }
      if (!woken) {
        await new Promise<void>((resolveWait) => {
          const timer = setTimeout(resolveWait, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolveWait();
          };
        });
      }
      woken = false;
      wake = () => {
        woken = true;
      };
    }
  } finally {
    stopListening();
    await pool?.close();
  }
  return { interrupted: stopping, slurmJobId: null };
}

