/**
 * config.json of one experiment: created once (link(2): two processes cannot both create it),
 * then changed only under its lock, in this process one change after the other: a resumption
 * appends an entry to `resumes`, the first recorded checkpoint fills in `model`, mode "overwrite"
 * moves the previous run aside first. A different config is refused, naming every changed key.
 */
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

import { ConfigTrackerError } from "../errors.js";
import { exists } from "../io/exists.js";
import { withFileLock } from "../io/file-lock.js";
import { readRegularFile } from "../io/read-file.js";
import { MAX_JSON_BYTES, setKey, type JsonValue } from "../json-value.js";
import { parsePythonJson, stringifyPythonJson } from "../python-json.js";
import type { ConfigFile, EnvironmentInfo, GitInfo, HardwareInfo, ModelSummary, ResumeEntry } from "../schema.js";
import { loadSchemas, readJsonFile, writeJsonFile } from "./json-files.js";
import { CONFIG_FILE, STATUS_FILE } from "./layout.js";
import { diffJson, movePreviousRun, type ConfigChange } from "./resume.js";
import { readStatusRecord, reportedStatus } from "./status.js";

/** config.json as this package writes it: every section filled in. */
export interface SavedConfig extends ConfigFile {
  hardware: HardwareInfo;
  git?: GitInfo;
  environment: EnvironmentInfo;
}

export type SaveConfigMode = "auto" | "resume" | "overwrite";

/** How a save treats a config.json that is there already, and what a resumption restarts from. */
export interface ResumeRequest {
  mode: SaveConfigMode;
  from_checkpoint?: string;
  from_step?: number;
}

/** config.json as read, with what the file was then (its inode, size and mtime; null: none). */
export interface StampedConfig {
  stamp: string | null;
  result: ConfigFile | Error;
}

/** The facts of a machine worth comparing between sessions of one run. */
export function hardwareSummary(hardware: Partial<HardwareInfo>, host: string | undefined): Record<string, JsonValue> {
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

/** A ModelInfo as config.json's `model`, checked against the schema (INVALID_CONFIG naming the key). */
export async function validateModel(json: JsonValue): Promise<ModelSummary> {
  const { modelInfoSchema, firstIssue } = await loadSchemas();
  const parsed = modelInfoSchema.safeParse(json);
  if (!parsed.success) {
    const { key, message } = firstIssue(parsed.error);
    const path = key === "" ? "model" : `model.${key}`;
    throw new ConfigTrackerError("INVALID_CONFIG", `${path}: ${message}`, { key: path });
  }
  return parsed.data;
}

export class ConfigStore {
  readonly path: string;
  readonly #statusPath: string;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(readonly experimentDir: string) {
    this.path = join(experimentDir, CONFIG_FILE);
    this.#statusPath = join(experimentDir, STATUS_FILE);
  }

  /** config.json, read and validated. */
  load(): Promise<ConfigFile> {
    return readJsonFile(this.path, "configFileSchema");
  }

  /** config.json read now (to be checked again under the lock: see save), or the error reading it. */
  async readStamped(): Promise<StampedConfig> {
    const stamp = await fileStamp(this.path);
    try {
      return { stamp, result: await this.load() };
    } catch (error) {
      return { stamp, result: error as Error };
    }
  }

  /**
   * Writes a new config.json, or resumes / refuses / overwrites the one there, holding the lock.
   * `prefetched` (readStamped) is used when the file has not changed since. `nodes`: about how
   * many values the record holds.
   */
  save(record: SavedConfig, resume: ResumeRequest, nodes: number, prefetched?: Promise<StampedConfig>): Promise<SavedConfig> {
    return this.#change(() => this.#store(record, resume, nodes, prefetched));
  }

  /** Fills in `model` when config.json has none (the first checkpoint recorded). */
  fillModel(model: JsonValue): Promise<void> {
    return this.#change(async () => {
      const existing = await this.#readExisting(false);
      if (existing === null || existing.model !== undefined) return;
      await writeJsonFile(this.path, "config", withModel(existing, await validateModel(model)), 0);
    });
  }

  /**
   * config.json's start time and resumptions, for results: read without zod (which a cold
   * process would load just for this); a file that is missing or not as expected gives nothing.
   */
  async times(): Promise<{ timestamp: string; resumes?: Array<{ timestamp: string }> } | null> {
    try {
      const data = parsePythonJson(readRegularFile(this.path, MAX_JSON_BYTES).text) as Record<string, unknown>;
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
  #change<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#changes.then(() => withFileLock(this.path, change));
    this.#changes = next.catch(() => {});
    return next;
  }

  async #store(record: SavedConfig, resume: ResumeRequest, nodes: number, prefetched?: Promise<StampedConfig>): Promise<SavedConfig> {
    const existing = await this.#readExisting(resume.mode === "overwrite", prefetched);
    if (existing !== null) this.#refuseIfLiveElsewhere();
    if (existing === null || resume.mode === "overwrite") {
      if (existing !== null || (await exists(this.path))) await movePreviousRun(this.experimentDir);
      await writeJsonFile(this.path, "config", record, nodes, { exclusive: true });
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
        `${this.path}: holds a different config: ${listed}${changes.length > 10 ? `, and ${changes.length - 10} more` : ""}. ` +
          'Pass { mode: "resume" } to carry on with these changes, { mode: "overwrite" } to start over ' +
          "(the old files move to .previous/), or use another folder.",
        { path: this.path, keys: changes.map((change) => change.key) },
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
    await writeJsonFile(this.path, "config", updated, nodes * 2);
    return updated;
  }

  /** Another live process (not a rank of this job) already runs this experiment. */
  #refuseIfLiveElsewhere(): void {
    const status = readStatusRecord(this.#statusPath);
    if (status === null) return;
    if (status.pid === process.pid && status.host === hostname()) return;
    if (reportedStatus(status).status !== "running") return;
    throw new ConfigTrackerError(
      "RUN_ACTIVE",
      `${this.experimentDir}: process ${status.pid} on ${status.host} is running this experiment (heartbeat ${status.updated_at}); ` +
        "wait for it to end, stop it, or use another folder",
      { path: this.#statusPath },
    );
  }

  /**
   * config.json, or null when there is none (or it is broken and `brokenOk`). A `prefetched` read
   * is used when the file has not changed since (same inode, size and mtime).
   */
  async #readExisting(brokenOk: boolean, prefetched?: Promise<StampedConfig>): Promise<ConfigFile | null> {
    let read = prefetched === undefined ? undefined : await prefetched.catch(() => undefined);
    if (read === undefined || read.stamp !== (await fileStamp(this.path))) read = await this.readStamped();
    const { result } = read;
    if (!(result instanceof Error)) return result;
    if (result instanceof ConfigTrackerError && result.code === "NOT_FOUND") return null;
    if (brokenOk && result instanceof ConfigTrackerError && result.code === "INVALID_FILE") return null;
    throw result;
  }
}

/** config.json with `model` in its usual place (after hardware), as a first save would put it. */
function withModel(config: ConfigFile, model: ModelSummary): ConfigFile {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    setKey(out, key, value);
    if (key === "hardware") out.model = model;
  }
  if (!Object.hasOwn(out, "model")) out.model = model;
  return out as ConfigFile;
}

function describeValue(value: JsonValue | undefined): string {
  if (value === undefined) return "absent";
  const text = stringifyPythonJson(value, 0);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
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
