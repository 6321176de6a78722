/**
 * The runs under the dashboard's roots, found as `ls` finds them (a folder holding config.json at
 * any depth; hidden folders, node_modules and symbolic links skipped), each read into a row, and
 * kept current: `refresh` looks at what changed (folder and file stamps) and reads again only
 * those runs. Every change bumps the index's version and the run's, so a page asks only for
 * what changed since the version it has.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join, relative, sep } from "node:path";

import { readRunRow, type RunRow } from "./run-row.js";
import type { Roots } from "./safe-files.js";
import { CONFIG_FILE, isConfigTrackerError, parsePythonJson } from "./views.js";
import { lookAtRunFolder, readSmallFile, restamp } from "./safe-files.js";
import { NOTES_FILE } from "./notes.js";

export interface IndexedRun {
  row: RunRow;
  /** The index version at which this row last changed. */
  version: number;
}

export interface IndexProblem {
  dir: string;
  message: string;
}

interface Container {
  /** The folder's modification time when it was listed. */
  mtimeMs: number;
  ctimeMs: number;
}

const CONCURRENCY = 16;

export class RunIndex {
  readonly runs = new Map<string, IndexedRun>();
  /** Runs whose config.json does not load (named, as `ls` warns about them). */
  readonly problems = new Map<string, IndexProblem>();
  /** Names of runs removed, with the version at which they went. */
  readonly removed = new Map<string, number>();
  version = 0;
  readonly #containers = new Map<string, Container>();
  readonly #byDir = new Map<string, string>();
  #listeners = new Set<(changed: string[]) => void>();

  constructor(readonly roots: Roots) {}

  /** Called with the names of runs added, changed or removed. */
  onChange(listener: (changed: string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The name a run folder is shown by: below its root, or below the working folder with several roots. */
  nameOf(dir: string, rootIndex: number): string {
    const root = this.roots.given[rootIndex] as string;
    const rootReal = this.roots.real[rootIndex] as string;
    const below = this.roots.given.length > 1 ? relative(process.cwd(), dir) : relative(rootReal, dir);
    return (below || (dir.split(sep).pop() ?? root)).split(sep).join("/");
  }

  /** Finds every run and reads its row. */
  async load(): Promise<void> {
    const found = this.#walk();
    await this.#readRows(found);
    this.#emit(found.map(([name]) => name));
  }

  /**
   * Looks for what changed: new or removed runs (in folders whose listing changed), and runs
   * whose stamp changed. `only` limits the run stamps checked (the live ones); the folder
   * listings are always checked.
   */
  async refresh(only?: Iterable<string>, listings = true): Promise<string[]> {
    const changed: string[] = [];
    // Listings: re-walk only when a container's times moved.
    let listingChanged = false;
    for (const [dir, seen] of listings ? this.#containers : []) {
      const info = statSync(dir, { throwIfNoEntry: false });
      if (info === undefined || info.mtimeMs !== seen.mtimeMs || info.ctimeMs !== seen.ctimeMs) {
        listingChanged = true;
        break;
      }
    }
    if (listingChanged) {
      this.#containers.clear();
      const found = this.#walk();
      const present = new Set(found.map(([name]) => name));
      for (const name of [...this.runs.keys()]) {
        if (present.has(name)) continue;
        this.#delete(name);
        changed.push(name);
      }
      const added = found.filter(([name]) => !this.runs.has(name) && !this.problems.has(name));
      await this.#readRows(added);
      changed.push(...added.map(([name]) => name));
    }
    const candidates = only === undefined ? [...this.runs.keys()] : [...only];
    const stale: Array<[string, string]> = [];
    for (const name of candidates) {
      const entry = this.runs.get(name);
      if (entry === undefined) continue;
      if (restamp(entry.row.dir, entry.row.present) !== entry.row.stamp) stale.push([name, entry.row.dir]);
    }
    // A run that could not be read may have been mended.
    for (const [name, problem] of this.problems) {
      const seen = this.#problemStamps.get(name);
      if (seen === undefined || restamp(problem.dir, seen.present) !== seen.stamp) stale.push([name, problem.dir]);
    }
    await this.#readRows(stale);
    changed.push(...stale.map(([name]) => name));
    if (changed.length > 0) this.#emit(changed);
    return changed;
  }

  /** Reads one run again now (after the dashboard wrote its notes). */
  async reread(name: string): Promise<void> {
    const entry = this.runs.get(name);
    if (entry === undefined) return;
    await this.#readRows([[name, entry.row.dir]]);
    this.#emit([name]);
  }

  /** The folders listed to find runs (the roots and the folders between them and the runs). */
  containers(): string[] {
    return [...this.#containers.keys()];
  }

  get(name: string): RunRow | null {
    return this.runs.get(name)?.row ?? null;
  }

  readonly #problemStamps = new Map<string, { stamp: string; present: string[] }>();

  #delete(name: string): void {
    const entry = this.runs.get(name);
    if (entry) this.#byDir.delete(entry.row.dir);
    this.runs.delete(name);
    this.problems.delete(name);
    this.removed.set(name, ++this.version);
  }

  #emit(changed: string[]): void {
    for (const listener of this.#listeners) listener(changed);
  }

  async #readRows(list: Array<[string, string]>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const [name, dir] = list[next++] as [string, string];
        try {
          const row = await readRunRow(dir, name, this.roots);
          this.problems.delete(name);
          this.removed.delete(name);
          this.runs.set(name, { row, version: ++this.version });
          this.#byDir.set(row.dir, name);
        } catch (error) {
          const wasRun = this.runs.has(name);
          if (wasRun) this.#delete(name);
          if (isConfigTrackerError(error) && error.code === "NOT_FOUND") continue; // gone meanwhile
          if (isSomethingElse(dir, this.roots)) continue;
          this.problems.set(name, { dir, message: (error as Error).message });
          const look = lookAtRunFolder(dir, this.roots, [NOTES_FILE]);
          this.#problemStamps.set(name, { stamp: restamp(dir, look.present), present: look.present });
          if (!wasRun) this.version += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
  }

  /** Every run folder under the roots, as [name, folder]; notes each listed folder's times. */
  #walk(): Array<[string, string]> {
    const found: Array<[string, string]> = [];
    const seen = new Set<string>();
    const visit = (dir: string, rootIndex: number) => {
      let entries: Dirent[];
      let info;
      try {
        info = statSync(dir);
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // unreadable or gone: not ours to report
      }
      if (entries.some((entry) => entry.name === CONFIG_FILE && entry.isFile())) {
        if (!seen.has(dir)) {
          seen.add(dir);
          found.push([this.nameOf(dir, rootIndex), dir]);
        }
        return;
      }
      this.#containers.set(dir, { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs });
      const children = entries
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
        .map((entry) => entry.name)
        .sort();
      for (const name of children) visit(join(dir, name), rootIndex);
    };
    this.roots.real.forEach((root, index) => visit(root, index));
    return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** A config.json that is JSON but has none of a run's keys: another tool's, passed over as `ls` does. */
function isSomethingElse(dir: string, roots: Roots): boolean {
  try {
    const data = parsePythonJson(readSmallFile(join(dir, CONFIG_FILE), roots, 64 * 1024 * 1024).text);
    return typeof data === "object" && data !== null && !("experiment_id" in data) && !("config" in data);
  } catch {
    return false;
  }
}
