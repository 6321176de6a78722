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
import { jsonDepthExceeds, MAX_DEPTH, MAX_JSON_BYTES, serializeJsonAsync, type JsonValue } from "../json-value.js";
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
export async function readJsonFile<K extends JsonFileSchema>(path: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
  const { text } = readRegularFile(path, schemaName === "statusFileSchema" ? MAX_RECORD_BYTES : MAX_JSON_BYTES);
  return parseJsonFile(path, text, schemaName);
}

/** How deep a file may nest: a value as deep as a writer takes, inside the file's own levels (resumes[].changes[].from). */
const FILE_DEPTH = MAX_DEPTH + 8;

/** JSON text as data, with Python's NaN / Infinity; INVALID_FILE naming the file when it is not JSON or is nested deeper than a writer nests. */
export function parseJsonText(path: string, text: string): unknown {
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

/** The same for a file's text read already (readers of many small files read them synchronously). */
export async function parseJsonFile<K extends JsonFileSchema>(path: string, text: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
  const data = parseJsonText(path, text);
  const loaded = await loadSchemas();
  const parsed = (loaded[schemaName] as unknown as z.ZodType<z.infer<Schemas[K]>>).safeParse(data);
  if (!parsed.success) {
    const { key, message } = loaded.firstIssue(parsed.error);
    const where = key === "" ? "the top level" : `key "${oneLine(key)}"`;
    throw new ConfigTrackerError("INVALID_FILE", `${path}: ${where} ${message}`, { path, key });
  }
  // The data as parsed, not zod's copy: the schemas transform nothing, and a copy would lose the
  // keys named `__proto__` (a config that has one differs from one that does not).
  return data as z.infer<Schemas[K]>;
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
