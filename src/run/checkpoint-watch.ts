/**
 * --checkpoints GLOB: checkpoint files (or folders: Hugging Face checkpoint-500/, DCP) the
 * trainer writes, each recorded once it is complete: the same size and mtime for at least a
 * second (and two polls), and readable (the caller says: a torch.save cut short is "not yet").
 * A file written again later (nanoGPT overwrites ckpt.pt) is recorded again. One file met under
 * two names is recorded under the first (in sorted order).
 */
import type { Stats } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { glob } from "tinyglobby";

interface Seen {
  stamp: string; // size:mtime the last poll saw
  since: number; // when it was first seen with that stamp
  recorded: string | null; // the stamp that was recorded
}

/** How long a checkpoint must stay the same before it is taken as complete. */
const SETTLE_MS = 1000;

/** Entries a checkpoint folder's walk looks at, at most (a folder of more is stamped by those). */
const MAX_WALKED = 100_000;

/** A file's identity: one file met under two names (a hard link, a bind mount) is one file. */
const identity = (info: Stats) => `${info.dev}:${info.ino}`;

/**
 * `size:mtime` of a checkpoint, and its identity; a folder's is the sum of its files' sizes and
 * the newest mtime inside. The walk does not follow symbolic links (a link back into the folder,
 * or out of it, is not walked) and enters each folder once (by device and inode).
 */
async function stampOf(path: string): Promise<{ stamp: string; id: string } | null> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return { stamp: `${info.size}:${info.mtimeMs}`, id: identity(info) };
    let size = 0;
    let newest = info.mtimeMs;
    let walked = 0;
    const entered = new Set<string>([identity(info)]);
    const pending = [path];
    for (let folder = pending.pop(); folder !== undefined && walked < MAX_WALKED; folder = pending.pop()) {
      const entries = await readdir(folder).catch(() => [] as string[]);
      for (const name of entries) {
        if (++walked > MAX_WALKED) break;
        const child = join(folder, name);
        const childInfo = await lstat(child).catch(() => null);
        if (childInfo === null || childInfo.isSymbolicLink()) continue;
        newest = Math.max(newest, childInfo.mtimeMs);
        if (childInfo.isDirectory()) {
          if (!entered.has(identity(childInfo))) (entered.add(identity(childInfo)), pending.push(child));
        } else size += childInfo.size;
      }
    }
    return { stamp: `${size}:${newest}`, id: identity(info) };
  } catch {
    return null;
  }
}

/** The step a checkpoint's name says (step=1200, checkpoint-500, ckpt_4000.pt), or null. */
export function stepFromName(path: string): number | null {
  const name = path.split(/[\\/]/).filter(Boolean).pop() ?? "";
  const tagged = /(?:step|iter|iteration|checkpoint|ckpt|global_step)[-_=]?(\d+)/i.exec(name);
  const digits = tagged?.[1] ?? [...name.matchAll(/(\d+)/g)].pop()?.[1];
  if (digits === undefined) return null;
  const step = Number(digits);
  return Number.isSafeInteger(step) ? step : null;
}

export class CheckpointWatcher {
  readonly #seen = new Map<string, Seen>();

  /**
   * `onComplete(path, final)` records the checkpoint and says whether it did: false means "not
   * readable yet" (a file still being written), and it is offered again at the next poll.
   */
  constructor(
    readonly pattern: string,
    readonly cwd: string,
    private readonly onComplete: (path: string, final: boolean) => Promise<boolean>,
  ) {}

  /** Looks once; offers what has settled (everything, when `final`: the writer has exited). */
  async poll(final = false): Promise<void> {
    // Symbolic links met on the way are not followed (a link back into the folder would make the
    // walk endless, a link out of it would walk the disk); a folder the pattern names is.
    const paths = await glob(this.pattern, { cwd: this.cwd, absolute: true, onlyFiles: false, dot: true, followSymbolicLinks: false });
    const now = Date.now();
    const met = new Set<string>();
    for (const path of paths.sort()) {
      const found = await stampOf(path);
      if (found === null || met.has(found.id)) continue;
      met.add(found.id);
      const stamp = found.stamp;
      const seen = this.#seen.get(path);
      const unchanged = seen !== undefined && seen.stamp === stamp;
      const entry: Seen = unchanged ? seen : { stamp, since: now, recorded: seen?.recorded ?? null };
      this.#seen.set(path, entry);
      if (entry.recorded === stamp) continue;
      if (final || (unchanged && now - entry.since >= SETTLE_MS)) {
        if (await this.onComplete(path, final)) entry.recorded = stamp;
      }
    }
  }
}
