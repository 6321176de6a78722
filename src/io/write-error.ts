/**
 * What a failed write says: one rule for every writer (atomic writes, appends, the lock file,
 * folders). No permission is PERMISSION_DENIED naming the folder that lacks it (the run folder,
 * or the parent that could not be written or entered); a read-only file system is
 * PERMISSION_DENIED too; anything else (a full disk, an I/O error) is WRITE_FAILED with the path
 * and the system's reason. The system error stays the `cause`.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

import { ConfigTrackerError } from "../errors.js";

const PERMISSION = new Set(["EACCES", "EPERM"]);

/**
 * The folder that keeps `path` from being written: the first folder on the way that cannot be
 * entered, or the deepest existing one that cannot be written into; null when every one can (the
 * file itself is not writable, or an ACL or a mount says no where access(2) does not see it).
 */
export function folderLackingPermission(path: string): string | null {
  const absolute = resolve(path);
  const chain: string[] = [];
  for (let current = absolute; ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current) break;
  }
  let deepest: string | null = null;
  for (const folder of chain) {
    let isFolder: boolean;
    try {
      isFolder = statSync(folder).isDirectory();
    } catch {
      break; // not there (yet): the one before it is where it would be created
    }
    if (!isFolder) break;
    try {
      accessSync(folder, constants.X_OK);
    } catch {
      return folder;
    }
    deepest = folder;
  }
  if (deepest !== null) {
    try {
      accessSync(deepest, constants.W_OK);
    } catch {
      return deepest;
    }
  }
  return null;
}

/** The error for a failed write of `path`; `what` says what was being done ("could not append"). */
export function writeFailure(path: string, error: unknown, what: string): ConfigTrackerError {
  if (error instanceof ConfigTrackerError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (PERMISSION.has(code)) {
    const folder = folderLackingPermission(dirname(path));
    const where = folder === null ? "no permission to write it" : `no permission to write in ${folder}`;
    return new ConfigTrackerError("PERMISSION_DENIED", `${path}: ${what}: ${where}`, { path: folder ?? path, cause: error });
  }
  if (code === "EROFS") {
    return new ConfigTrackerError("PERMISSION_DENIED", `${path}: ${what}: read-only file system`, { path, cause: error });
  }
  const reason = code === "ENOSPC" ? "no space left on the device" : code === "EDQUOT" ? "disk quota exceeded" : (error as Error).message;
  return new ConfigTrackerError("WRITE_FAILED", `${path}: ${what}: ${reason}`, { path, cause: error });
}
