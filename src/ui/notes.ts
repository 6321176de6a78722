/**
 * notes.json: a short note and tags a person gives a run, kept in the run's folder so that any
 * reader (Python's json module, jq, another dashboard) sees them:
 *   {"note": "diverged after the warmup change", "tags": ["baseline", "lr-sweep"],
 *    "updated_at": "2026-11-28T10:02:11.431Z", "updated_by": "ana@gpu-node-07"}
 * Written whole and atomically (a temporary file renamed over it); a write states the version it
 * changes (`updated_at` as read, or null for none) and is refused when the file changed since.
 */
import { userInfo, hostname } from "node:os";
import { join } from "node:path";

import { readSmallFile, type Roots } from "./safe-files.js";
import { ConfigTrackerError, isConfigTrackerError, NOTES_FILE, parsePythonJson, writeFileAtomic } from "./views.js";

export { NOTES_FILE };

export const MAX_NOTE_CHARS = 10_000;
export const MAX_TAGS = 32;
export const MAX_TAG_CHARS = 64;
const MAX_FILE_BYTES = 256 * 1024;

export interface Notes {
  note: string;
  tags: string[];
  updated_at?: string;
  updated_by?: string;
}

/** Control characters (C0, DEL, C1) and line / paragraph separators: not in a tag. */
const TAG_REFUSED = /[\u0000-\u0020\u007f-\u009f\u2028\u2029,]/;

/** Checks a note and tags as given (to write or as read); throws INVALID_ARGUMENT naming the key. */
export function checkNotes(value: unknown, where: string): Notes {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: an object with "note" and "tags"`, { key: "notes" });
  }
  const { note = "", tags = [] } = value as Record<string, unknown>;
  if (typeof note !== "string") throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: "note" must be a string`, { key: "note" });
  if (note.length > MAX_NOTE_CHARS) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: "note" is longer than ${MAX_NOTE_CHARS} characters`, { key: "note" });
  }
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: "tags" must be a list of at most ${MAX_TAGS} tags`, { key: "tags" });
  }
  const seen = new Set<string>();
  for (const tag of tags) {
    if (typeof tag !== "string" || tag.length === 0 || tag.length > MAX_TAG_CHARS || TAG_REFUSED.test(tag)) {
      throw new ConfigTrackerError(
        "INVALID_ARGUMENT",
        `${where}: a tag is 1 to ${MAX_TAG_CHARS} characters without spaces, commas or control characters (got ${JSON.stringify(tag)})`,
        { key: "tags" },
      );
    }
    seen.add(tag);
  }
  const { updated_at, updated_by } = value as Record<string, unknown>;
  return {
    note,
    tags: [...seen],
    ...(typeof updated_at === "string" ? { updated_at } : {}),
    ...(typeof updated_by === "string" ? { updated_by } : {}),
  };
}

/** A run's notes, null when it has no notes.json; INVALID_FILE when the file is not notes. */
export function readNotes(dir: string, roots: Roots): Notes | null {
  const path = join(dir, NOTES_FILE);
  let text: string;
  try {
    text = readSmallFile(path, roots, MAX_FILE_BYTES).text;
  } catch (error) {
    if (isConfigTrackerError(error) && error.code === "NOT_FOUND") return null;
    throw error;
  }
  let data: unknown;
  try {
    data = parsePythonJson(text);
  } catch {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not valid JSON`, { path });
  }
  try {
    return checkNotes(data, path);
  } catch (error) {
    throw new ConfigTrackerError("INVALID_FILE", (error as Error).message, { path });
  }
}

/**
 * Replaces a run's notes. `expected` is the `updated_at` the writer saw (null: it saw none);
 * when the file now says otherwise, nothing is written and CONFIG_EXISTS carries the current notes'
 * time in `key`.
 */
export async function writeNotes(dir: string, roots: Roots, notes: Notes, expected: string | null): Promise<Notes> {
  let current: Notes | null = null;
  try {
    current = readNotes(dir, roots);
  } catch {
    // a broken notes.json is replaced
  }
  const currentVersion = current?.updated_at ?? null;
  if (currentVersion !== expected) {
    throw new ConfigTrackerError("CONFIG_EXISTS", `${join(dir, NOTES_FILE)}: changed by someone else (${currentVersion ?? "removed"}); reload and try again`, {
      path: join(dir, NOTES_FILE),
      key: currentVersion ?? "",
    });
  }
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): "unknown"
  }
  const stored: Notes = { note: notes.note, tags: notes.tags, updated_at: new Date().toISOString(), updated_by: `${user}@${hostname()}` };
  await writeFileAtomic(join(dir, NOTES_FILE), `${JSON.stringify(stored, null, 2)}\n`);
  return stored;
}
