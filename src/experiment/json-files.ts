/**
 * An experiment's whole JSON files (config.json, results.json, status.json). Read back: Python's
 * NaN / Infinity tokens accepted, validated against its zod schema, every failure a
 * ConfigTrackerError naming the file (NOT_FOUND, IO_ERROR, or INVALID_FILE with the first bad
 * key). Written: atomically, in slices that keep the event loop running, within 64 MiB.
 */
import { dirname } from "node:path";
import type { z } from "zod";

import { ConfigTrackerError } from "../errors.js";
import { ensureFolder, writeFileAtomic } from "../io/atomic-write.js";
import { readRegularFile } from "../io/read-file.js";
import { jsonDepthExceeds, jsonTextExceeds, MAX_DEPTH, MAX_JSON_BYTES, serializeJsonAsync, type JsonValue } from "../json-value.js";
import { MAX_RECORD_BYTES } from "./layout.js";
import { oneLine } from "../text.js";
import { parsePythonJson } from "../python-json.js";

type Schemas = typeof import("../schema.js");

export type JsonFileSchema = "configFileSchema" | "resultsFileSchema" | "statusFileSchema";

// zod loads only when a file is read, so importing the tracker stays cheap.
let schemas: Promise<Schemas> | undefined;
export const loadSchemas = (): Promise<Schemas> => (schemas ??= import("../schema.js"));

/**
 * Reads and validates one of the files (a FIFO or a device there is refused, never waited on; a
 * file larger than a tracker writes is refused before it is read).
 */
export async function readJsonFile<K extends JsonFileSchema>(
  path: string,
  schemaName: K,
  onWarning?: (message: string) => void,
): Promise<z.infer<Schemas[K]>> {
  const { text } = readRegularFile(path, schemaName === "statusFileSchema" ? MAX_RECORD_BYTES : MAX_JSON_BYTES);
  return parseJsonFile(path, text, schemaName, onWarning);
}

/** How deep a file may nest: a value as deep as a writer takes, inside the file's own levels (resumes[].changes[].from). */
const FILE_DEPTH = MAX_DEPTH + 8;

/** JSON text as data, with Python's NaN / Infinity; INVALID_FILE naming the file when it is not JSON or is nested deeper than a writer nests. */
export function parseJsonText(path: string, text: string): unknown {
  const exceeds = jsonTextExceeds(text);
  if (exceeds !== null) throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: ${exceeds} (more than a tracker writes); not read`, { path });
  let data: unknown;
  try {
    // JSON.parse quotes the bad text, newlines and control characters included: escaped.
    data = parsePythonJson(text);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not valid JSON: ${oneLine((error as Error).message)}`, {
      path,
      cause: error,
    });
  }
  if (jsonDepthExceeds(data, FILE_DEPTH)) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: nested deeper than ${FILE_DEPTH} levels (more than a tracker writes)`, { path });
  }
  return data;
}

/**
 * Keys a reader can do without, per file, with what stands in for one that is not right: null
 * there is how Python says "not given" (left out quietly), and for a reader that takes warnings
 * (the views: ls, show, diff, compare, the dashboard) a value of the wrong type is left out with
 * a warning instead of making the whole file unreadable (`undefined`: the key is removed; under
 * `hardware`, each of its keys on its own). Other readers (loadConfig) get INVALID_FILE for it.
 */
const DISPENSABLE: Partial<Record<JsonFileSchema, ReadonlyMap<string, unknown>>> = {
  configFileSchema: new Map<string, unknown>([
    ["hardware", {}],
    ["model", undefined],
    ["dataset", undefined],
    ["git", undefined],
    ["environment", undefined],
    ["resumes", undefined],
  ]),
  resultsFileSchema: new Map<string, unknown>([
    ["best_checkpoint", null],
    ["generation_samples", null],
    ["summary", undefined],
    ["warnings", undefined],
  ]),
};
const BY_KEY = new Set(["hardware"]);

/** The same for a file's text read already (readers of many small files read them synchronously). */
export async function parseJsonFile<K extends JsonFileSchema>(
  path: string,
  text: string,
  schemaName: K,
  onWarning?: (message: string) => void,
): Promise<z.infer<Schemas[K]>> {
  const data = parseJsonText(path, text);
  const loaded = await loadSchemas();
  const schema = loaded[schemaName] as unknown as z.ZodType<z.infer<Schemas[K]>>;
  const dispensable = DISPENSABLE[schemaName];
  if (dispensable !== undefined && typeof data === "object" && data !== null) {
    const record = data as Record<string, unknown>;
    for (const [key, standIn] of dispensable) if (standIn === undefined && record[key] === null && Object.hasOwn(record, key)) delete record[key];
  }
  for (let attempt = 0; ; attempt++) {
    const parsed = schema.safeParse(data);
    // The data as parsed, not zod's copy: the schemas transform nothing, and a copy would lose
    // the keys named `__proto__` (a config that has one differs from one that does not).
    if (parsed.success) return data as z.infer<Schemas[K]>;
    const { key, message } = loaded.firstIssue(parsed.error);
    const [top, inner] = parsed.error.issues[0]?.path ?? [];
    const wasNull = typeof top === "string" && (typeof inner === "string" ? (data as Record<string, Record<string, unknown>>)[top]?.[inner] : (data as Record<string, unknown>)[top]) === null;
    const lenient = onWarning !== undefined || wasNull;
    if (!lenient || dispensable === undefined || typeof top !== "string" || !dispensable.has(top) || attempt > 100) {
      const where = key === "" ? "the top level" : `key "${oneLine(key)}"`;
      throw new ConfigTrackerError("INVALID_FILE", `${path}: ${where} ${message}`, { path, key });
    }
    const record = data as Record<string, unknown>;
    const holder = record[top];
    let was: unknown;
    if (BY_KEY.has(top) && typeof inner === "string" && typeof holder === "object" && holder !== null && !Array.isArray(holder)) {
      was = (holder as Record<string, unknown>)[inner];
      delete (holder as Record<string, unknown>)[inner];
    } else {
      was = holder;
      const standIn = dispensable.get(top);
      if (standIn === undefined) delete record[top];
      else record[top] = typeof standIn === "object" && standIn !== null ? { ...standIn } : standIn;
    }
    if (was !== null) onWarning?.(`${path}: key "${oneLine(key)}" ${message} (left out)`);
  }
}

/**
 * Writes a record built from checked parts (user values went through toJsonValue, models through
 * the schema), so zod is not loaded for it: a cold saveConfig does not pay for loading zod.
 * Readers validate every file. `nodes`: about how many values it holds (the slices' size).
 * `exclusive`: only if no file is there (CONFIG_EXISTS when another process created it first).
 */
export async function writeJsonFile(
  path: string,
  kind: "config" | "results",
  record: object,
  nodes: number,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  const pieces = await serializeJsonAsync(record as JsonValue, nodes + 500, true);
  pieces.push("\n");
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (length > MAX_JSON_BYTES / 3 && pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0) > MAX_JSON_BYTES) {
    throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: larger than 64 MiB as JSON`, { path, key: kind });
  }
  await ensureFolder(dirname(path));
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
