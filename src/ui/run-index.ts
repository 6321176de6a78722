/**
 * The runs under the dashboard's roots, found as `ls` finds them (a folder holding config.json at
 * any depth; hidden folders, node_modules and symbolic links skipped), each read into a row, and
 * kept current: a look at the folders' and files' sizes and times says what changed, and only
 * those runs are read again. Every change bumps the index's version and the run's, so a page asks
 * only for what changed since the version it has.
 *
 * Between starts the rows are kept in a snapshot (index-snapshot.ts) with the stamps they were
 * read at: the next start lists again only the folders whose times moved and reads again only
 * the runs whose stamp differs, so 10,000 runs that did not change cost a stat of each folder
 * and of each file they were read from (in bulk, on the thread pool: folder-stamps.ts), not a
 * read and parse of every file.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join, relative, sep } from "node:path";

import { changedFolders, folderStamp, type FolderStamp, type StampCheck } from "./folder-stamps.js";
import { readSnapshot, writeSnapshot, type Snapshot } from "./index-snapshot.js";
import { NOTES_FILE } from "./notes.js";
import { readRunRow, type RunRow } from "./run-row.js";
import { lookAtRunFolder, readSmallFile, type Roots } from "./safe-files.js";
import { CONFIG_FILE, isConfigTrackerError, parsePythonJson } from "./views.js";

export interface IndexedRun {
  row: RunRow;
  /** The index version at which this row last changed. */
  version: number;
}

export interface IndexProblem {
  dir: string;
  message: string;
  stamp: FolderStamp;
  present: string[];
}

/** A folder listed to find runs: its times when listed, and the folders in it. */
export interface Container {
  mtimeMs: number;
  ctimeMs: number;
  children: string[];
}

const CONCURRENCY = 16;
/** The snapshot is written a little after a load that read runs, then at most this often while rows change. */
const SNAPSHOT_AFTER_LOAD_MS = 10_000;
const SNAPSHOT_EVERY_MS = 5 * 60_000;

export class RunIndex {
  readonly runs = new Map<string, IndexedRun>();
  /** Runs whose config.json does not load (named, as `ls` warns about them). */
  readonly problems = new Map<string, IndexProblem>();
  /** Names of runs removed, with the version at which they went. */
  readonly removed = new Map<string, number>();
  version = 0;
  /** Bumped when the set of metric names or config values of the runs may have changed (not for new values of the same metrics). */
  keysVersion = 0;
  /** How the last load went: runs read from their files, runs taken from the snapshot. */
  readonly loadStats = { read: 0, fromSnapshot: 0, listed: 0 };
  readonly #containers = new Map<string, Container>();
  readonly #listeners = new Set<(changed: string[]) => void>();
  #savedVersion = -1;
  #saveTimer: NodeJS.Timeout | null = null;
  /** The snapshot the rows were taken from, whose file holds their metric values until they are read. */
  #snapshot: Snapshot | null = null;

  constructor(
    readonly roots: Roots,
    /** Where the snapshot is kept (null: none). */
    readonly snapshotFile: string | null = null,
  ) {}

  /** Called with the names of runs added, changed or removed. */
  onChange(listener: (changed: string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The name a run folder is shown by: below its root, or below the working folder with several roots. */
  nameOf(dir: string, rootIndex: number): string {
    const root = this.roots.given[rootIndex] as string;
    const rootReal = this.roots.real[rootIndex] as string;
    // A folder found under a single root: its path below it (path.relative's answer, without its cost).
    if (this.roots.given.length === 1 && dir.startsWith(rootReal) && dir[rootReal.length] === sep && !dir.includes(`${sep}.`)) {
      const below = dir.slice(rootReal.length + 1);
      return sep === "/" ? below : below.split(sep).join("/");
    }
    const below = this.roots.given.length > 1 ? relative(process.cwd(), dir) : relative(rootReal, dir);
    return (below || (dir.split(sep).pop() ?? root)).split(sep).join("/");
  }

  /** Finds every run and reads its row (from the snapshot where its stamp still holds). */
  async load(): Promise<void> {
    // Yield first: the server is listening (and its page loading) while the runs are found.
    await new Promise((resolve) => setImmediate(resolve));
    const snapshot = this.snapshotFile === null ? null : readSnapshot(this.snapshotFile, this.roots.real);
    this.#snapshot = snapshot;
    // The runs and unreadable folders the snapshot knows, by folder.
    const known = new Map<string, RunRow | IndexProblem>();
    for (const problem of snapshot?.problems.values() ?? []) known.set(problem.dir, problem);
    for (const row of snapshot?.rows.values() ?? []) known.set(row.dir, row);
    const found = this.#walk(snapshot?.containers ?? null, known);
    const stale: Array<[string, string]> = [];
    const checks: StampCheck[] = [];
    const names: string[] = [];
    for (const [name, dir] of found) {
      const entry = known.get(dir);
      if (entry !== undefined && ((entry as RunRow).name === undefined ? snapshot?.problems.get(name) === entry : (entry as RunRow).name === name)) {
        checks.push(entry);
        names.push(name);
      } else stale.push([name, dir]);
    }
    const changed = await changedFolders(checks);
    let next = 0;
    checks.forEach((entry, index) => {
      const name = names[index] as string;
      if (changed[next] === index) {
        next += 1;
        stale.push([name, entry.dir]);
      } else if ((entry as RunRow).name !== undefined) {
        this.runs.set(name, { row: entry as RunRow, version: ++this.version });
        this.loadStats.fromSnapshot += 1;
      } else this.problems.set(name, entry as IndexProblem);
    });
    this.loadStats.read = stale.length;
    await this.#readRows(stale);
    this.#emit(found.map(([name]) => name));
    if (snapshot !== null && stale.length === 0 && this.loadStats.listed === 0) this.#savedVersion = this.version; // nothing new to keep
    else this.#saveSoon(SNAPSHOT_AFTER_LOAD_MS);
  }

  /**
   * Looks for what changed: new or removed runs (in folders whose listing changed, when
   * `listings`), and runs whose stamp changed among `only` (default: every run).
   */
  async refresh(only?: Iterable<string>, listings = true): Promise<string[]> {
    const changed: string[] = [];
    let listingChanged = false;
    for (const [dir, seen] of listings ? this.#containers : []) {
      const info = statSync(dir, { throwIfNoEntry: false });
      if (info === undefined || info.mtimeMs !== seen.mtimeMs || info.ctimeMs !== seen.ctimeMs) {
        listingChanged = true;
        break;
      }
    }
    if (listingChanged) {
      const knownRuns = new Set([...[...this.runs.values()].map((entry) => entry.row.dir), ...[...this.problems.values()].map((problem) => problem.dir)]);
      const found = this.#walk(new Map(this.#containers), knownRuns);
      const present = new Set(found.map(([name]) => name));
      for (const name of [...this.runs.keys(), ...this.problems.keys()]) {
        if (present.has(name)) continue;
        this.#delete(name);
        changed.push(name);
      }
      const added = found.filter(([name]) => !this.runs.has(name) && !this.problems.has(name));
      await this.#readRows(added);
      changed.push(...added.map(([name]) => name));
    }
    const candidates: Array<[string, StampCheck]> = [];
    for (const name of only === undefined ? this.runs.keys() : only) {
      const entry = this.runs.get(name);
      if (entry !== undefined) candidates.push([name, entry.row]);
    }
    // A run that could not be read may have been mended.
    for (const [name, problem] of this.problems) candidates.push([name, problem]);
    const stale = (await changedFolders(candidates.map(([, check]) => check))).map((index) => {
      const [name, check] = candidates[index] as [string, StampCheck];
      return [name, check.dir] as [string, string];
    });
    await this.#readRows(stale);
    changed.push(...stale.map(([name]) => name));
    if (changed.length > 0) {
      this.#emit(changed);
      this.#saveSoon(SNAPSHOT_EVERY_MS);
    }
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

  /** Writes the snapshot now (when it changed since the last write). */
  save(): void {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.snapshotFile === null || this.#savedVersion === this.version) return;
    const snapshot = {
      roots: this.roots.real,
      containers: this.#containers,
      rows: new Map([...this.runs].map(([name, entry]) => [name, entry.row])),
      problems: this.problems,
    };
    writeSnapshot(this.snapshotFile, snapshot);
    this.#savedVersion = this.version;
  }

  /** Writes the snapshot (when it changed) and lets go of the one the rows came from. */
  close(): void {
    this.save();
    this.#snapshot?.release();
    this.#snapshot = null;
  }

  #saveSoon(delayMs: number): void {
    if (this.snapshotFile === null || this.#saveTimer !== null) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      this.save();
    }, delayMs);
    this.#saveTimer.unref();
  }

  #delete(name: string): void {
    this.keysVersion += 1;
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
          const before = this.runs.get(name)?.row;
          if (before === undefined || !sameKeys(before, row)) this.keysVersion += 1;
          this.problems.delete(name);
          this.removed.delete(name);
          this.runs.set(name, { row, version: ++this.version });
        } catch (error) {
          const wasRun = this.runs.has(name);
          if (wasRun) this.#delete(name);
          if (isConfigTrackerError(error) && error.code === "NOT_FOUND") continue; // gone meanwhile
          if (isSomethingElse(dir, this.roots)) continue;
          const look = lookAtRunFolder(dir, this.roots, [NOTES_FILE]);
          this.problems.set(name, { dir, message: (error as Error).message, stamp: folderStamp(look.stamp, look.present), present: look.present });
          if (!wasRun) this.version += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
  }

  /**
   * Every run folder under the roots, as [name, folder]. A folder listed before (`known`) whose
   * times did not move is not listed again: its sub-folders are those it had.
   */
  #walk(known: Map<string, Container> | null, knownRuns: { has(dir: string): boolean } = new Set()): Array<[string, string]> {
    const found: Array<[string, string]> = [];
    const seen = new Set<string>();
    this.#containers.clear();
    const visit = (dir: string, rootIndex: number) => {
      // A run folder read before is taken as one; its stamp (checked by the caller) says if it changed.
      if (knownRuns.has(dir)) {
        if (!seen.has(dir)) {
          seen.add(dir);
          found.push([this.nameOf(dir, rootIndex), dir]);
        }
        return;
      }
      let info;
      try {
        info = statSync(dir);
      } catch {
        return; // gone: not ours to report
      }
      const before = known?.get(dir);
      if (before !== undefined && before.mtimeMs === info.mtimeMs && before.ctimeMs === info.ctimeMs) {
        this.#containers.set(dir, before);
        for (const child of before.children) visit(childPath(dir, child), rootIndex);
        return;
      }
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // unreadable: not ours to report
      }
      this.loadStats.listed += 1;
      if (entries.some((entry) => entry.name === CONFIG_FILE && entry.isFile())) {
        if (!seen.has(dir)) {
          seen.add(dir);
          found.push([this.nameOf(dir, rootIndex), dir]);
        }
        return;
      }
      const children = entries
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
        .map((entry) => entry.name)
        .sort();
      // A run folder listed among the children is recognised when it is visited (known runs too).
      this.#containers.set(dir, { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, children });
      for (const name of children) visit(childPath(dir, name), rootIndex);
    };
    this.roots.real.forEach((root, index) => visit(root, index));
    return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** A folder's entry (path.join's answer for a name from its listing, without its cost). */
const childPath = (dir: string, name: string) => (dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`);

/** Whether two reads of a run have the same metric names and config values (the table's key lists stand). */
function sameKeys(a: RunRow, b: RunRow): boolean {
  if (a.metrics.ids.length !== b.metrics.ids.length || a.config.size !== b.config.size) return false;
  for (let i = 0; i < a.metrics.ids.length; i++) if (a.metrics.ids[i] !== b.metrics.ids[i]) return false;
  for (const [key, value] of a.config) if (!b.config.has(key) || !Object.is(b.config.get(key), value)) return false;
  return true;
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
