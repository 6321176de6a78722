/**
 * Saving a config into a folder that already holds one: a resumption (same config), a refusal
 * naming what changed, or, when asked, a fresh start with the old files kept in .previous/.
 */
import { mkdir, readdir, rename } from "node:fs/promises";
import { join } from "node:path";

import { ensureSubfolderSync } from "../io/atomic-write.js";
import { keyPath, type JsonValue } from "../json-value.js";
import { isTrackerFile, PREVIOUS_FOLDER } from "./layout.js";

export interface ConfigChange {
  key: string;
  /** Absent when the key is new. */
  from?: JsonValue;
  /** Absent when the key was removed. */
  to?: JsonValue;
}

const isObject = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function same(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return a === b;
}

/** Every key path at which `before` and `after` differ (arrays compare element by element). */
export function diffJson(before: JsonValue | undefined, after: JsonValue | undefined, path: string, out: ConfigChange[] = []): ConfigChange[] {
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(before)) diffJson(before[key], Object.hasOwn(after, key) ? after[key] : undefined, keyPath(path, key), out);
    for (const key of Object.keys(after)) if (!Object.hasOwn(before, key)) diffJson(undefined, after[key], keyPath(path, key), out);
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, index) => diffJson(item, after[index], keyPath(path, index), out));
    return out;
  }
  if (same(before, after)) return out;
  out.push({ key: path, ...(before === undefined ? {} : { from: before }), ...(after === undefined ? {} : { to: after }) });
  return out;
}

/** Moves the previous run's files to .previous/<timestamp>/; returns that folder. */
export async function movePreviousRun(experimentDir: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const target = join(ensureSubfolderSync(experimentDir, PREVIOUS_FOLDER), stamp);
  await mkdir(target, { recursive: true });
  for (const name of await readdir(experimentDir)) {
    if (isTrackerFile(name)) await rename(join(experimentDir, name), join(target, name));
  }
  return target;
}
