/**
 * What a run folder looked like when its row was read, as numbers: for the folder and for each
 * file the row was read from, its size, modification and change times and inode (safe-files.ts's
 * stamp of the folder, parsed). Whether thousands of folders still look so is one call into the
 * addon, on the thread pool, in two halves (one per core): 10,000 runs are 50,000 lstat()s, which
 * one by one from JavaScript block the server for a third of a second, and formatting them into
 * text as safe-files.ts does takes as long again.
 *
 * A folder with subfolders that its row reads (ranks/, nodes/) keeps safe-files.ts's text stamp
 * and is looked at by its restamp: those are a few runs, and their stamps name the subfolder's
 * files.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";

import { restamp } from "./safe-files.js";
import { addonWith, type NativeAddon } from "./views.js";

/** Numbers per stamped entry: size, mtimeMs, ctimeMs, ino (as Node's Stats has them). */
export const STAMP_FIGURES = 4;

/** A folder's stamp: numbers for the folder then each entry in `present` (STAMP_FIGURES each), or safe-files.ts's text. */
export type FolderStamp = Float64Array | string;

const SUBFOLDERS = new Set(["ranks", "nodes"]);

/**
 * The stamp of a folder from safe-files.ts's text stamp of it (`.:size:mtimeMs:ctimeMs:ino|name:...`
 * for the folder and each name in `present`), as numbers when it has exactly that form: the text
 * of a number is the shortest that reads back to it, so the numbers are the ones stat'ed.
 */
export function folderStamp(text: string, present: string[]): FolderStamp {
  if (present.some((name) => SUBFOLDERS.has(name))) return text;
  const parts = text.split("|");
  if (parts.length !== present.length + 1) return text;
  const out = new Float64Array(parts.length * STAMP_FIGURES);
  for (let i = 0; i < parts.length; i++) {
    const fields = (parts[i] as string).split(":");
    if (fields.length !== 1 + STAMP_FIGURES || fields[0] !== (i === 0 ? "." : present[i - 1])) return text;
    for (let k = 0; k < STAMP_FIGURES; k++) {
      const value = Number(fields[k + 1]);
      if (!Number.isFinite(value)) return text;
      out[i * STAMP_FIGURES + k] = value;
    }
  }
  return out;
}

export interface StampCheck {
  dir: string;
  present: string[];
  stamp: FolderStamp;
}

/** Numbers of one lstat (Stats' size, mtimeMs, ctimeMs, ino), NaN when it fails. */
function statFigures(path: string, out: Float64Array, at: number): void {
  const info = lstatSync(path, { throwIfNoEntry: false });
  out[at] = info?.size ?? NaN;
  out[at + 1] = info?.mtimeMs ?? NaN;
  out[at + 2] = info?.ctimeMs ?? NaN;
  out[at + 3] = info?.ino ?? NaN;
}

type Addon = NativeAddon;
let addon: Addon | null | undefined;
function nativeStats(): Addon | null {
  if (addon === undefined) addon = addonWith("lstatFolderEntries");
  return addon;
}

/** Turns the addon's path off (or on again): the tests compare both ways on the same folders. */
export function useNativeStats(enabled: boolean): void {
  addon = enabled ? undefined : null;
}

/** The figures of each folder and its present entries, now: STAMP_FIGURES numbers each, in order. */
async function statFolders(list: StampCheck[]): Promise<Float64Array> {
  const total = list.reduce((sum, item) => sum + 1 + item.present.length, 0);
  const out = new Float64Array(total * STAMP_FIGURES);
  const native = nativeStats();
  if (native !== null) {
    // Entry names once each; the rows of a snapshot share a few lists of them.
    const names: string[] = [];
    const nameIds = new Map<string, number>();
    const listIds = new Map<string[], number[]>();
    const idsOf = (present: string[]) => {
      let ids = listIds.get(present);
      if (ids === undefined) {
        ids = present.map((name) => {
          let id = nameIds.get(name);
          if (id === undefined) nameIds.set(name, (id = names.push(name) - 1));
          return id;
        });
        listIds.set(present, ids);
      }
      return ids;
    };
    // Two halves, one per core; each answer is in node's Stats units (times in s and ns).
    const half = Math.ceil(list.length / 2);
    const parts = [list.slice(0, half), list.slice(half)].filter((part) => part.length > 0);
    const answers = await Promise.all(
      parts.map((part) => {
        const first = new Uint32Array(part.length + 1);
        let count = 0;
        for (let i = 0; i < part.length; i++) first[i + 1] = count += (part[i] as StampCheck).present.length;
        const entries = new Uint32Array(count);
        let at = 0;
        const folders = new Array<string>(part.length);
        for (let i = 0; i < part.length; i++) {
          const item = part[i] as StampCheck;
          folders[i] = item.dir;
          for (const id of idsOf(item.present)) entries[at++] = id;
        }
        return native.lstatFolderEntries(folders, names, first, entries);
      }),
    );
    let at = 0;
    for (const answer of answers) {
      for (let i = 0; i < answer.length; i += 6) {
        // As Node computes Stats' mtimeMs and ctimeMs from seconds and nanoseconds.
        out[at] = answer[i] as number;
        out[at + 1] = (answer[i + 1] as number) * 1e3 + (answer[i + 2] as number) / 1e6;
        out[at + 2] = (answer[i + 3] as number) * 1e3 + (answer[i + 4] as number) / 1e6;
        out[at + 3] = answer[i + 5] as number;
        at += STAMP_FIGURES;
      }
    }
    return out;
  }
  let at = 0;
  for (const item of list) {
    statFigures(item.dir, out, at);
    at += STAMP_FIGURES;
    for (const name of item.present) {
      statFigures(join(item.dir, name), out, at);
      at += STAMP_FIGURES;
    }
  }
  return out;
}

/**
 * Which of these folders no longer look as their stamps say (something a row was read from
 * changed, appeared or went): their indices in `list`.
 */
export async function changedFolders(list: StampCheck[]): Promise<number[]> {
  const changed: number[] = [];
  const numeric: number[] = [];
  list.forEach((item, index) => {
    if (typeof item.stamp === "string") {
      if (restamp(item.dir, item.present) !== item.stamp) changed.push(index);
    } else numeric.push(index);
  });
  if (numeric.length > 0) {
    const checks = numeric.map((index) => list[index] as StampCheck);
    const now = await statFolders(checks);
    let at = 0;
    checks.forEach((item, k) => {
      const stamp = item.stamp as Float64Array;
      const length = (1 + item.present.length) * STAMP_FIGURES;
      let same = stamp.length === length;
      for (let i = 0; i < length && same; i++) same = now[at + i] === stamp[i];
      if (!same) changed.push(numeric[k] as number);
      at += length;
    });
  }
  return changed.sort((a, b) => a - b);
}
