/**
 * The dashboard's rules for reading run folders that live on shared storage: every read goes
 * through the library's guarded reader (io/read-file.ts: O_NONBLOCK, fstat, a cap) bounded by the
 * roots served: a path is resolved (symbolic links included) and refused when it leaves them, and
 * the file opened is checked again. `checkRunFolder` applies the same rules to every file the
 * library's run loader reads, before the dashboard lets it read a folder.
 */
import { lstatSync, readdirSync, realpathSync, type Stats } from "node:fs";
import { join, sep } from "node:path";

import { closeFile, openRegularFile, readBytes, readInto, readRegularFile, type OpenedFile, type ReadBoundary } from "./views.js";

export { closeFile, readBytes, readInto, type OpenedFile };

/** The folders the dashboard serves, by their real paths. */
export class Roots implements ReadBoundary {
  readonly real: string[];
  readonly label = "the folders served";

  constructor(readonly given: string[]) {
    this.real = given.map((root) => realpathSync(root));
  }

  /** Whether a real (resolved) path is one of the roots or inside one. */
  contains(realPath: string): boolean {
    return this.real.some((root) => realPath === root || realPath.startsWith(root.endsWith(sep) ? root : root + sep));
  }
}

/** Opens a regular file inside the roots for reading (see above). Close it with `closeFile`. */
export function openInside(path: string, roots: Roots): OpenedFile {
  return openRegularFile(path, roots);
}

/** A whole small file inside the roots as text; LIMIT_EXCEEDED past `maxBytes`. */
export function readSmallFile(path: string, roots: Roots, maxBytes: number): { text: string; stats: Stats } {
  return readRegularFile(path, maxBytes, roots);
}

/** The JSON files the run loader reads whole, and the most it may find in each. */
const SMALL_FILES = new Map<string, number>([
  ["config.json", 64 * 1024 * 1024],
  ["results.json", 64 * 1024 * 1024],
  ["status.json", 1024 * 1024],
  ["checkpoints.jsonl", 64 * 1024 * 1024],
]);
/** Streamed logs: read in bounded chunks, any size. */
const STREAMED = /^(metrics\.jsonl|system(\.node\d+)?\.jsonl)$/;
const SUBFOLDERS = new Map<string, number>([
  ["ranks", 1024 * 1024],
  ["nodes", 1024 * 1024],
]);
const MAX_SUBFOLDER_FILES = 4096;

export interface FolderLook {
  /** Why the library's loader must not read the folder (a file it reads is not a regular file inside the roots, or too large), or null. */
  problem: string | null;
  /** The files and subfolders it reads that are there. */
  present: string[];
  /** The folder's and those entries' sizes and times: equal stamps, nothing the loader reads changed. */
  stamp: string;
}

/** The part of a stamp for one entry. */
function stampOf(label: string, info: Stats): string {
  return `${label}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`;
}

/** The entries of a run folder the loader reads (SMALL_FILES, the logs, ranks/ and nodes/, and `extra`). */
function readsEntry(name: string, extra: string[]): boolean {
  return SMALL_FILES.has(name) || STREAMED.test(name) || SUBFOLDERS.has(name) || extra.includes(name);
}

/**
 * One look at a run folder: one listing, one lstat per entry the loader reads. `extra`: more file
 * names to stamp (notes.json).
 */
export function lookAtRunFolder(dir: string, roots: Roots, extra: string[] = []): FolderLook {
  let names: string[];
  let folder: Stats;
  try {
    folder = lstatSync(dir);
    names = readdirSync(dir);
  } catch (error) {
    return { problem: `${dir}: ${(error as Error).message}`, present: [], stamp: "" };
  }
  const parts = [stampOf(".", folder)];
  const present: string[] = [];
  let problem: string | null = null;
  for (const name of names.sort()) {
    if (!readsEntry(name, extra)) continue;
    const path = join(dir, name);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info === undefined) continue; // gone meanwhile
    present.push(name);
    parts.push(stampOf(name, info));
    const subfolder = SUBFOLDERS.get(name);
    let found: string | null;
    if (subfolder === undefined) found = checkFile(path, info, roots, SMALL_FILES.get(name) ?? Infinity);
    else if (info.isSymbolicLink()) found = `${path}: a symbolic link (not read)`;
    else found = info.isDirectory() ? checkSubfolder(path, roots, subfolder, parts) : null;
    problem ??= found;
  }
  return { problem, present, stamp: parts.join("|") };
}

/** The stamp of a folder looked at before, from its listing's times and the entries that were there. */
export function restamp(dir: string, present: string[]): string {
  const folder = lstatSync(dir, { throwIfNoEntry: false });
  if (folder === undefined) return "";
  const parts = [stampOf(".", folder)];
  for (const name of present) {
    const path = join(dir, name);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info === undefined) continue;
    parts.push(stampOf(name, info));
    if (SUBFOLDERS.has(name) && info.isDirectory()) {
      let inner: string[] = [];
      try {
        inner = readdirSync(path).sort();
      } catch {
        // unreadable now: the stamp differs, the folder is looked at again
      }
      if (inner.length > MAX_SUBFOLDER_FILES) parts.push(`${name}/:${inner.length}`);
      else {
        for (const entry of inner) {
          const file = lstatSync(join(path, entry), { throwIfNoEntry: false });
          if (file) parts.push(stampOf(`${name}/${entry}`, file));
        }
      }
    }
  }
  return parts.join("|");
}

function checkSubfolder(folder: string, roots: Roots, limit: number, parts: string[]): string | null {
  let inner: string[];
  try {
    inner = readdirSync(folder).sort();
  } catch (error) {
    return `${folder}: ${(error as Error).message}`;
  }
  if (inner.length > MAX_SUBFOLDER_FILES) {
    parts.push(`${folder.slice(folder.lastIndexOf(sep) + 1)}/:${inner.length}`);
    return `${folder}: ${inner.length} entries, more than ${MAX_SUBFOLDER_FILES}`;
  }
  let problem: string | null = null;
  for (const entry of inner) {
    const path = join(folder, entry);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info === undefined) continue;
    parts.push(stampOf(`${folder.slice(folder.lastIndexOf(sep) + 1)}/${entry}`, info));
    problem ??= checkFile(path, info, roots, limit);
  }
  return problem;
}

/** Whether the library's loader may read this run folder: null, or why not. */
export function checkRunFolder(dir: string, roots: Roots): string | null {
  return lookAtRunFolder(dir, roots).problem;
}

function checkFile(path: string, lstat: Stats, roots: Roots, limit: number): string | null {
  let info = lstat;
  if (info.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return null; // a dangling link: nothing is read through it
    }
    if (!roots.contains(real)) return `${path}: leads outside ${roots.label} (${real})`;
    const target = lstatSync(real, { throwIfNoEntry: false });
    if (target === undefined) return null;
    info = target;
  }
  if (info.isDirectory()) return null; // not a file the loader reads
  if (!info.isFile()) return `${path}: not a regular file (not read)`;
  if (info.size > limit) return `${path}: ${info.size} bytes, more than the ${limit} read here`;
  return null;
}
