/**
 * A lock file beside the file it guards, so that two processes doing read-modify-write of one
 * file one after the other do not lose each other's change.
 */
import { closeSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";

import { ConfigTrackerError } from "../errors.js";
import { writeFailure } from "./write-error.js";

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/** Creates the lock file with this process's pid in it; false when another process holds it. */
function take(lock: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw writeFailure(lock, error, "could not take the lock");
  }
  try {
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  } catch (error) {
    // A full disk: the lock file exists but says nothing. Removed, or every later save would
    // wait for it to go stale.
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    release(lock);
    throw writeFailure(lock, error, "could not take the lock");
  }
  return true;
}

function release(lock: string): void {
  try {
    unlinkSync(lock);
  } catch {
    // removed as stale by someone else
  }
}

/**
 * Runs `work` holding `<path>.lock` (created with O_EXCL), so that two processes changing the
 * same file one after the other do not lose each other's change. A lock left by a dead process
 * is taken over after LOCK_STALE_MS. No permission to create it is PERMISSION_DENIED naming the
 * folder; a full or read-only disk is WRITE_FAILED / PERMISSION_DENIED (no lock is left behind).
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let wait = 2; !take(lock); wait = Math.min(wait * 2, 100)) {
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
  try {
    return await work();
  } finally {
    release(lock);
  }
}
