/**
 * ConfigTracker: the Python original's API in Node idiom, grown to follow a run through training.
 * An experiment folder holds config.json (what ran, where, from which code; resumptions appended),
 * status.json (running / finished / failed / interrupted, with a heartbeat), metrics.jsonl,
 * checkpoints.jsonl, ranks/ (one file per process of a distributed job) and results.json (what
 * came out, derived from the log), in the format the Python ConfigTracker reads and writes.
 */
import { basename, join, resolve } from "node:path";

import { inspectCheckpoint } from "./checkpoint.js";
import { getEnvironmentInfo } from "./environment.js";
import { ConfigTrackerError } from "./errors.js";
import { inspectForRecord, modelForConfig, readCheckpointRecords, storedPath, type CheckpointRecord } from "./experiment/checkpoints.js";
import { ConfigStore, validateModel, type SaveConfigMode, type SavedConfig, type StampedConfig } from "./experiment/config-store.js";
import type { Direction } from "./experiment/derive.js";
import { readJsonFile, writeJsonFile } from "./experiment/json-files.js";
import { CHECKPOINTS_FILE, metricsFile, RESULTS_FILE, STATUS_FILE, rankSystemLogFile } from "./experiment/layout.js";
import { unwatchProcessEnd, watchProcessEnd, type ProcessEndHooks } from "./experiment/lifecycle.js";
import { MetricsStream, READ_METRICS_OPTION_NAMES, type ReadMetricsOptions } from "./experiment/metrics-reader.js";
import { checkMetricValues, checkStep, MetricsWriter } from "./experiment/metrics-writer.js";
import { loadRankFiles, RankFile, rankFromEnv, type RankInfo, type RankRecord } from "./experiment/ranks.js";
import { resultsFromLog } from "./experiment/results.js";
import { HEARTBEAT_MS, reportedStatus, RunStatusFile, type LoadedStatus, type RunEnd, type StatusRecord } from "./experiment/status.js";
import { getGitInfo } from "./git.js";
import { getHardwareInfo, type HardwareOptions } from "./hardware.js";
import { appendLinesSync } from "./io/append-file.js";
import { ensureFolder, ensureFolderSync } from "./io/atomic-write.js";
import { convertJsonAsync, isPlainRecord, toJsonValue, type JsonValue } from "./json-value.js";
import { checkOptions, optionNames } from "./options.js";
import { stringifyPythonJson } from "./python-json.js";
import type { ConfigFile, ModelSummary, ResultsFile } from "./schema.js";
import { startSampler, type Sampler } from "./system/sampler.js";
import { SystemLog } from "./system/system-log.js";

export type { SavedConfig, SaveConfigMode } from "./experiment/config-store.js";
export type { LoadedStatus } from "./experiment/status.js";

// zod takes tens of milliseconds to load: it is loaded on first use, while git and the hardware
// probes wait on their child processes.

export interface ConfigTrackerOptions {
  /** Folder whose git state is recorded (default: the process's working directory). */
  gitDir?: string;
  /** Record git state (default true; CONFIG_TRACKER_DISABLE_GIT=1 turns it off). */
  git?: boolean;
  /** Bounds on the NVML and torch probes. */
  hardware?: Pick<HardwareOptions, "nvmlTimeoutMs" | "torchTimeoutMs">;
  /**
   * The environment the trainer runs with, when it is another process (default process.env): its
   * CUDA_VISIBLE_DEVICES, distributed variables (RANK, SLURM_PROCID, ...) and PYTHON* variables
   * decide what is recorded and which rank this is.
   */
  env?: NodeJS.ProcessEnv;
  /** The interpreter that runs the trainer (default CONFIG_TRACKER_PYTHON, else python3 on PATH). */
  python?: string;
  /** In a distributed job, keep every rank's metrics (metrics.rank-<r>.jsonl), not only rank 0's. */
  allRanks?: boolean;
  /** How often status.json's heartbeat is refreshed, in ms (default 15000, at most 30000). */
  heartbeatMs?: number;
  /**
   * This process's rank, when the environment does not say it right (null: not distributed).
   * `config-tracker run` passes null: a wrapper is one per node, not a rank.
   */
  rank?: RankInfo | null;
  /**
   * Record SIGINT / SIGTERM as `interrupted` and let the signal end the process (default true).
   * false: the program handles its signals itself (a supervisor waiting for its child).
   */
  signals?: boolean;
}

export interface SaveConfigOptions {
  /**
   * The model: a checkpoint path (file or folder; read with inspectCheckpoint) or a ModelInfo
   * (from inspectCheckpoint, or your own counts). Training from scratch: leave it out, and the
   * first recordCheckpoint fills it in.
   */
  model?: string | ModelSummary;
  /** Anything JSON can hold that describes the data. */
  dataset?: unknown;
  /**
   * When config.json exists already: "auto" (default) resumes when the config is the same and
   * throws CONFIG_EXISTS naming the changed keys when it is not; "resume" accepts the changes and
   * records them; "overwrite" moves the previous run's files to .previous/<timestamp>/.
   */
  mode?: SaveConfigMode;
  /** Resuming: the checkpoint training restarts from. */
  fromCheckpoint?: string;
  /** Resuming: the step training restarts from. */
  fromStep?: number;
  /** The command that runs the trainer (config.json's `command`; not compared on resumption). */
  command?: Record<string, unknown>;
}

export interface SaveResultsInput {
  /** Your final metrics; they win over the ones derived from metrics.jsonl. */
  finalMetrics?: Record<string, unknown>;
  /** The best checkpoint; by default picked from recorded checkpoints by the best metric. */
  bestCheckpoint?: string | null;
  generationSamples?: unknown[] | null;
  /** Metrics whose best value (and its step) is reported: default { val_loss: "min" }. */
  best?: Record<string, Direction>;
  /**
   * More top-level keys for results.json (`config-tracker run`: exit_code, system, throughput),
   * or a function of the final metrics that returns them (throughput needs the derived tokens/s).
   */
  extra?: Record<string, unknown> | ((finalMetrics: Record<string, JsonValue>) => Record<string, unknown>);
  /** How the run ended, when not simply `finished` (a supervised process that failed). */
  outcome?: { status: "finished" | "failed" | "interrupted"; error?: string; exit_code?: number; signal?: string };
}

function gitDisabled(): boolean {
  const value = process.env.CONFIG_TRACKER_DISABLE_GIT;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

const MODES = new Set<SaveConfigMode>(["auto", "resume", "overwrite"]);

const TRACKER_OPTIONS = optionNames<ConfigTrackerOptions>({
  gitDir: true,
  git: true,
  hardware: true,
  env: true,
  python: true,
  allRanks: true,
  heartbeatMs: true,
  rank: true,
  signals: true,
});
const TRACKER_HARDWARE_OPTIONS = optionNames<NonNullable<ConfigTrackerOptions["hardware"]>>({ nvmlTimeoutMs: true, torchTimeoutMs: true });
const SAVE_CONFIG_OPTIONS = optionNames<SaveConfigOptions>({ model: true, dataset: true, mode: true, fromCheckpoint: true, fromStep: true, command: true });
const LOG_METRICS_OPTIONS = ["time"];
const READ_METRICS_OPTIONS = [...READ_METRICS_OPTION_NAMES, "rank"];
const RECORD_CHECKPOINT_OPTIONS = ["step", "metrics", "onlyIfComplete"];
const SAMPLE_SYSTEM_OPTIONS = ["pids", "intervalMs"];
const SAVE_RESULTS_OPTIONS = optionNames<SaveResultsInput>({
  finalMetrics: true,
  bestCheckpoint: true,
  generationSamples: true,
  best: true,
  extra: true,
  outcome: true,
});

/** A non-null, non-array object (not a type guard: it must not widen typed options). */
const isObject = (value: unknown): boolean => typeof value === "object" && value !== null && !Array.isArray(value);

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export class ConfigTracker {
  readonly experimentDir: string;
  readonly experimentId: string;
  readonly configPath: string;
  readonly resultsPath: string;
  readonly statusPath: string;
  /** This process's place in a distributed job; null when it is not one. */
  readonly rank: RankInfo | null;
  readonly #options: ConfigTrackerOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #config: ConfigStore;
  readonly #status: RunStatusFile;
  readonly #rankFile: RankFile | null;
  #metrics: MetricsWriter | undefined;
  #lastStep: number | null = null;
  #system: { sampler: Sampler; log: SystemLog; timer: NodeJS.Timeout } | undefined;
  #followingProcessEnd = false;
  /** What this run does when the process ends: flush the metrics, write how it ended. */
  readonly #onProcessEnd: ProcessEndHooks = {
    handlesSignals: () => this.#options.signals !== false,
    onExit: (code) => {
      this.#flushQuietly();
      if (code === 0) this.#endRun({ status: "finished", exit_code: 0 });
      else this.#endRun({ status: "failed", exit_code: code, error: `the process exited with code ${code}` });
    },
    onFatal: (error) => {
      this.#flushQuietly();
      this.#endRun({ status: "failed", error: describeError(error) });
    },
    onSignal: (signal) => {
      this.#flushQuietly();
      this.#endRun({ status: "interrupted", signal });
    },
  };

  constructor(experimentDir: string, options: ConfigTrackerOptions = {}) {
    if (typeof experimentDir !== "string" || experimentDir.trim() === "") {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker(experimentDir): a folder path is required");
    }
    checkOptions("ConfigTracker(dir, options)", options, TRACKER_OPTIONS);
    checkOptions("ConfigTracker options.hardware", options.hardware, TRACKER_HARDWARE_OPTIONS);
    if (options.env !== undefined && !isPlainRecord(options.env)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker options.env: must be an object of environment variables");
    }
    if (options.python !== undefined && (typeof options.python !== "string" || options.python === "")) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker options.python: must be an interpreter path or name");
    }
    const heartbeat = options.heartbeatMs ?? HEARTBEAT_MS;
    if (typeof heartbeat !== "number" || !(heartbeat >= 10 && heartbeat <= 30_000)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker options.heartbeatMs: must be between 10 and 30000");
    }
    this.experimentDir = resolve(experimentDir);
    this.experimentId = basename(this.experimentDir);
    this.#config = new ConfigStore(this.experimentDir);
    this.configPath = this.#config.path;
    this.resultsPath = join(this.experimentDir, RESULTS_FILE);
    this.statusPath = join(this.experimentDir, STATUS_FILE);
    this.#status = new RunStatusFile(this.statusPath, heartbeat);
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.rank = options.rank === undefined ? rankFromEnv(this.#env) : options.rank;
    this.#rankFile = this.rank === null ? null : new RankFile(this.experimentDir, this.rank);
  }

  /** Rank 0, or not a distributed job: the process that writes config, status and results. */
  get isMainRank(): boolean {
    return this.rank === null || this.rank.rank === 0;
  }

  // ---------------------------------------------------------------------------------------------
  // config.json

  /**
   * Records the config with hardware (as the trainer sees it), git and environment, starts the
   * run's status and heartbeat, and returns what config.json now holds. On ranks other than 0
   * only ranks/rank-<r>.json is written.
   */
  async saveConfig(config: Record<string, unknown>, options: SaveConfigOptions = {}): Promise<SavedConfig> {
    if (!isPlainRecord(config)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "config: must be an object of settings", { key: "config" });
    }
    checkOptions("saveConfig(config, options)", options, SAVE_CONFIG_OPTIONS);
    const mode = options.mode ?? "auto";
    if (!MODES.has(mode)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", `saveConfig: mode must be "auto", "resume" or "overwrite" (got ${String(mode)})`);
    }
    const fromStep = options.fromStep === undefined ? undefined : checkStep(options.fromStep, "fromStep");
    if (options.fromCheckpoint !== undefined && typeof options.fromCheckpoint !== "string") {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "saveConfig: fromCheckpoint must be a path");
    }

    const converted = await convertJsonAsync(config, "config");
    const dataset = options.dataset === undefined ? undefined : await convertJsonAsync(options.dataset, "dataset");
    const modelObject =
      options.model === undefined || typeof options.model === "string" ? undefined : toJsonValue(options.model, "model");
    const command = options.command === undefined ? undefined : toJsonValue(options.command, "command");
    const recordGit = this.#options.git !== false && !gitDisabled();
    const hardwarePromise = getHardwareInfo(this.#hardwareOptions());
    const gitPromise = recordGit
      ? getGitInfo(this.#options.gitDir === undefined ? {} : { cwd: this.#options.gitDir })
      : undefined;
    // Handled here so that a failure below does not leave them as unhandled rejections.
    hardwarePromise.catch(() => {});
    gitPromise?.catch(() => {});
    const modelJson =
      typeof options.model === "string"
        ? (modelForConfig(this.experimentDir, await inspectCheckpoint(options.model)) as JsonValue)
        : modelObject;
    const model = modelJson === undefined ? undefined : await validateModel(modelJson);
    // config.json is read (and validated) while git and the probes run; checked again under the lock.
    const prefetched: Promise<StampedConfig> | undefined = this.isMainRank ? this.#config.readStamped() : undefined;
    prefetched?.catch(() => {});
    const [hardware, git] = await Promise.all([hardwarePromise, gitPromise]);
    await ensureFolder(this.experimentDir);

    const record: SavedConfig = {
      experiment_id: this.experimentId,
      timestamp: new Date().toISOString(),
      git_hash: git?.short_hash ?? null,
      config: converted.value as Record<string, JsonValue>,
      hardware,
      ...(model === undefined ? {} : { model }),
      ...(dataset === undefined ? {} : { dataset: dataset.value }),
      ...(git === undefined ? {} : { git }),
      environment: getEnvironmentInfo(this.#env),
      ...(command === undefined ? {} : { command }),
    };
    if (!this.isMainRank) {
      this.#startRankFile(hardware);
      return record;
    }

    const resume = {
      mode,
      ...(options.fromCheckpoint === undefined ? {} : { from_checkpoint: storedPath(this.experimentDir, options.fromCheckpoint) }),
      ...(fromStep === undefined ? {} : { from_step: fromStep }),
    };
    const saved = await this.#config.save(record, resume, converted.nodes + (dataset?.nodes ?? 0), prefetched);
    if (this.#rankFile !== null) this.#startRankFile(hardware);
    this.#status.begin(this.#lastStep);
    this.#followProcessEnd();
    return saved;
  }

  async loadConfig(): Promise<ConfigFile> {
    return this.#config.load();
  }

  // ---------------------------------------------------------------------------------------------
  // metrics.jsonl

  /**
   * Appends `{"step": step, "time": now, ...values}` to metrics.jsonl (`options.time`: when the
   * record was made, in unix seconds, when not now: a log read after the fact). Values are numbers
   * (NaN / Infinity allowed). Buffered: lines reach the file within a second, on flush(), on
   * saveResults() and when the process ends. On ranks other than 0 the call is dropped unless
   * allRanks is set (then metrics.rank-<r>.jsonl).
   */
  logMetrics(step: number, values: Record<string, number>, options?: { time?: number }): void {
    checkStep(step);
    if (options !== undefined) checkOptions("logMetrics(step, values, options)", options, LOG_METRICS_OPTIONS);
    const time = options?.time;
    if (time !== undefined && (typeof time !== "number" || !Number.isFinite(time) || time <= 0)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "time: must be unix seconds", { key: "time" });
    }
    const writer = this.#metricsWriter();
    if (writer === undefined) checkMetricValues(values); // dropped on this rank, but checked alike
    else writer.append(step, values, time);
    this.#lastStep = step;
    this.#status.noteStep(step);
  }

  /** Writes buffered metrics now; WRITE_FAILED (with the lines kept) when the file cannot be written. */
  async flush(): Promise<void> {
    this.#metrics?.flushSync();
  }

  /**
   * Streams metrics.jsonl (or a rank's file): latest record per step, ascending, unless `all`.
   * After iteration, `.stats` tells how many lines were skipped (a torn last line, say).
   */
  readMetrics(options: ReadMetricsOptions & { rank?: number } = {}): MetricsStream {
    checkOptions("readMetrics(options)", options, READ_METRICS_OPTIONS);
    return new MetricsStream(join(this.experimentDir, metricsFile(options.rank ?? null)), options, true);
  }

  #metricsWriter(): MetricsWriter | undefined {
    if (this.#metrics !== undefined) return this.#metrics;
    if (!this.isMainRank && !this.#options.allRanks) return undefined;
    ensureFolderSync(this.experimentDir);
    this.#metrics = new MetricsWriter(join(this.experimentDir, metricsFile(this.rank?.rank ?? null)));
    this.#followProcessEnd();
    return this.#metrics;
  }

  #flushQuietly(): void {
    try {
      this.#metrics?.flushSync();
    } catch {
      // kept in the buffer; nothing more can be done while the process ends
    }
  }

  // ---------------------------------------------------------------------------------------------
  // checkpoints.jsonl

  /**
   * Records a checkpoint the trainer saved: path, step, size and parameter counts (read from the
   * file). The first one fills config.json's `model` when it has none. Rank 0 only (others: null).
   */
  async recordCheckpoint(
    path: string,
    options: {
      step: number;
      metrics?: Record<string, number>;
      /** Record nothing (resolve to null) when the file reads as cut short: still being written. */
      onlyIfComplete?: boolean;
    },
  ): Promise<CheckpointRecord | null> {
    if (typeof path !== "string" || path === "") {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "recordCheckpoint(path, { step }): a checkpoint path is required");
    }
    if (!isObject(options)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "recordCheckpoint(path, { step }): options with a step are required");
    }
    checkOptions("recordCheckpoint(path, options)", options, RECORD_CHECKPOINT_OPTIONS);
    const step = checkStep(options.step);
    const metrics = options.metrics === undefined ? undefined : Object.fromEntries(checkMetricValues(options.metrics, "metrics"));
    if (!this.isMainRank) return null;
    const { record, model } = await inspectForRecord(this.experimentDir, path, step, metrics);
    const cutShort = record.error?.code === "CHECKPOINT_TRUNCATED" || record.error?.code === "CHECKPOINT_CORRUPT";
    if (options.onlyIfComplete && cutShort) return null;
    await ensureFolder(this.experimentDir);
    appendLinesSync(join(this.experimentDir, CHECKPOINTS_FILE), [`${stringifyPythonJson(record, 0)}\n`]);
    if (model !== null) await this.#config.fillModel(model as JsonValue);
    return record;
  }

  /** Every checkpoint recorded, in order. */
  loadCheckpoints(): Promise<CheckpointRecord[]> {
    return readCheckpointRecords(this.experimentDir);
  }

  // ---------------------------------------------------------------------------------------------
  // system.jsonl

  /**
   * Samples, every `intervalMs` (default 1000), the GPUs the trainer may use (its env's
   * CUDA_VISIBLE_DEVICES), the process tree of `pids` (the trainer you started) and the host
   * into system.jsonl; saveResults stops it and adds the `system` summary to results.json.
   */
  sampleSystem(options: { pids: number[]; intervalMs?: number }): Sampler {
    if (!isObject(options)) throw new ConfigTrackerError("INVALID_ARGUMENT", "sampleSystem({ pids }): options with the pids to watch are required");
    checkOptions("sampleSystem(options)", options, SAMPLE_SYSTEM_OPTIONS);
    if (this.#system !== undefined) throw new ConfigTrackerError("INVALID_ARGUMENT", "sampleSystem: already sampling");
    const sampler = startSampler({ pids: options.pids, intervalMs: options.intervalMs ?? 1000, env: this.#env });
    ensureFolderSync(this.experimentDir);
    const log = new SystemLog(join(this.experimentDir, rankSystemLogFile(this.rank?.rank ?? null)));
    const timer = setInterval(() => log.add(sampler.read()), options.intervalMs ?? 1000).unref();
    this.#system = { sampler, log, timer };
    return sampler;
  }

  /** Stops sampling; the summary for results.json (null when not sampling). */
  async #stopSampling(): Promise<Record<string, unknown> | null> {
    const system = this.#system;
    if (system === undefined) return null;
    this.#system = undefined;
    clearInterval(system.timer);
    system.log.add(system.sampler.read());
    system.log.add(await system.sampler.stop());
    return system.log.summary.result(system.sampler.status().gpu_unavailable_reason) as unknown as Record<string, unknown>;
  }

  // ---------------------------------------------------------------------------------------------
  // results.json

  /**
   * Writes results.json: final metrics derived from metrics.jsonl (last value of each, best_* for
   * `best`, total_time_seconds, tokens_per_second) with yours on top, a summary per metric, the
   * best checkpoint, and marks the run finished.
   */
  async saveResults(input: SaveResultsInput = {}): Promise<ResultsFile> {
    checkOptions("saveResults(options)", input, SAVE_RESULTS_OPTIONS);
    if (!isPlainRecord(input) || (input.finalMetrics !== undefined && !isPlainRecord(input.finalMetrics))) {
      throw new ConfigTrackerError("INVALID_CONFIG", "finalMetrics: must be an object of metric values", {
        key: "final_metrics",
      });
    }
    const bestCheckpoint = input.bestCheckpoint;
    if (bestCheckpoint !== undefined && bestCheckpoint !== null && typeof bestCheckpoint !== "string") {
      throw new ConfigTrackerError("INVALID_CONFIG", "best_checkpoint: must be a path string or null", {
        key: "best_checkpoint",
      });
    }
    const samples = input.generationSamples ?? [];
    if (!Array.isArray(samples)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "generation_samples: must be an array", {
        key: "generation_samples",
      });
    }
    const best = input.best ?? { val_loss: "min" };
    if (!isPlainRecord(best) || Object.values(best).some((direction) => direction !== "min" && direction !== "max")) {
      throw new ConfigTrackerError("INVALID_CONFIG", 'best: must map metric names to "min" or "max"', { key: "best" });
    }
    const given = input.finalMetrics === undefined ? {} : (toJsonValue(input.finalMetrics, "final_metrics") as Record<string, JsonValue>);
    const outcome: NonNullable<SaveResultsInput["outcome"]> = (input as SaveResultsInput).outcome ?? { status: "finished" };
    if (!isObject(outcome) || !["finished", "failed", "interrupted"].includes(outcome.status)) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", 'saveResults: outcome.status must be "finished", "failed" or "interrupted"');
    }
    const generationSamples = toJsonValue(samples, "generation_samples") as JsonValue[];

    const warnings: string[] = [];
    try {
      this.#metrics?.flushSync();
    } catch (error) {
      warnings.push(`metrics: ${this.#metrics?.bufferedLines ?? 0} lines could not be written yet: ${(error as Error).message}`);
    }
    if (this.#metrics !== undefined && this.#metrics.droppedLines > 0) {
      warnings.push(`metrics: ${this.#metrics.droppedLines} lines were dropped: the file could not be written for too long`);
    }
    const fromLog = await resultsFromLog({
      experimentDir: this.experimentDir,
      config: this.#config,
      log: this.readMetrics(),
      best: best as Record<string, Direction>,
      given,
      bestCheckpoint,
    });
    warnings.push(...fromLog.warnings);

    const { finalMetrics } = fromLog;
    const sampled = await this.#stopSampling();
    const extraInput = {
      ...(sampled === null ? {} : { system: sampled }),
      ...(typeof input.extra === "function" ? input.extra(finalMetrics) : input.extra),
    };
    const { warnings: extraWarnings, ...extra } = toJsonValue(extraInput, "extra") as Record<string, JsonValue>;
    if (Array.isArray(extraWarnings)) warnings.push(...extraWarnings.map(String));
    const record: ResultsFile = {
      experiment_id: this.experimentId,
      timestamp: new Date().toISOString(),
      final_metrics: finalMetrics,
      best_checkpoint: fromLog.best_checkpoint,
      generation_samples: generationSamples,
      summary: fromLog.summary,
      ...extra,
      ...(warnings.length === 0 ? {} : { warnings }),
    };
    const end: RunEnd = {
      status: outcome.status,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.exit_code === undefined ? {} : { exit_code: outcome.exit_code }),
      ...(outcome.signal === undefined ? {} : { signal: outcome.signal }),
    };
    if (this.isMainRank) {
      await writeJsonFile(this.resultsPath, "results", record, 0);
      // This process's run, or one another process started (an evaluation script).
      if (!this.#endRun(end)) this.#status.endOther(end, this.#lastStep);
    } else {
      this.#rankFile?.end(outcome.status);
    }
    this.#stopFollowingProcessEnd();
    return record;
  }

  async loadResults(): Promise<ResultsFile> {
    return readJsonFile(this.resultsPath, "resultsFileSchema");
  }

  // ---------------------------------------------------------------------------------------------
  // status.json and the process's end

  /** Marks the run failed with the error's message (for errors you catch yourself). */
  async fail(error: unknown): Promise<void> {
    this.#flushQuietly();
    await this.#stopSampling().catch(() => null);
    this.#endRun({ status: "failed", error: describeError(error) });
    this.#stopFollowingProcessEnd();
  }

  /** Flushes metrics, stops the heartbeat and any sampling, leaving status.json as it is. */
  async close(): Promise<void> {
    try {
      this.#metrics?.flushSync();
      await this.#stopSampling();
    } finally {
      this.#stopFollowingProcessEnd();
    }
  }

  /** status.json, with "lost" for a run whose process died without a word. */
  async loadStatus(): Promise<LoadedStatus> {
    const record = await readJsonFile(this.statusPath, "statusFileSchema");
    return { ...record, ...reportedStatus(record as StatusRecord) };
  }

  /** Every rank's ranks/rank-<r>.json, by rank (empty outside distributed jobs). */
  loadRanks(): Promise<RankRecord[]> {
    return loadRankFiles(this.experimentDir);
  }

  /** Ends the run this process owns; false when it owns none or it ended already. */
  #endRun(end: RunEnd): boolean {
    if (!this.isMainRank) {
      if (this.#rankFile?.running) this.#rankFile.end(end.status);
      return false;
    }
    if (!this.#status.running) return false;
    try {
      this.#status.end(end, this.#lastStep);
    } finally {
      this.#rankFile?.end(end.status);
    }
    return true;
  }

  #startRankFile(hardware: SavedConfig["hardware"]): void {
    this.#rankFile?.start(hardware);
    this.#followProcessEnd();
  }

  #followProcessEnd(): void {
    if (this.#followingProcessEnd) return;
    this.#followingProcessEnd = true;
    watchProcessEnd(this.#onProcessEnd);
  }

  #stopFollowingProcessEnd(): void {
    this.#status.stopHeartbeat();
    if (this.#followingProcessEnd) unwatchProcessEnd(this.#onProcessEnd);
    this.#followingProcessEnd = false;
  }

  #hardwareOptions(): HardwareOptions {
    return {
      ...this.#options.hardware,
      env: this.#env,
      ...(this.#options.python === undefined ? {} : { python: this.#options.python }),
    };
  }
}
