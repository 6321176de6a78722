/**
 * --checkpoints GLOB: checkpoint files (or folders: Hugging Face checkpoint-500/, DCP) the
 * trainer writes, each recorded once it is complete: the same size and mtime for at least a
 * second (and two polls), and readable (the caller says: a torch.save cut short is "not yet").
 * A file written again later (nanoGPT overwrites ckpt.pt) is recorded again; one recorded before
 * (by an earlier session of a resumed run: same path, size and mtime) is not. One file met under
 * two names is recorded under the first (in sorted order).
 */
import { glob } from "tinyglobby";

import { checkpointStamp, isRecordOf, type CheckpointRecord } from "../experiment/checkpoints.js";

interface Seen {
  stamp: string; // size:mtime the last poll saw
  since: number; // when it was first seen with that stamp
  recorded: string | null; // the stamp that was recorded
}

/** How long a checkpoint must stay the same before it is taken as complete. */
const SETTLE_MS = 1000;

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
    /** What checkpoints.jsonl held when the run (re)started, and the folder it names paths from. */
    private readonly before: { experimentDir: string; records: CheckpointRecord[] } = { experimentDir: cwd, records: [] },
  ) {}

  /** Looks once; offers what has settled (everything, when `final`: the writer has exited). */
  async poll(final = false): Promise<void> {
    // Symbolic links met on the way are not followed (a link back into the folder would make the
    // walk endless, a link out of it would walk the disk); a folder the pattern names is.
    const paths = await glob(this.pattern, { cwd: this.cwd, absolute: true, onlyFiles: false, dot: true, followSymbolicLinks: false });
    const now = Date.now();
    const met = new Set<string>();
    for (const path of paths.sort()) {
      const found = await checkpointStamp(path).catch(() => null);
      if (found === null || met.has(found.id)) continue;
      met.add(found.id);
      const stamp = `${found.size}:${found.mtimeMs}`;
      const seen = this.#seen.get(path);
      const unchanged = seen !== undefined && seen.stamp === stamp;
      const entry: Seen = unchanged ? seen : { stamp, since: now, recorded: seen?.recorded ?? null };
      if (seen === undefined && this.before.records.some((record) => isRecordOf(this.before.experimentDir, record, path, found))) {
        entry.recorded = stamp; // recorded by an earlier session, and not written since
      }
      this.#seen.set(path, entry);
      if (entry.recorded === stamp) continue;
      if (final || (unchanged && now - entry.since >= SETTLE_MS)) {
        if (await this.onComplete(path, final)) entry.recorded = stamp;
      }
    }
  }
}
