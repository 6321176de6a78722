/**
 * Reading one of a run's JSON files (config.json, results.json, status.json) back: Python's
 * NaN / Infinity tokens accepted, validated against its zod schema, every failure a
 * ConfigTrackerError naming the file (NOT_FOUND, IO_ERROR, or INVALID_FILE with the first bad key).
 */
import { readFile } from "node:fs/promises";
import type { z } from "zod";

import { ConfigTrackerError } from "../errors.js";
import { inert } from "../format.js";
import { parsePythonJson } from "../python-json.js";

type Schemas = typeof import("../schema.js");

/** JSON.parse quotes the bad text, newlines and control characters included: escape them. */
export type RunFileSchema = "configFileSchema" | "resultsFileSchema" | "statusFileSchema";

// zod loads only when a file is read, so importing the tracker stays cheap.
let schemas: Promise<Schemas> | undefined;
export const loadSchemas = (): Promise<Schemas> => (schemas ??= import("../schema.js"));

export async function readRunFile<K extends RunFileSchema>(path: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigTrackerError("NOT_FOUND", `${path}: no such file`, { path, cause: error });
    throw new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
  }
  return parseRunFile(path, text, schemaName);
}

/** The same for a file's text read already (readers of many small files read them synchronously). */
export async function parseRunFile<K extends RunFileSchema>(path: string, text: string, schemaName: K): Promise<z.infer<Schemas[K]>> {
  let data: unknown;
  try {
    data = parsePythonJson(text);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not valid JSON: ${inert((error as Error).message)}`, {
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
