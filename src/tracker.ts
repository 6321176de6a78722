/**
 * ConfigTracker: the Python original's API in Node idiom, grown to follow a run through training.
 * An experiment folder holds config.json (what ran, where, from which code; resumptions appended),
 * status.json (running / finished / failed / interrupted, with a heartbeat), metrics.jsonl,
 * checkpoints.jsonl, ranks/ (one file per process of a distributed job) and results.json (what
 * came out, derived from the log), in the format the Python ConfigTracker reads and writes.
 */
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";

import { ensureFolder, ensureFolderSync, writeFileAtomic, writeFileAtomicSync } from "./io/atomic-write.js";
import { inspectCheckpoint } from "./checkpoint.js";
import { getEnvironmentInfo } from "./environment.js";
import { ConfigTrackerError } from "./errors.js";
import { getGitInfo } from "./git.js";
import { getHardwareInfo, type HardwareOptions } from "./hardware.js";
import {
  convertJsonAsync,
  isPlainRecord,
  MAX_JSON_BYTES,
  serializeJsonAsync,
  toJsonValue,
  type JsonValue,
} from "./json-value.js";
import { parsePythonJson, stringifyPythonJson } from "./python-json.js";
import { appendLinesSync } from "./io/append-file.js";
import {
  inspectForRecord,
  modelForConfig,
  readCheckpointRecords,
  storedPath,
  type CheckpointRecord,
} from "./experiment/checkpoints.js";
import { deriveResults, type Direction } from "./experiment/derive.js";
import {
  CHECKPOINTS_FILE,
  CONFIG_FILE,
  METRICS_FILE,
  metricsFile,
  RANKS_FOLDER,
  rankFilePath,
  rankSystemLogFile,
  RESULTS_FILE,
  STATUS_FILE,
} from "./experiment/layout.js";
import { loadSchemas, readRunFile, type RunFileSchema } from "./experiment/json-files.js";
import { unwatchProcessEnd, watchProcessEnd, type LiveRun } from "./experiment/lifecycle.js";
import { MetricsStream, type ReadMetricsOptions } from "./experiment/metrics-reader.js";
import { checkMetricValues, checkStep, MetricsWriter } from "./experiment/metrics-writer.js";
import { loadRankFiles, rankFromEnv, type RankInfo, type RankRecord } from "./experiment/ranks.js";
import { diffJson, movePreviousRun, type ConfigChange } from "./experiment/resume.js";
import { withFileLock } from "./io/file-lock.js";
import { startSampler, type Sampler } from "./system/sampler.js";
import { SystemLog } from "./system/system-log.js";
import {
  HEARTBEAT_MS,
  newStatus,
  reportedStatus,
  writeStatusSync,
  type ReportedStatus,
  type StatusRecord,
} from "./experiment/status.js";
import type {
  ConfigFile,
  EnvironmentInfo,
  GitInfo,
  HardwareInfo,
  ModelSummary,
  ResultsFile,
  ResumeEntry,
  StatusFile,
} from "./schema.js";

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

export type SaveConfigMode = "auto" | "resume" | "overwrite";

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

/** config.json as this package writes it: every section filled in. */
export interface SavedConfig extends ConfigFile {
  hardware: HardwareInfo;
  git?: GitInfo;
  environment: EnvironmentInfo;
}

/** status.json as loaders report it: "lost" when the process is gone without a word. */
export interface LoadedStatus extends Omit<StatusFile, "status"> {
  status: ReportedStatus;
  heartbeat_age_seconds: number | null;
  lost_reason: string | null;
}

function gitDisabled(): boolean {
  const value = process.env.CONFIG_TRACKER_DISABLE_GIT;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

const MODES = new Set<SaveConfigMode>(["auto", "resume", "overwrite"]);

/** The facts of a machine worth comparing between sessions of one run. */
function hardwareSummary(hardware: Partial<HardwareInfo>, host: string | undefined): Record<string, JsonValue> {
  return {
    host: host ?? null,
    gpu_model: hardware.gpu_model ?? null,
    gpu_count: hardware.gpu_count ?? null,
    driver_version: hardware.driver_version ?? null,
    cuda_version: hardware.cuda_version ?? null,
    cuda_visible_devices: hardware.cuda_visible_devices ?? null,
    torch_version: hardware.torch_version ?? null,
    python_version: hardware.python_version ?? null,
  };
}

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
  readonly #heartbeatMs: number;
  #metrics: MetricsWriter | undefined;
  #status: StatusRecord | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #watching = false;
  #lastStep: number | null = null;
  #rankRecord: RankRecord | undefined;
  #configChanges: Promise<unknown> = Promise.resolve();
  #system: { sampler: Sampler; log: SystemLog; timer: NodeJS.Timeout } | undefined;
  readonly #live: LiveRun = {
    handlesSignals: () => this.#options.signals !== false,
    onExit: (code) => {
      this.#flushQuietly();
      if (code === 0) this.#end("finished", { exit_code: 0 });
      else this.#end("failed", { exit_code: code, error: `the process exited with code ${code}` });
    },
    onFatal: (error) => {
      this.#flushQuietly();
      this.#end("failed", { error: describeError(error) });
    },
    onSignal: (signal) => {
      this.#flushQuietly();
      this.#end("interrupted", { signal });
    },
  };

  constructor(experimentDir: string, options: ConfigTrackerOptions = {}) {
    if (typeof experimentDir !== "string" || experimentDir.trim() === "") {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker(experimentDir): a folder path is required");
    }
    if (!isObject(options)) throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker(dir, options): options must be an object");
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
    this.configPath = join(this.experimentDir, CONFIG_FILE);
    this.resultsPath = join(this.experimentDir, RESULTS_FILE);
    this.statusPath = join(this.experimentDir, STATUS_FILE);
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#heartbeatMs = heartbeat;
    this.rank = options.rank === undefined ? rankFromEnv(this.#env) : options.rank;
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
    if (!isObject(options)) throw new ConfigTrackerError("INVALID_ARGUMENT", "saveConfig(config, options): options must be an object");
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
    const prefetched = this.isMainRank ? this.#readConfigStamped() : undefined;
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
      this.#writeRankFile(hardware, "running");
      return record;
    }

    const resume = {
      mode,
      ...(options.fromCheckpoint === undefined ? {} : { from_checkpoint: storedPath(this.experimentDir, options.fromCheckpoint) }),
      ...(fromStep === undefined ? {} : { from_step: fromStep }),
    };
    const nodes = converted.nodes + (dataset?.nodes ?? 0);
    const saved = await this.#changeConfig(() => this.#storeConfig(record, resume, nodes, prefetched));
    if (this.rank !== null) this.#writeRankFile(hardware, "running");
    this.#beginRun();
    return saved;
  }

  /** Writes a new config.json, or resumes / refuses / overwrites the one there. Holds the lock. */
  async #storeConfig(
    record: SavedConfig,
    resume: { mode: SaveConfigMode; from_checkpoint?: string; from_step?: number },
    nodes: number,
    prefetched?: Promise<StampedConfig>,
  ): Promise<SavedConfig> {
    const existing = await this.#readExistingConfig(resume.mode === "overwrite", prefetched);
    if (existing !== null) this.#refuseIfLiveElsewhere();
    if (existing === null || resume.mode === "overwrite") {
      if (existing !== null || (await exists(this.configPath))) await movePreviousRun(this.experimentDir);
      await this.#writeJson(this.configPath, "config", record, nodes, { exclusive: true });
      return record;
    }

    const changes: ConfigChange[] = [
      ...diffJson(existing.config as JsonValue, record.config as JsonValue, "config"),
      ...diffJson(existing.dataset as JsonValue | undefined, record.dataset as JsonValue | undefined, "dataset"),
    ];
    if (changes.length > 0 && resume.mode === "auto") {
      const listed = changes
        .slice(0, 10)
        .map((change) => `${change.key} (${describeValue(change.from)} -> ${describeValue(change.to)})`)
        .join(", ");
      throw new ConfigTrackerError(
        "CONFIG_EXISTS",
        `${this.configPath}: holds a different config: ${listed}${changes.length > 10 ? `, and ${changes.length - 10} more` : ""}. ` +
          'Pass { mode: "resume" } to carry on with these changes, { mode: "overwrite" } to start over ' +
          "(the old files move to .previous/), or use another folder.",
        { path: this.configPath, keys: changes.map((change) => change.key) },
      );
    }
    const resumes = (existing.resumes ?? []) as ResumeEntry[];
    const host = record.environment.hostname;
    const summary = hardwareSummary(record.hardware, host);
    const lastHardware = [...resumes].reverse().find((entry) => entry.hardware !== undefined)?.hardware;
    const previous = lastHardware ?? hardwareSummary(existing.hardware, existing.environment?.hostname);
    const entry: ResumeEntry = {
      timestamp: record.timestamp,
      pid: process.pid,
      host,
      git_hash: record.git_hash,
      ...(resume.from_checkpoint === undefined ? {} : { from_checkpoint: resume.from_checkpoint }),
      ...(resume.from_step === undefined ? {} : { from_step: resume.from_step }),
      ...(diffJson(previous as JsonValue, summary, "").length === 0 ? {} : { hardware: summary }),
      ...(changes.length === 0 ? {} : { changes: changes as ResumeEntry["changes"] }),
      ...(record.command === undefined ? {} : { command: record.command }),
    };
    const updated = {
      ...existing,
      config: record.config,
      ...(record.dataset === undefined ? {} : { dataset: record.dataset }),
      ...(existing.model === undefined && record.model !== undefined ? { model: record.model } : {}),
      resumes: [...resumes, entry],
    } as SavedConfig;
    await this.#writeJson(this.configPath, "config", updated, nodes * 2);
    return updated;
  }

  /** Another live process (not a rank of this job) already runs this experiment. */
  #refuseIfLiveElsewhere(): void {
    let status: StatusRecord;
    try {
      status = JSON.parse(readFileSync(this.statusPath, "utf8")) as StatusRecord;
    } catch {
      return;
    }
    if (status.pid === process.pid && status.host === hostname()) return;
    if (reportedStatus(status).status !== "running") return;
    throw new ConfigTrackerError(
      "RUN_ACTIVE",
      `${this.experimentDir}: process ${status.pid} on ${status.host} is running this experiment (heartbeat ${status.updated_at}); ` +
        "wait for it to end, stop it, or use another folder",
      { path: this.statusPath },
    );
  }

  /**
   * config.json, or null when there is none (or it is broken and `brokenOk`). A `prefetched` read
   * is used when the file has not changed since (same inode, size and mtime).
   */
  async #readExistingConfig(brokenOk: boolean, prefetched?: Promise<StampedConfig>): Promise<ConfigFile | null> {
    let read = prefetched === undefined ? undefined : await prefetched.catch(() => undefined);
    if (read === undefined || read.stamp !== (await fileStamp(this.configPath))) read = await this.#readConfigStamped();
    const { result } = read;
    if (!(result instanceof Error)) return result;
    if (result instanceof ConfigTrackerError && result.code === "NOT_FOUND") return null;
    if (brokenOk && result instanceof ConfigTrackerError && result.code === "INVALID_FILE") return null;
    throw result;
  }

  async #readConfigStamped(): Promise<StampedConfig> {
    const stamp = await fileStamp(this.configPath);
    try {
      return { stamp, result: await this.#read(this.configPath, "configFileSchema") };
    } catch (error) {
      return { stamp, result: error as Error };
    }
  }

  /**
   * config.json's start time and resumptions, for results: read without zod (which a cold
   * process would load just for this); a file that is missing or not as expected gives nothing.
   */
  async #readConfigTimes(): Promise<{ timestamp: string; resumes?: Array<{ timestamp: string }> } | null> {
    try {
      const data = parsePythonJson(await readFile(this.configPath, "utf8")) as Record<string, unknown>;
      if (typeof data.timestamp !== "string" || Number.isNaN(Date.parse(data.timestamp))) return null;
      const resumes = Array.isArray(data.resumes)
        ? data.resumes.filter((entry): entry is { timestamp: string } => typeof (entry as { timestamp?: unknown })?.timestamp === "string")
        : undefined;
      return { timestamp: data.timestamp, ...(resumes === undefined ? {} : { resumes }) };
    } catch {
      return null;
    }
  }

  /** Serialises read-modify-write of config.json: in this process by a queue, across by a lock. */
  #changeConfig<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#configChanges.then(() => withFileLock(this.configPath, change));
    this.#configChanges = next.catch(() => {});
    return next;
  }

  async loadConfig(): Promise<ConfigFile> {
    return this.#read(this.configPath, "configFileSchema");
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
    const time = options?.time;
    if (time !== undefined && (typeof time !== "number" || !Number.isFinite(time) || time <= 0)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "time: must be unix seconds", { key: "time" });
    }
    const writer = this.#metricsWriter();
    if (writer === undefined) checkMetricValues(values); // dropped on this rank, but checked alike
    else writer.append(step, values, time);
    this.#lastStep = step;
    if (this.#status !== undefined) this.#status.last_step = step;
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
    const file = metricsFile(options.rank ?? null);
    return new MetricsStream(join(this.experimentDir, file), options, true);
  }

  #metricsWriter(): MetricsWriter | undefined {
    if (this.#metrics !== undefined) return this.#metrics;
    if (!this.isMainRank && !this.#options.allRanks) return undefined;
    ensureFolderSync(this.experimentDir);
    const file = metricsFile(this.rank?.rank ?? null);
    this.#metrics = new MetricsWriter(join(this.experimentDir, file));
    this.#watch();
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
    const step = checkStep(options.step);
    const metrics = options.metrics === undefined ? undefined : Object.fromEntries(checkMetricValues(options.metrics, "metrics"));
    if (!this.isMainRank) return null;
    const { record, model } = await inspectForRecord(this.experimentDir, path, step, metrics);
    const cutShort = record.error?.code === "CHECKPOINT_TRUNCATED" || record.error?.code === "CHECKPOINT_CORRUPT";
    if (options.onlyIfComplete && cutShort) return null;
    await ensureFolder(this.experimentDir);
    appendLinesSync(join(this.experimentDir, CHECKPOINTS_FILE), [`${stringifyPythonJson(record, 0)}\n`], true);
    if (model !== null) {
      await this.#changeConfig(async () => {
        const existing = await this.#readExistingConfig(false);
        if (existing === null || existing.model !== undefined) return;
        const updated = withModel(existing, await validateModel(model as JsonValue));
        await this.#writeJson(this.configPath, "config", updated, 0);
      });
    }
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
    if (this.#system !== undefined) throw new ConfigTrackerError("INVALID_ARGUMENT", "sampleSystem: already sampling");
    const sampler = startSampler({ pids: options.pids, intervalMs: options.intervalMs ?? 1000, env: this.#env });
    ensureFolderSync(this.experimentDir);
    const file = rankSystemLogFile(this.rank?.rank ?? null);
    const log = new SystemLog(join(this.experimentDir, file));
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

    const [config, checkpoints] = await Promise.all([
      this.#readConfigTimes(),
      readCheckpointRecords(this.experimentDir),
    ]);
    const log = this.readMetrics();
    const derived = await deriveResults({
      records: log,
      best: best as Record<string, Direction>,
      startedAt: config === null ? null : Date.parse(config.timestamp) / 1000,
      resumedAt: (config?.resumes ?? []).map((entry) => Date.parse(entry.timestamp) / 1000),
      checkpoints,
      now: Date.now() / 1000,
    });
    if (log.stats.skipped_lines > 0) {
      const first = log.stats.skipped[0];
      warnings.push(
        `${METRICS_FILE}: ${log.stats.skipped_lines} line(s) skipped (first: line ${first?.line}, ${first?.reason})`,
      );
    }

    let best_checkpoint: string | null = null;
    if (typeof bestCheckpoint === "string") {
      best_checkpoint = storedPath(this.experimentDir, bestCheckpoint);
      if (!(await exists(resolve(bestCheckpoint)))) {
        warnings.push(`best_checkpoint: ${bestCheckpoint} does not exist`);
      }
    } else if (bestCheckpoint === undefined && checkpoints.length > 0) {
      if (derived.bestCheckpoint !== null) {
        best_checkpoint = derived.bestCheckpoint.path;
      } else {
        best_checkpoint = (checkpoints[checkpoints.length - 1] as CheckpointRecord).path;
        const metric = Object.keys(best).join(" / ");
        warnings.push(`best_checkpoint: no ${metric} for any recorded checkpoint, so the last one recorded is named`);
      }
    }

    const finalMetrics: Record<string, JsonValue> = { ...derived.finalMetrics, ...given };
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
      best_checkpoint,
      generation_samples: generationSamples,
      summary: derived.summary,
      ...extra,
      ...(warnings.length === 0 ? {} : { warnings }),
    };
    if (this.isMainRank) {
      await this.#writeJson(this.resultsPath, "results", record, 0);
      this.#finishStatus(outcome);
    } else {
      this.#endRankFile(outcome.status);
    }
    this.#stopWatching();
    return record;
  }

  async loadResults(): Promise<ResultsFile> {
    return this.#read(this.resultsPath, "resultsFileSchema");
  }

  // ---------------------------------------------------------------------------------------------
  // status.json and the process's end

  /** Marks the run failed with the error's message (for errors you catch yourself). */
  async fail(error: unknown): Promise<void> {
    this.#flushQuietly();
    await this.#stopSampling().catch(() => null);
    this.#end("failed", { error: describeError(error) });
    this.#stopWatching();
  }

  /** Flushes metrics, stops the heartbeat and any sampling, leaving status.json as it is. */
  async close(): Promise<void> {
    try {
      this.#metrics?.flushSync();
      await this.#stopSampling();
    } finally {
      this.#stopWatching();
    }
  }

  /** status.json, with "lost" for a run whose process died without a word. */
  async loadStatus(): Promise<LoadedStatus> {
    const record = await this.#read(this.statusPath, "statusFileSchema");
    return { ...record, ...reportedStatus(record as StatusRecord) };
  }

  /** Every rank's ranks/rank-<r>.json, by rank (empty outside distributed jobs). */
  loadRanks(): Promise<RankRecord[]> {
    return loadRankFiles(this.experimentDir);
  }

  #beginRun(): void {
    this.#status = newStatus();
    this.#status.last_step = this.#lastStep;
    writeStatusSync(this.statusPath, this.#status);
    if (this.#heartbeat === undefined) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs).unref();
    }
    this.#watch();
  }

  #beat(): void {
    const status = this.#status;
    if (status === undefined || status.status !== "running") return;
    status.updated_at = new Date().toISOString();
    try {
      writeStatusSync(this.statusPath, status);
    } catch {
      // the next beat tries again; a missed one is harmless
    }
  }

  /** Ends the run this process owns with `status`; false when it owns none or it ended already. */
  #end(status: Exclude<StatusRecord["status"], "running">, extra: Partial<StatusRecord>): boolean {
    if (this.rank !== null && !this.isMainRank) {
      if (this.#rankRecord?.status === "running") this.#endRankFile(status);
      return false;
    }
    const record = this.#status;
    if (record === undefined || record.status !== "running") return false;
    const now = new Date().toISOString();
    Object.assign(record, { status, updated_at: now, ended_at: now, last_step: this.#lastStep, error: null }, extra);
    try {
      writeStatusSync(this.statusPath, record);
    } finally {
      this.#stopHeartbeat();
      if (this.rank !== null) this.#endRankFile(status);
    }
    return true;
  }

  /** saveResults: this process's run, or one another process started (an evaluation script). */
  #finishStatus(outcome: NonNullable<SaveResultsInput["outcome"]>): void {
    const { status, error, exit_code, signal } = outcome;
    const details: Partial<StatusRecord> = {
      error: error ?? null,
      ...(exit_code === undefined ? {} : { exit_code }),
      ...(signal === undefined ? {} : { signal }),
    };
    if (this.#end(status, details)) return;
    let record: StatusRecord;
    try {
      record = JSON.parse(readFileSync(this.statusPath, "utf8")) as StatusRecord;
    } catch {
      record = { ...newStatus(), last_step: this.#lastStep };
    }
    const now = new Date().toISOString();
    const { signal: _signal, exit_code: _exitCode, ...rest } = record;
    writeStatusSync(this.statusPath, { ...rest, status, updated_at: now, ended_at: now, ...details, error: error ?? null });
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    watchProcessEnd(this.#live);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #stopWatching(): void {
    this.#stopHeartbeat();
    if (this.#watching) unwatchProcessEnd(this.#live);
    this.#watching = false;
  }

  // ---------------------------------------------------------------------------------------------
  // ranks/rank-<r>.json

  #writeRankFile(hardware: HardwareInfo, status: string): void {
    const rank = this.rank as RankInfo;
    const now = new Date().toISOString();
    this.#rankRecord = {
      ...rank,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      ended_at: null,
      status,
      cuda_visible_devices: hardware.cuda_visible_devices,
      gpus: hardware.gpus.map((gpu) => ({
        index: gpu.index,
        nvml_index: gpu.nvml_index,
        uuid: gpu.uuid,
        name: gpu.name,
        memory_total_bytes: gpu.memory_total_bytes,
      })),
      hardware: {
        ...hardwareSummary(hardware, hostname()),
        cpu_count: hardware.cpu_count,
        memory_total_bytes: hardware.memory_total_bytes,
        host_gpu_count: hardware.host_gpu_count,
      },
    };
    const path = join(this.experimentDir, rankFilePath(rank.rank));
    ensureFolderSync(join(this.experimentDir, RANKS_FOLDER));
    writeFileAtomicSync(path, `${JSON.stringify(this.#rankRecord, null, 2)}\n`, { durable: false });
    this.#watch();
  }

  #endRankFile(status: string): void {
    const record = this.#rankRecord;
    if (record === undefined || this.rank === null) return;
    record.status = status;
    record.ended_at = new Date().toISOString();
    try {
      writeFileAtomicSync(join(this.experimentDir, rankFilePath(this.rank.rank)), `${JSON.stringify(record, null, 2)}\n`, {
        durable: false,
      });
    } catch {
      // best effort at the end of a process
    }
  }

  #hardwareOptions(): HardwareOptions {
    return {
      ...this.#options.hardware,
      env: this.#env,
      ...(this.#options.python === undefined ? {} : { python: this.#options.python }),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // whole JSON files

  /**
   * Writes a record this class built from checked parts (user values went through toJsonValue,
   * models through the schema), so zod is not loaded for it: a cold saveConfig does not pay for
   * loading zod. Readers validate every file.
   */
  async #writeJson(path: string, kind: "config" | "results", record: object, nodes: number, options: { exclusive?: boolean } = {}): Promise<void> {
    const pieces = await serializeJsonAsync(record as JsonValue, nodes + 500, true);
    pieces.push("\n");
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    if (length > MAX_JSON_BYTES / 3 && pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0) > MAX_JSON_BYTES) {
      throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: larger than 64 MiB as JSON`, { path, key: kind });
    }
    await ensureFolder(this.experimentDir);
    try {
      await writeFileAtomic(path, pieces, options);
    } catch (error) {
      const cause = (error as ConfigTrackerError).cause as NodeJS.ErrnoException | undefined;
      if (options.exclusive && cause?.code === "EEXIST") {
        throw new ConfigTrackerError("CONFIG_EXISTS", `${path}: another process created it at the same moment; save again to resume`, {
          path,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Reads and validates a file; zod is loaded once there is a file to validate. */
  #read<K extends RunFileSchema>(path: string, schemaName: K): ReturnType<typeof readRunFile<K>> {
    return readRunFile(path, schemaName);
  }

}

async function validateModel(json: JsonValue): Promise<ModelSummary> {
  const { modelInfoSchema, firstIssue } = await loadSchemas();
  const parsed = modelInfoSchema.safeParse(json);
  if (!parsed.success) {
    const { key, message } = firstIssue(parsed.error);
    const path = key === "" ? "model" : `model.${key}`;
    throw new ConfigTrackerError("INVALID_CONFIG", `${path}: ${message}`, { key: path });
  }
  return parsed.data;
}

/** config.json with `model` in its usual place (after hardware), as a first save would put it. */
function withModel(config: ConfigFile, model: ModelSummary): ConfigFile {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = value;
    if (key === "hardware") out.model = model;
  }
  if (!("model" in out)) out.model = model;
  return out as ConfigFile;
}

function describeValue(value: JsonValue | undefined): string {
  if (value === undefined) return "absent";
  const text = stringifyPythonJson(value, 0);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

interface StampedConfig {
  /** What the file was when read (see fileStamp). */
  stamp: string | null;
  result: ConfigFile | Error;
}

/** Identity of a file's content for re-use of a read: inode, size, mtime (null: no file). */
async function fileStamp(path: string): Promise<string | null> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
