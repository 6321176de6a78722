/**
 * --checkpoints GLOB: checkpoint files (or folders: Hugging Face checkpoint-500/, DCP) the
 * trainer writes, each recorded once it is complete: the same size and mtime for at least a
 * second (and two polls), and readable (the caller says: a torch.save cut short is "not yet").
 * A file written again later (nanoGPT overwrites ckpt.pt) is recorded again.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { glob } from "tinyglobby";

interface Seen {
  stamp: string; // size:mtime the last poll saw
  since: number; // when it was first seen with that stamp
  recorded: string | null; // the stamp that was recorded
}

/** How long a checkpoint must stay the same before it is taken as complete. */
const SETTLE_MS = 1000;

async function stampOf(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return `${info.size}:${info.mtimeMs}`;
    let size = 0;
    let newest = info.mtimeMs;
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const child = join(folder, entry.name);
        const childInfo = await stat(child).catch(() => null);
        if (childInfo === null) continue;
        newest = Math.max(newest, childInfo.mtimeMs);
        if (childInfo.isDirectory()) await walk(child);
        else size += childInfo.size;
      }
    };
    await walk(path);
    return `${size}:${newest}`;
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
    const paths = await glob(this.pattern, { cwd: this.cwd, absolute: true, onlyFiles: false, dot: true });
    const now = Date.now();
    for (const path of paths.sort()) {
      const stamp = await stampOf(path);
      if (stamp === null) continue;
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
