/**
 * The options a function takes, checked by name: every public function reads its options object
 * through checkOptions, so a misspelt or invented key (`{ overwrite: true }` for `{ mode:
 * "overwrite" }`) is an INVALID_ARGUMENT naming it, the closest real one and all of them, never a
 * silent no-op. The CLI finds "did you mean" for commands and options with the same `closest`.
 */
import { ConfigTrackerError } from "./errors.js";

/** The closest of `candidates` to `typed` (an edit or two away, or a prefix of it), or null. */
export function closest(typed: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(typed) && typed.length >= 2 ? 1 : editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.min(2, Math.max(1, Math.floor(typed.length / 2))) ? best : null;
}

/** Damerau-Levenshtein (optimal string alignment): a swap of two letters is one edit. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Math.abs(a.length - b.length);
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The names of every option of `T`, as a list the compiler holds to the type: a name left out, or
 * one `T` does not have, does not compile. `optionNames<GitOptions>({ cwd: true, ... })`.
 */
export function optionNames<T>(names: { [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(names);
}

/**
 * `options` as given to `where` (e.g. "saveConfig"): undefined is no options; anything but a
 * plain object, or a key not in `known`, is INVALID_ARGUMENT naming it (`key`), the closest
 * option and every one there is.
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  const all = known.length === 0 ? "it takes none" : `the options are ${known.join(", ")}`;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: options must be an object (${all})`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    throw new ConfigTrackerError("INVALID_ARGUMENT", `${where}: unknown option ${JSON.stringify(key)}${guess ? ` (did you mean ${guess}?)` : ""}; ${all}`, { key });
  }
}
