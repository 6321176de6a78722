/**
 * listRuns(root): every run under a folder, at any depth (a sweep writes
 * `<root>/<combination>/config.json`, a project may keep `runs/<group>/<name>/`). A folder holding
 * config.json is a run and is not looked into further (its ckpt/, ranks/ are not runs); hidden
 * folders (.previous/, .git/) and node_modules are skipped, and symbolic links are not followed.
 * A config.json that is not a run's (a Hugging Face model's, a tool's) is passed over quietly;
 * a run's that does not load goes to `onUnreadable`.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { readRegularFile } from "../io/read-file.js";
import { MAX_JSON_BYTES } from "../json-value.js";
import { checkOptions, optionNames } from "../options.js";
import { parsePythonJson } from "../python-json.js";
import { CONFIG_FILE } from "../experiment/layout.js";
import { loadRun, type LoadedRun } from "./load-run.js";

export interface ListRunsOptions {
  /**
   * Called for a run whose config.json is there but does not load (not JSON, a key missing, larger
   * than a tracker writes, not readable); the listing goes on without it. Without this option
   * such a run is an error.
   */
  onUnreadable?: (error: ConfigTrackerError) => void;
}

/** Runs are loaded this many at a time (each is a few small reads). */
const CONCURRENCY = 32;

export const LIST_RUNS_OPTIONS = optionNames<ListRunsOptions>({ onUnreadable: true });

export async function listRuns(root: string, options: ListRunsOptions = {}): Promise<LoadedRun[]> {
  checkOptions("listRuns(root, options)", options, LIST_RUNS_OPTIONS);
  const top = resolve(root);
  const info = await stat(top).catch((error: NodeJS.ErrnoException) => {
    const code = error.code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR";
    throw new ConfigTrackerError(code, `${root}: ${error.code === "ENOENT" ? "no such folder" : error.message}`, { path: root });
  });
  if (!info.isDirectory()) throw new ConfigTrackerError("NOT_A_FOLDER", `${root}: not a folder`, { path: root });

  const folders = await findRunFolders(top);
  const runs: Array<LoadedRun | null> = new Array(folders.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < folders.length) {
      const index = next++;
      const folder = folders[index] as string;
      const name = relative(top, folder).split(sep).join("/") || folder.split(sep).pop() || folder;
      try {
        runs[index] = await loadRun(folder, { name });
      } catch (error) {
        // A run's own trouble (its config.json is not JSON, too large, unreadable, or gone
        // meanwhile) is that run's, never the end of the listing.
        if (!isConfigTrackerError(error)) throw error;
        if (error.code === "NOT_FOUND") continue;
        if (error.code === "INVALID_FILE" && (await isSomethingElse(join(folder, CONFIG_FILE)))) continue;
        if (options.onUnreadable === undefined) throw error;
        options.onUnreadable(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, folders.length) }, worker));
  // Oldest first; runs started at the same moment by name.
  return runs
    .filter((run): run is LoadedRun => run !== null)
    .map((run) => ({ run, start: Date.parse(run.config.timestamp) }))
    .sort((a, b) => a.start - b.start || (a.run.name < b.run.name ? -1 : a.run.name > b.run.name ? 1 : 0))
    .map((entry) => entry.run);
}

/** Folders holding a config.json, depth first, in name order. */
async function findRunFolders(top: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (folder === top) throw new ConfigTrackerError("IO_ERROR", `${folder}: ${(error as Error).message}`, { path: folder });
      return; // a folder we may not read, or one removed meanwhile: not ours to report
    }
    if (entries.some((entry) => entry.name === CONFIG_FILE && entry.isFile())) {
      found.push(folder);
      return;
    }
    const children = entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
      .map((entry) => entry.name)
      .sort();
    await Promise.all(children.map((name) => visit(join(folder, name))));
  };
  await visit(top);
  return found.sort();
}

/** A config.json that is JSON but has none of a run's keys: some other tool's, not a broken run. */
async function isSomethingElse(path: string): Promise<boolean> {
  try {
    const data = parsePythonJson(readRegularFile(path, MAX_JSON_BYTES).text);
    return typeof data === "object" && data !== null && !Object.hasOwn(data, "experiment_id") && !Object.hasOwn(data, "config");
  } catch {
    return false;
  }
}
