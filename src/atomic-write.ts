import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import { ConfigTrackerError } from "./errors.js";

/**
 * Replaces `path` with `contents` so that a reader sees the old file or the new one, never a
 * mix: write a temporary file in the same folder, fsync it, rename it over the target, fsync
 * the folder. A crash at any point leaves the previous file whole.
 */
export async function writeFileAtomic(path: string, contents: string): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", 0o644);
    try {
      await handle.writeFile(contents, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw new ConfigTrackerError("WRITE_FAILED", `${path}: could not write: ${(error as Error).message}`, {
      path,
      cause: error,
    });
  }
  await syncFolder(folder);
}

async function syncFolder(folder: string): Promise<void> {
  // Makes the rename itself durable. Not every platform can fsync a folder; that is not an error.
  try {
    const handle = await open(folder, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
