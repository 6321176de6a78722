/**
 * runCommand: records a training process from the outside, as `config-tracker run` does. Writes
 * config.json (with the command and the hardware as the child sees it) and status.json, runs the
 * child with this process's stdin, tees its output to output.log, takes metrics from its output
 * (JSON lines, regexes) or from a file it writes, records checkpoints as they are completed,
 * samples GPUs / CPU / memory every interval into system.jsonl, passes signals on, and at the end
 * writes results.json (metrics, exit code or signal, duration, system summary, throughput and MFU).
 *
 * One wrapper per node of a multi-node job, all in one folder: node 0 records the run, every node
 * records itself (nodes/, its system log and output log).
 */
import { closeSync } from "node:fs";
import { join, resolve } from "node:path";

import { outputLogFile } from "../experiment/layout.js";
import type { NodeRecord } from "../experiment/nodes.js";
import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { getHardwareInfo } from "../hardware.js";
import { openForAppend } from "../io/append-file.js";
import { ensureFolder } from "../io/atomic-write.js";
import { isPlainRecord } from "../json-value.js";
import { checkOptions, optionNames } from "../options.js";
import type { ResultsFile } from "../schema.js";
import { ConfigTracker } from "../tracker.js";
import { drainOutput, startChild, teeOutput } from "./child.js";
import { commandRecord, interpreterOf } from "./command.js";
import { MetricsRecorder } from "./metrics-recorder.js";
import { NodeFile, nodeFromEnv, type NodeIdentity } from "./node-record.js";
import { configAtEnd, judgeOtherNodes, outcomeOf, resultsOfRun, summariseSystem } from "./outcome.js";
import { metricsOfOutputLine, regexLineMetrics, type LineParser } from "./output-metrics.js";
import { PeriodicWork } from "./periodic.js";
import { ProgressLine } from "./progress-line.js";
import { SignalRelay } from "./signal-relay.js";

export interface RunCommandOptions {
  /** The experiment folder. */
  dir: string;
  /** The run's config (config.json's `config`). */
  config?: Record<string, unknown>;
  /** Carry on a run whose config changed (recorded in config.json); without it, CONFIG_EXISTS. */
  resume?: boolean;
  /** A checkpoint to read the model from now (config.json's `model`; MFU needs its parameter count). */
  model?: string;
  /** Metrics whose best value and step results report, and that pick the best checkpoint (default val_loss min). */
  best?: Record<string, "min" | "max">;
  /** A glob of checkpoint files or folders to record once complete. */
  checkpoints?: string;
  /** A metrics file the command writes (JSON lines, or CSV with a header), followed as it grows. */
  metricsFile?: string;
  /** Regular expressions with named groups `step` and one per metric, for output lines (first match wins). */
  metricsRegex?: string[];
  /** How often GPUs and processes are sampled, in ms (default 1000; 50 to 3,600,000). */
  intervalMs?: number;
  /** The command's environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the command's stdout and stderr are shown besides output.log (default process.stdout / stderr; null: nowhere). */
  stdout?: NodeJS.WritableStream | null;
  stderr?: NodeJS.WritableStream | null;
  /** A progress line on stderr when it is a terminal (default false). */
  progress?: boolean;
  /** Pass SIGINT / SIGTERM / SIGHUP this process gets on to the command while it runs (default true). */
  relaySignals?: boolean;
}

/** How a run ended: what `config-tracker run` reports and exits with. */
export interface RunOutcome {
  /** The experiment folder, absolute. */
  dir: string;
  status: "finished" | "failed" | "interrupted";
  /** The command's exit code (null when a signal ended it). */
  exit_code: number | null;
  /** The signal that ended the command, or null. */
  signal: NodeJS.Signals | null;
  /** Why it failed, when it did. */
  error: string | null;
  /** false: the command could not be started (`error` says why; exit_code 127 or 126). */
  started: boolean;
  /** What a reader should know (a node that failed, a metrics file that never appeared, a lost GPU). */
  warnings: string[];
  /** results.json as written; null on nodes other than 0. */
  results: ResultsFile | null;
}

/** A run whose config is recorded and whose command is about to start. */
export interface PreparedRun {
  /** The experiment folder, absolute. */
  dir: string;
  /** How many times the run has been resumed, this session included (config.json's `resumes`). */
  resumes: number;
  start(): Promise<RunOutcome>;
}

const MIN_INTERVAL_MS = 50;
const MAX_INTERVAL_MS = 3_600_000;

/**
 * Runs `command` as a recorded experiment in `options.dir` and resolves to how it ended.
 * Rejects, before the command starts, with CONFIG_EXISTS (another config there: pass `resume`),
 * RUN_ACTIVE, INVALID_ARGUMENT (bad options) and the errors of saving config.json.
 */
export async function runCommand(command: string[], options: RunCommandOptions): Promise<RunOutcome> {
  const prepared = await prepareRun(command, options);
  if ("refused" in prepared) throw prepared.refused;
  return prepared.start();
}

const RUN_COMMAND_OPTIONS = optionNames<RunCommandOptions>({
  dir: true,
  config: true,
  resume: true,
  model: true,
  best: true,
  checkpoints: true,
  metricsFile: true,
  metricsRegex: true,
  intervalMs: true,
  env: true,
  stdout: true,
  stderr: true,
  progress: true,
  relaySignals: true,
});

function checkRunOptions(command: unknown, options: RunCommandOptions): LineParser[] {
  if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== "string")) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "runCommand(command, options): command must be a non-empty array of strings");
  }
  checkOptions("runCommand(command, options)", options, RUN_COMMAND_OPTIONS);
  if (!isPlainRecord(options) || typeof options.dir !== "string" || options.dir === "") {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "runCommand(command, options): options.dir must be the experiment folder");
  }
  const interval = options.intervalMs ?? 1000;
  if (typeof interval !== "number" || !(interval >= MIN_INTERVAL_MS && interval <= MAX_INTERVAL_MS)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `runCommand: intervalMs must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS}`);
  }
  return (options.metricsRegex ?? []).map(regexLineMetrics);
}

/**
 * Checks the options, then records the config (node 0) or asks for the hardware (other nodes).
 * A ConfigTrackerError from that step comes back as `refused`; the command has not started.
 */
export async function prepareRun(command: string[], options: RunCommandOptions): Promise<PreparedRun | { refused: ConfigTrackerError }> {
  const regexes = checkRunOptions(command, options);
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  const node = nodeFromEnv(env);
  const python = interpreterOf(command, env);
  const dir = resolve(options.dir);
  const started = Date.now();

  // Node 0 records the run; every node records itself. The folder is made once the config (and
  // a --model checkpoint) is known to be good: a refused run leaves nothing behind.
  const tracker = node.rank === 0 ? new ConfigTracker(dir, { env, ...(python === undefined ? {} : { python }), rank: null, signals: false }) : null;
  let gpus: NodeRecord["gpus"];
  let resumes = 0;
  try {
    let hardware;
    if (tracker) {
      const saved = await tracker.saveConfig(options.config ?? {}, {
        mode: options.resume ? "resume" : "auto",
        command: commandRecord(command, env, python, node.count),
        ...(options.model === undefined ? {} : { model: options.model }),
      });
      hardware = saved.hardware;
      resumes = saved.resumes?.length ?? 0;
    } else {
      hardware = await getHardwareInfo({ env, ...(python === undefined ? {} : { python }) });
      await ensureFolder(dir);
    }
    gpus = hardware.gpus.map((gpu) => ({ index: gpu.index, uuid: gpu.uuid, name: gpu.name }));
  } catch (error) {
    if (isConfigTrackerError(error)) return { refused: error };
    throw error;
  }
  return { dir, resumes, start: () => supervise({ command, options, env, node, dir, started, tracker, gpus, regexes }) };
}

interface Supervised {
  command: string[];
  options: RunCommandOptions;
  env: NodeJS.ProcessEnv;
  node: NodeIdentity;
  dir: string;
  started: number;
  tracker: ConfigTracker | null;
  gpus: NodeRecord["gpus"];
  regexes: LineParser[];
}

async function supervise(run: Supervised): Promise<RunOutcome> {
  const { command, options, env, node, dir, started, tracker } = run;
  const nodeFile = new NodeFile(dir, node, { started, command, env, gpus: run.gpus });
  await nodeFile.create();

  // Opened before the command starts, as appends are (a link planted under its name is replaced,
  // never written through).
  const logFd = openForAppend(join(dir, outputLogFile(node.rank)));
  const atTerminal = process.stdin.isTTY === true;
  let spawned;
  try {
    spawned = await startChild(command, env, !atTerminal, logFd);
  } finally {
    closeSync(logFd); // the output keeper has its own
  }
  if ("failure" in spawned) {
    const { message, exitCode } = spawned.failure;
    nodeFile.end("failed", { code: null, signal: null });
    const results =
      (await tracker?.saveResults({
        outcome: { status: "failed", error: message, exit_code: exitCode },
        extra: { exit_code: exitCode, signal: null, duration_seconds: 0 },
      })) ?? null;
    return { dir, status: "failed", exit_code: exitCode, signal: null, error: message, started: false, warnings: [], results };
  }
  const { child, exited, output: childOutput } = spawned;
  nodeFile.record.child_pid = child.pid ?? null;
  nodeFile.write();

  // Output (the keeper logs it): shown, around the progress line, and read by the metrics parsers.
  const stdout = options.stdout === undefined ? process.stdout : options.stdout;
  const stderr = options.stderr === undefined ? process.stderr : options.stderr;
  const progress = new ProgressLine(options.progress === true ? (stderr as NodeJS.WriteStream | null) : null);
  const recorder = new MetricsRecorder(tracker);
  const output = teeOutput(childOutput, {
    stdout,
    stderr,
    onLine: (line) => {
      const metrics = metricsOfOutputLine(line, run.regexes);
      if (metrics) recorder.record(metrics);
    },
    beforeWrite: () => progress.clear(),
  });
  const relay = options.relaySignals === false ? null : new SignalRelay(child, atTerminal);

  const periodic = await PeriodicWork.start({
    dir,
    node: node.rank,
    pid: child.pid,
    env,
    intervalMs: options.intervalMs ?? 1000,
    started,
    tracker,
    recorder,
    nodeFile,
    progress,
    checkpoints: options.checkpoints,
    metricsFile: options.metricsFile,
  });

  // The end.
  const exit = await exited;
  await drainOutput(childOutput, output.done);
  await periodic.finish();
  output.release();
  relay?.stop();

  const durationSeconds = (Date.now() - started) / 1000;
  let outcome = outcomeOf(exit, relay?.received ?? null);
  nodeFile.end(outcome.status, exit);
  if (tracker === null) {
    return { dir, status: outcome.status, exit_code: exit.code, signal: exit.signal, error: outcome.error ?? null, started: true, warnings: [], results: null };
  }

  const system = await summariseSystem(dir, node.rank, periodic.systemLog.summary, periodic.sampler.status().gpu_unavailable_reason);
  const judged = judgeOtherNodes(dir, node.rank, outcome);
  outcome = judged.outcome;
  const warnings = judged.warnings;
  const metricsFileProblem = periodic.metricsFileProblem;
  if (options.metricsFile !== undefined && metricsFileProblem !== null) warnings.push(`--metrics-file ${options.metricsFile}: not read: ${metricsFileProblem}`);
  else if (options.metricsFile !== undefined && !periodic.metricsFileSeen) warnings.push(`--metrics-file ${options.metricsFile}: the file never appeared`);
  if (options.checkpoints !== undefined && !periodic.checkpointsMatched) warnings.push(`--checkpoints ${options.checkpoints}: nothing matched`);
  for (const gpu of system.gpus) {
    if (gpu.lost) warnings.push(`GPU ${gpu.index} (${gpu.uuid ?? gpu.name}) on node ${gpu.node} fell off the bus during the run`);
  }
  const config = await configAtEnd(tracker.configPath);
  const facts = {
    exit,
    durationSeconds,
    system,
    config,
    gpuNames: run.gpus.map((gpu) => gpu.name),
    checkpointParameters: periodic.checkpointParameters,
    warnings,
  };
  const results = await tracker.saveResults({
    outcome,
    ...(options.best === undefined ? {} : { best: options.best }),
    extra: (finalMetrics) => resultsOfRun(facts, finalMetrics),
  });
  return { dir, status: outcome.status, exit_code: exit.code, signal: exit.signal, error: outcome.error ?? null, started: true, warnings, results };
}
