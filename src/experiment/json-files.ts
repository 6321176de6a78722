/**
 * An experiment's whole JSON files (config.json, results.json, status.json). Read back: Python's
 * NaN / Infinity tokens accepted, validated against its zod schema, every failure a
 * ConfigTrackerError naming the file (NOT_FOUND, IO_ERROR, or INVALID_FILE with the first bad
 * key). Written: atomically, in slices that keep the event loop running, within 64 MiB.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { z } from "zod";

import { ConfigTrackerError } from "../errors.js";
import { ensureFolder, writeFileAtomic } from "../io/atomic-write.js";
import { MAX_JSON_BYTES, serializeJsonAsync, type JsonValue } from "../json-value.js";
import { oneLine } from "../text.js";
import { parsePythonJson } from "../python-json.js";

type Schemas = typeof import("../schema.js");

export type JsonFileSchema = "configFileSchema" | "resultsFileSchema" | "statusFileSchema";

// zod loads only when a file is read, so importing the tracker stays cheap.
let schemas: Promise<Schemas> | undefined;
export const loadSchemas = (): Promise<Schemas> => (schemas ??= import("../schema.js"));

export async function readJsonFile<K extends JsonFileSchema>(path: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigTrackerError("NOT_FOUND", `${path}: no such file`, { path, cause: error });
    throw new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
  }
  return parseJsonFile(path, text, schemaName);
}

/** The same for a file's text read already (readers of many small files read them synchronously). */
export async function parseJsonFile<K extends JsonFileSchema>(path: string, text: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
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
  const loaded = await loadSchemas();
  const parsed = (loaded[schemaName] as unknown as z.ZodType<z.infer<Schemas[K]>>).safeParse(data);
  if (!parsed.success) {
    const { key, message } = loaded.firstIssue(parsed.error);
    const where = key === "" ? "the top level" : `key "${key}"`;
    throw new ConfigTrackerError("INVALID_FILE", `${path}: ${where} ${message}`, { path, key });
  }
  return parsed.data;
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
