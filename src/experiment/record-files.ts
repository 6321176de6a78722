/**
 * The folders of small records a job writes beside the run (ranks/, nodes/): each file read
 * through the guarded reader (a FIFO or device is refused, never waited on; at most
 * MAX_RECORD_BYTES), parsed, and checked against its shape; at most MAX_RECORD_FILES of them.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { readRegularFile } from "../io/read-file.js";
import { parsePythonJson } from "../python-json.js";
import { MAX_RECORD_BYTES, MAX_RECORD_FILES } from "./layout.js";
import { misfit, type Shape } from "./record-shape.js";

/** A record file that could not be used, and why. */
export type RecordProblem = ConfigTrackerError;

/**
 * The records of the files in `folder` whose names `wanted` picks, in name order. A file that
 * cannot be read, is not JSON or does not fit `shape` goes to `onProblem` and is left out
 * (without `onProblem` it is thrown). No folder: no records.
 */
export function readRecordFolder<T>(folder: string, wanted: (name: string) => boolean, shape: Shape, onProblem?: (problem: RecordProblem) => void): T[] {
  const report = (problem: ConfigTrackerError) => {
    if (onProblem === undefined) throw problem;
    onProblem(problem);
  };
  let names: string[];
  try {
    names = readdirSync(folder).filter(wanted).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    report(new ConfigTrackerError(code === "ENOTDIR" ? "INVALID_FILE" : "IO_ERROR", `${folder}: ${(error as Error).message}`, { path: folder, cause: error }));
    return [];
  }
  if (names.length > MAX_RECORD_FILES) {
    report(new ConfigTrackerError("LIMIT_EXCEEDED", `${folder}: ${names.length} files, more than the ${MAX_RECORD_FILES} read here (the rest left out)`, { path: folder }));
    names = names.slice(0, MAX_RECORD_FILES);
  }
  const records: T[] = [];
  for (const name of names) {
    const path = join(folder, name);
    try {
      let record: unknown;
      const { text } = readRegularFile(path, MAX_RECORD_BYTES);
      try {
        record = parsePythonJson(text);
      } catch (error) {
        throw new ConfigTrackerError("INVALID_FILE", `${path}: not valid JSON (being rewritten, or not a record)`, { path, cause: error });
      }
      const bad = misfit(record, shape);
      if (bad !== null) throw new ConfigTrackerError("INVALID_FILE", `${path}: key "${bad}" is missing or of the wrong type`, { path, key: bad });
      records.push(record as T);
    } catch (error) {
      if (!isConfigTrackerError(error)) throw error;
      if (error.code === "NOT_FOUND") continue; // removed since the folder was listed
      report(error);
    }
  }
  return records;
}
