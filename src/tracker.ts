/**
 * ConfigTracker: the Python original's API in Node idiom. An experiment folder holds config.json
 * (what ran, where, from which code) and results.json (what came out), in the same format the
 * Python ConfigTracker reads and writes.
 */
import { mkdir, readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { z } from "zod";

import { writeFileAtomic } from "./atomic-write.js";
import { inspectCheckpoint, modelSummary } from "./checkpoint.js";
import { getEnvironmentInfo } from "./environment.js";
import { ConfigTrackerError } from "./errors.js";
import { getGitInfo } from "./git.js";
import { getHardwareInfo, type HardwareOptions } from "./hardware.js";
import { isPlainRecord, toJsonValue, type JsonValue } from "./json-value.js";
import { parsePythonJson, stringifyPythonJson } from "./python-json.js";
import type {
  ConfigFile,
  EnvironmentInfo,
  GitInfo,
  HardwareInfo,
  ModelSummary,
  ResultsFile,
} from "./schema.js";

// zod takes tens of milliseconds to load: it is loaded on first use, while git and the hardware
// probes wait on their child processes.
type Schemas = typeof import("./schema.js");
let schemas: Promise<Schemas> | undefined;
const loadSchemas = (): Promise<Schemas> => (schemas ??= import("./schema.js"));

export const CONFIG_FILE = "config.json";
export const RESULTS_FILE = "results.json";

export interface ConfigTrackerOptions {
  /** Folder whose git state is recorded (default: the process's working directory). */
  gitDir?: string;
  /** Record git state (default true; CONFIG_TRACKER_DISABLE_GIT=1 turns it off). */
  git?: boolean;
  hardware?: HardwareOptions;
}

export interface SaveConfigOptions {
  /**
   * The model: a checkpoint path (file or folder; read with inspectCheckpoint) or a ModelInfo
   * (from inspectCheckpoint, or your own counts).
   */
  model?: string | ModelSummary;
  /** Anything JSON can hold that describes the data. */
  dataset?: unknown;
}

export interface SaveResultsInput {
  finalMetrics: Record<string, unknown>;
  bestCheckpoint?: string | null;
  generationSamples?: unknown[] | null;
}

/** config.json as this package writes it: every section filled in. */
export interface SavedConfig extends ConfigFile {
  hardware: HardwareInfo;
  git?: GitInfo;
  environment: EnvironmentInfo;
}

function gitDisabled(): boolean {
  const value = process.env.CONFIG_TRACKER_DISABLE_GIT;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

export class ConfigTracker {
  readonly experimentDir: string;
  readonly experimentId: string;
  readonly configPath: string;
  readonly resultsPath: string;
  readonly #options: ConfigTrackerOptions;

  constructor(experimentDir: string, options: ConfigTrackerOptions = {}) {
    if (typeof experimentDir !== "string" || experimentDir.trim() === "") {
      throw new ConfigTrackerError("INVALID_ARGUMENT", "ConfigTracker(experimentDir): a folder path is required");
    }
    this.experimentDir = resolve(experimentDir);
    this.experimentId = basename(this.experimentDir);
    this.configPath = join(this.experimentDir, CONFIG_FILE);
    this.resultsPath = join(this.experimentDir, RESULTS_FILE);
    this.#options = options;
  }

  /** Records the config with hardware, git and environment; returns what was written. */
  async saveConfig(config: Record<string, unknown>, options: SaveConfigOptions = {}): Promise<SavedConfig> {
    if (!isPlainRecord(config)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "config: must be an object of settings", { key: "config" });
    }
    const configJson = toJsonValue(config, "config") as Record<string, JsonValue>;
    const datasetJson = options.dataset === undefined ? undefined : toJsonValue(options.dataset, "dataset");
    const modelObject =
      options.model === undefined || typeof options.model === "string" ? undefined : toJsonValue(options.model, "model");
    const recordGit = this.#options.git !== false && !gitDisabled();
    const hardwarePromise = getHardwareInfo(this.#options.hardware);
    const gitPromise = recordGit
      ? getGitInfo(this.#options.gitDir === undefined ? {} : { cwd: this.#options.gitDir })
      : undefined;
    // Handled here so that a failure below does not leave them as unhandled rejections.
    hardwarePromise.catch(() => {});
    gitPromise?.catch(() => {});
    const modelJson =
      typeof options.model === "string" ? (modelSummary(await inspectCheckpoint(options.model)) as JsonValue) : modelObject;
    const { modelInfoSchema, firstIssue, configFileSchema } = await loadSchemas();
    const model = modelJson === undefined ? undefined : validateModel(modelInfoSchema, firstIssue, modelJson);
    const [hardware, git] = await Promise.all([hardwarePromise, gitPromise]);

    const record: SavedConfig = {
      experiment_id: this.experimentId,
      timestamp: new Date().toISOString(),
      git_hash: git?.short_hash ?? null,
      config: configJson,
      hardware,
      ...(model === undefined ? {} : { model }),
      ...(datasetJson === undefined ? {} : { dataset: datasetJson }),
      ...(git === undefined ? {} : { git }),
      environment: getEnvironmentInfo(),
    };
    await this.#write(this.configPath, configFileSchema, record);
    return record;
  }

  async loadConfig(): Promise<ConfigFile> {
    return this.#read(this.configPath, (await loadSchemas()).configFileSchema);
  }

  async saveResults(input: SaveResultsInput): Promise<ResultsFile> {
    if (!isPlainRecord(input) || !isPlainRecord(input.finalMetrics)) {
      throw new ConfigTrackerError("INVALID_CONFIG", "finalMetrics: must be an object of metric values", {
        key: "final_metrics",
      });
    }
    const bestCheckpoint = input.bestCheckpoint ?? null;
    if (bestCheckpoint !== null && typeof bestCheckpoint !== "string") {
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
    const record: ResultsFile = {
      experiment_id: this.experimentId,
      timestamp: new Date().toISOString(),
      final_metrics: toJsonValue(input.finalMetrics, "final_metrics") as Record<string, JsonValue>,
      best_checkpoint: bestCheckpoint,
      generation_samples: toJsonValue(samples, "generation_samples") as JsonValue[],
    };
    await this.#write(this.resultsPath, (await loadSchemas()).resultsFileSchema, record);
    return record;
  }

  async loadResults(): Promise<ResultsFile> {
    return this.#read(this.resultsPath, (await loadSchemas()).resultsFileSchema);
  }

  async #write<T>(path: string, schema: z.ZodType<T>, record: T): Promise<void> {
    const checked = schema.safeParse(record);
    if (!checked.success) {
      const { key, message } = (await loadSchemas()).firstIssue(checked.error);
      throw new ConfigTrackerError("INVALID_CONFIG", `${path}: ${key} ${message}`, { path, key });
    }
    await mkdir(this.experimentDir, { recursive: true });
    await writeFileAtomic(path, `${stringifyPythonJson(record)}\n`);
  }

  async #read<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new ConfigTrackerError("NOT_FOUND", `${path}: no such file`, { path, cause: error });
      throw new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
    }
    let data: unknown;
    try {
      data = parsePythonJson(text);
    } catch (error) {
      throw new ConfigTrackerError("INVALID_FILE", `${path}: not valid JSON: ${(error as Error).message}`, {
        path,
        cause: error,
      });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const { key, message } = (await loadSchemas()).firstIssue(parsed.error);
      const where = key === "" ? "the top level" : `key "${key}"`;
      throw new ConfigTrackerError("INVALID_FILE", `${path}: ${where} ${message}`, { path, key });
    }
    return parsed.data;
  }
}

function validateModel(
  modelInfoSchema: Schemas["modelInfoSchema"],
  firstIssue: Schemas["firstIssue"],
  json: JsonValue,
): ModelSummary {
  const parsed = modelInfoSchema.safeParse(json);
  if (!parsed.success) {
    const { key, message } = firstIssue(parsed.error);
    const path = key === "" ? "model" : `model.${key}`;
    throw new ConfigTrackerError("INVALID_CONFIG", `${path}: ${message}`, { key: path });
  }
  return parsed.data;
}
