import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import { ConfigTrackerError } from "../errors.js";
import { folderLackingPermission, writeFailure } from "./write-error.js";

export interface AtomicWriteOptions {
  /**
   * Create the file only if it does not exist yet (link(2) instead of rename(2)): two processes
   * racing to create it cannot both win. The loser gets a ConfigTrackerError with cause EEXIST.
   */
  exclusive?: boolean;
  /** fsync the file and the folder (default true). Heartbeats skip it: losing one is harmless. */
  durable?: boolean;
}

const temporaryName = (path: string) =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);

/** The permission bits to give the replacement: the old file's, so a chmod 600 survives. */
async function existingMode(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return null;
  }
}

function existingModeSync(path: string): number | null {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return null;
  }
}

/**
 * Replaces `path` with `contents` so that a reader sees the old file or the new one, never a
 * mix: write a temporary file in the same folder, fsync it, rename it over the target, fsync
 * the folder. A crash at any point leaves the previous file whole. The file keeps its mode.
 */
export async function writeFileAtomic(path: string, contents: string | string[], options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = temporaryName(path);
  const durable = options.durable !== false;
  try {
    const mode = await existingMode(path);
    const handle = await open(temporary, "wx", 0o644);
    try {
      // fchmod, not the mode argument of open: that one is filtered through the umask.
      if (mode !== null) await handle.chmod(mode);
      // Pieces of a large file are encoded and written one at a time (no 14 MB string copy).
      for (const piece of typeof contents === "string" ? [contents] : contents) {
        const bytes = Buffer.from(piece, "utf8");
        for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset)).bytesWritten;
      }
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      await link(temporary, path);
      await unlink(temporary);
    } else {
      await rename(temporary, path);
    }
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw writeError(path, error);
  }
  if (durable) await syncFolder(dirname(path));
}

/** writeFileAtomic for exit and signal handlers, where nothing asynchronous runs any more. */
export function writeFileAtomicSync(path: string, contents: string, options: AtomicWriteOptions = {}): void {
  const temporary = temporaryName(path);
  const durable = options.durable !== false;
  try {
    const mode = existingModeSync(path);
    const fd = openSync(temporary, "wx", 0o644);
    try {
      if (mode !== null) fchmodSync(fd, mode);
      const bytes = Buffer.from(contents, "utf8");
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) {
      linkSync(temporary, path);
      unlinkSync(temporary);
    } else {
      renameSync(temporary, path);
    }
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // it may never have been created
    }
    throw writeError(path, error);
  }
  if (durable) {
    try {
      const fd = openSync(dirname(path), "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // best effort, as below
    }
  }
}

function writeError(path: string, error: unknown): ConfigTrackerError {
  return writeFailure(path, error, "could not write");
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

/**
 * Creates `folder` (and its parents). A file standing where a folder should be, or a folder we
 * may not write into, is a ConfigTrackerError naming the path, not a raw EEXIST / EACCES.
 */
export async function ensureFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw folderError(folder, error);
  }
}

export function ensureFolderSync(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw folderError(folder, error);
  }
}

function folderError(folder: string, error: unknown): ConfigTrackerError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = (error as NodeJS.ErrnoException).path ?? folder;
  if (code === "EEXIST" || code === "ENOTDIR") {
    // mkdir reports the folder asked for; say which part of the path is a file.
    const blocker = firstNonFolder(folder) ?? where;
    return new ConfigTrackerError(
      "NOT_A_FOLDER",
      `${folder}: cannot create the experiment folder: ${blocker} is a file, not a folder`,
      { path: blocker, cause: error },
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    // The parent that lacks the permission, not the folder asked for (mkdir names that one).
    const lacking = code === "EROFS" ? null : folderLackingPermission(folder);
    return new ConfigTrackerError(
      "PERMISSION_DENIED",
      `${folder}: cannot create the experiment folder: ${code === "EROFS" ? "read-only file system" : `no permission to write in ${lacking ?? where}`}`,
      { path: lacking ?? folder, cause: error },
    );
  }
  return new ConfigTrackerError("WRITE_FAILED", `${folder}: cannot create the experiment folder: ${(error as Error).message}`, {
    path: folder,
    cause: error,
  });
}

/**
 * Creates `name` in `parent` (ranks/, nodes/, .previous/) as a folder of its own: a symbolic
 * link or a file planted under the name is removed first, so that what is written there stays in
 * the run folder.
 */
export function ensureSubfolderSync(parent: string, name: string): string {
  const folder = join(parent, name);
  const info = lstatSync(folder, { throwIfNoEntry: false });
  if (info !== undefined && !info.isDirectory()) {
    try {
      unlinkSync(folder);
    } catch (error) {
      throw writeFailure(folder, error, "could not replace what stands there");
    }
  }
  ensureFolderSync(folder);
  return folder;
}

function firstNonFolder(folder: string): string | null {
  const parts: string[] = [];
  for (let current = folder; ; current = dirname(current)) {
    parts.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const part of parts) {
    try {
      if (!statSync(part).isDirectory()) return part;
    } catch {
      return null;
    }
  }
  return null;
}
