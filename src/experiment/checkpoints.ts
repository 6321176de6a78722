/**
 * checkpoints.jsonl: one line per checkpoint the trainer saved, with its parameter counts read
 * by the checkpoint reader, so results can name the best one and a run's model is known even
 * when training started from scratch.
 */
import { lstat, readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

import { inspectCheckpoint, modelSummary } from "../checkpoint.js";
import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { MAX_LINE_BYTES } from "../io/append-file.js";
import { lineChunksOf } from "../io/line-reader.js";
import { closeFile, openRegularFile, type OpenedFile } from "../io/read-file.js";
import { parsePythonJson } from "../python-json.js";
import { CHECKPOINTS_FILE, MAX_CHECKPOINTS_BYTES } from "./layout.js";
import { misfit, type Shape } from "./record-shape.js";

export interface CheckpointRecord {
  /** Relative to the experiment folder when inside it, absolute otherwise. */
  path: string;
  step: number;
  /** Unix seconds when it was recorded. */
  time: number;
  size_bytes: number;
  /**
   * When the file was last modified (unix seconds; a folder: its newest file). With `path` and
   * `size_bytes` it tells a checkpoint already recorded from one written again. Absent in records
   * of older versions.
   */
  mtime?: number;
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

/**
 * A checkpoint's size and modification time (a file's, or a folder's total size and newest
 * mtime), and which file it is (device and inode: one file met under two names is one).
 */
export interface CheckpointStamp {
  size: number;
  mtimeMs: number;
  id: string;
}

/** Entries a checkpoint folder's walk looks at, at most (a folder of more is stamped by those). */
const MAX_WALKED = 100_000;

/**
 * The stamp of a checkpoint file or folder (the stat error when it is gone). A folder's walk does
 * not follow symbolic links (a link back into it would make the walk endless, a link out of it
 * would walk the disk) and enters each folder once (by device and inode, against bind mounts).
 */
export async function checkpointStamp(path: string): Promise<CheckpointStamp> {
  const info = await stat(path);
  const id = `${info.dev}:${info.ino}`;
  if (!info.isDirectory()) return { size: info.size, mtimeMs: info.mtimeMs, id };
  let size = 0;
  let newest = info.mtimeMs;
  let walked = 0;
  const entered = new Set<string>([id]);
  const pending = [path];
  for (let folder = pending.pop(); folder !== undefined && walked < MAX_WALKED; folder = pending.pop()) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    for (const name of entries) {
      if (++walked > MAX_WALKED) break;
      const child = join(folder, name);
      const childInfo = await lstat(child).catch(() => null);
      if (childInfo === null || childInfo.isSymbolicLink()) continue;
      newest = Math.max(newest, childInfo.mtimeMs);
      if (childInfo.isDirectory()) {
        const key = `${childInfo.dev}:${childInfo.ino}`;
        if (!entered.has(key)) (entered.add(key), pending.push(child));
      } else size += childInfo.size;
    }
  }
  return { size, mtimeMs: newest, id };
}

/**
 * Whether `record` is of this checkpoint as it is now: the same path (resolved), size and mtime.
 * A record written before mtimes were kept counts when it was made after the file's last change.
 */
export function isRecordOf(experimentDir: string, record: CheckpointRecord, path: string, stamp: CheckpointStamp): boolean {
  if (resolveStoredPath(experimentDir, record.path) !== resolve(path) || record.size_bytes !== stamp.size) return false;
  return record.mtime !== undefined ? record.mtime === stamp.mtimeMs / 1000 : record.time >= stamp.mtimeMs / 1000;
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
  let stamp: CheckpointStamp;
  try {
    stamp = await checkpointStamp(absolute);
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
    size_bytes: stamp.size,
    mtime: stamp.mtimeMs / 1000,
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

/** A line of checkpoints.jsonl as readers use it (another writer may leave out the counts). */
const CHECKPOINT_SHAPE: Shape = {
  path: "string",
  step: "count",
  time: "number",
  size_bytes: "count",
  format: "string|null?",
  num_parameters: "count|null?",
  num_trainable_parameters: "count|null?",
  metrics: "numbers?",
  error: { object: { code: "string", message: "string" }, optional: true },
};

/** checkpoints.jsonl read back: its records, and the lines that were not one. */
export interface CheckpointLog {
  records: CheckpointRecord[];
  /** Lines skipped: torn by a crash, not JSON, or a record of the wrong shape. */
  skipped: number;
  /** The first skipped line: its number and why. */
  firstSkipped: string | null;
}

/**
 * Every record of checkpoints.jsonl, in the order recorded; lines that are not a record of the
 * right shape are skipped and counted. A file larger than MAX_CHECKPOINTS_BYTES, or not a regular
 * file, is an error naming it.
 */
export async function readCheckpointLog(experimentDir: string): Promise<CheckpointLog> {
  const path = join(experimentDir, CHECKPOINTS_FILE);
  const log: CheckpointLog = { records: [], skipped: 0, firstSkipped: null };
  let file: OpenedFile;
  try {
    file = openRegularFile(path);
  } catch (error) {
    if (isConfigTrackerError(error) && error.code === "NOT_FOUND") return log;
    throw error;
  }
  const skip = (line: number, why: string) => {
    log.skipped += 1;
    log.firstSkipped ??= `line ${line}: ${why}`;
  };
  try {
    if (file.stats.size > MAX_CHECKPOINTS_BYTES) {
      throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: ${file.stats.size} bytes, more than the ${MAX_CHECKPOINTS_BYTES} read here`, { path });
    }
    for await (const chunk of lineChunksOf(file, file.stats.size, MAX_LINE_BYTES)) {
      if (chunk.bytes === undefined) {
        if (chunk.skip === "too long") skip(chunk.first, chunk.skip); // a last line being written is not a problem
        continue;
      }
      chunk.bytes.toString("utf8").split("\n").forEach((line, index) => {
        if (line.trim() === "") return;
        let record: unknown;
        try {
          record = parsePythonJson(line);
        } catch {
          skip(chunk.first + index, "not JSON (a line a crash cut short)");
          return;
        }
        const bad = misfit(record, CHECKPOINT_SHAPE);
        if (bad !== null) return skip(chunk.first + index, `key "${bad}" is missing or of the wrong type`);
        const checkpoint = record as CheckpointRecord;
        checkpoint.format ??= null;
        checkpoint.num_parameters ??= null;
        checkpoint.num_trainable_parameters ??= null;
        log.records.push(checkpoint);
      });
    }
  } finally {
    closeFile(file);
  }
  return log;
}

/** Every record of checkpoints.jsonl, in the order recorded (lines that are not one skipped). */
export async function readCheckpointRecords(experimentDir: string): Promise<CheckpointRecord[]> {
  return (await readCheckpointLog(experimentDir)).records;
}
