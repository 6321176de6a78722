/**
 * A lock file beside the file it guards, so that two processes doing read-modify-write of one
 * file one after the other do not lose each other's change.
 */
import { closeSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";

import { ConfigTrackerError } from "../errors.js";

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Runs `work` holding `<path>.lock` (created with O_EXCL), so that two processes changing the
 * same file one after the other do not lose each other's change. A lock left by a dead process
 * is taken over after LOCK_STALE_MS.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    try {
      const fd = openSync(lock, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
      } catch {
        // gone meanwhile: try again
      }
      if (Date.now() > deadline) {
        throw new ConfigTrackerError("WRITE_FAILED", `${path}: another process holds ${lock}`, { path: lock });
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // removed as stale by someone else
    }
  }
}
