/**
 * checkpoints.jsonl: one line per checkpoint the trainer saved, with its parameter counts read
 * by the checkpoint reader, so results can name the best one and a run's model is known even
 * when training started from scratch.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

import { inspectCheckpoint, modelSummary } from "../checkpoint.js";
import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { parsePythonJson } from "../python-json.js";
import { CHECKPOINTS_FILE } from "./layout.js";

export interface CheckpointRecord {
  /** Relative to the experiment folder when inside it, absolute otherwise. */
  path: string;
  step: number;
  /** Unix seconds when it was recorded. */
  time: number;
  size_bytes: number;
  format: string | null;
  num_parameters: number | null;
  num_trainable_parameters: number | null;
  /** Metric values the trainer gave with it (e.g. the val_loss that made it the best). */
  metrics?: Record<string, number>;
  /** Why the reader could not count its parameters (an unknown format, say). */
  error?: { code: string; message: string };
}

/** The path rule of every file an experiment names: relative inside the folder, else absolute. */
export function storedPath(experimentDir: string, path: string): string {
  const absolute = resolve(path);
  const inside = relative(experimentDir, absolute);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) return absolute;
  return inside.split(sep).join("/");
}

/** A stored path back to one this process can open. */
export function resolveStoredPath(experimentDir: string, path: string): string {
  return isAbsolute(path) ? path : join(experimentDir, path);
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    total += await sizeOf(join(path, entry.name)).catch(() => 0);
  }
  return total;
}

export interface InspectedCheckpoint {
  record: CheckpointRecord;
  /** config.json's `model` for it, when the reader could count it. */
  model: Record<string, unknown> | null;
}

/** Builds the record for a checkpoint file or folder; NOT_FOUND when it does not exist. */
export async function inspectForRecord(
  experimentDir: string,
  path: string,
  step: number,
  metrics: Record<string, number> | undefined,
): Promise<InspectedCheckpoint> {
  const absolute = resolve(path);
  let size: number;
  try {
    size = await sizeOf(absolute);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new ConfigTrackerError(missing ? "NOT_FOUND" : "IO_ERROR", `${absolute}: ${missing ? "no such checkpoint" : (error as Error).message}`, {
      path: absolute,
      cause: error,
    });
  }
  const record: CheckpointRecord = {
    path: storedPath(experimentDir, absolute),
    step,
    time: Date.now() / 1000,
    size_bytes: size,
    format: null,
    num_parameters: null,
    num_trainable_parameters: null,
    ...(metrics === undefined ? {} : { metrics }),
  };
  try {
    const info = await inspectCheckpoint(absolute);
    record.format = info.format;
    record.num_parameters = info.num_parameters;
    record.num_trainable_parameters = info.num_trainable_parameters;
    return { record, model: modelForConfig(experimentDir, info) };
  } catch (error) {
    // A checkpoint the reader cannot count is still a checkpoint: record it, say why.
    if (!isConfigTrackerError(error) || error.code === "ADDON_LOAD_FAILED") throw error;
    record.error = { code: error.code, message: error.message.split("\n")[0] as string };
    return { record, model: null };
  }
}

/** config.json's `model` from the reader's answer, with the paths stored by the path rule. */
export function modelForConfig(
  experimentDir: string,
  info: Parameters<typeof modelSummary>[0],
): Record<string, unknown> {
  return modelSummary({
    ...info,
    source: storedPath(experimentDir, info.source),
    files: info.files.map((file) => storedPath(experimentDir, file)),
  });
}

/** Every record of checkpoints.jsonl, in the order recorded (torn lines skipped). */
export async function readCheckpointRecords(experimentDir: string): Promise<CheckpointRecord[]> {
  const path = join(experimentDir, CHECKPOINTS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
  }
  const records: CheckpointRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const record = parsePythonJson(line) as CheckpointRecord;
      if (typeof record?.path === "string" && typeof record.step === "number") records.push(record);
    } catch {
      // a line a crash cut short
    }
  }
  return records;
}
