/**
 * Reading the files of run folders, which often live on shared storage where anyone with write
 * access can plant a FIFO, a device, a socket or a symbolic link to one (results.json ->
 * /dev/zero). Every read of a run's file goes through here:
 *  - the file is opened with O_NONBLOCK, so a FIFO or a device cannot stall the reader, and
 *    checked on the open descriptor (fstat): anything but a regular file is refused;
 *  - whole files are read only up to a cap, and the cap is checked before anything is read;
 *  - with `within` (the dashboard's roots), the path is resolved first and refused when it leads
 *    outside, opened without following a link at its last step, and on Linux the file opened is
 *    checked again (/proc/self/fd: a link swapped in between is caught).
 * Every failure is a ConfigTrackerError naming the file: NOT_FOUND, INVALID_FILE (not a regular
 * file, or outside), LIMIT_EXCEEDED (larger than the cap), IO_ERROR.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from "node:fs";

import { ConfigTrackerError } from "../errors.js";

/** Folders a reader must not leave (the dashboard's roots). */
export interface ReadBoundary {
  /** Whether a real (resolved) path is inside. */
  contains(realPath: string): boolean;
  /** What the folders are, for messages ("the folders served"). */
  readonly label: string;
}

export interface OpenedFile {
  fd: number;
  stats: Stats;
  path: string;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** A ConfigTrackerError for a failed open / stat / read of `path`. */
export function readError(path: string, error: unknown): ConfigTrackerError {
  if (error instanceof ConfigTrackerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new ConfigTrackerError("NOT_FOUND", `${path}: no such file`, { path, cause: error });
  if (code === "ELOOP") return new ConfigTrackerError("INVALID_FILE", `${path}: a symbolic link (not followed here)`, { path, cause: error });
  if (code === "EACCES" || code === "EPERM") return new ConfigTrackerError("PERMISSION_DENIED", `${path}: no permission to read it`, { path, cause: error });
  return new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
}

/** What a file that is not a regular one is, in a word. */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/** The real path of `path`, refused when it leads outside `within`. */
function resolveWithin(path: string, within: ReadBoundary): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw readError(path, error);
  }
  if (!within.contains(real)) throw new ConfigTrackerError("INVALID_FILE", `${path}: leads outside ${within.label} (${real})`, { path });
  return real;
}

/**
 * Opens a regular file for reading without blocking on what is not one (see above). Close it with
 * `closeFile`.
 */
export function openRegularFile(path: string, within?: ReadBoundary): OpenedFile {
  const target = within === undefined ? path : resolveWithin(path, within);
  let fd: number;
  try {
    fd = openSync(target, within === undefined ? READ_FLAGS : READ_FLAGS | NO_FOLLOW);
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ConfigTrackerError("INVALID_FILE", `${path}: ${kindOf(stats)}, not a regular file (not read)`, { path });
    if (within !== undefined && process.platform === "linux") {
      let opened: string | null = null;
      try {
        opened = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // no /proc: the check before opening stands
      }
      if (opened !== null && !within.contains(opened)) throw new ConfigTrackerError("INVALID_FILE", `${path}: leads outside ${within.label}`, { path });
    }
    return { fd, stats, path };
  } catch (error) {
    closeSync(fd);
    throw readError(path, error);
  }
}

export function closeFile(file: OpenedFile): void {
  closeSync(file.fd);
}

/** Reads up to `length` bytes at `position` into `buffer` at `offset`; the count read (0 at the end). */
export function readInto(file: OpenedFile, buffer: Buffer, offset: number, length: number, position: number): number {
  let filled = 0;
  while (filled < length) {
    let read: number;
    try {
      read = readSync(file.fd, buffer, offset + filled, length - filled, position + filled);
    } catch (error) {
      throw readError(file.path, error);
    }
    if (read === 0) break;
    filled += read;
  }
  return filled;
}

/** Bytes [from, to) of an open file (fewer when it is shorter now). */
export function readBytes(file: OpenedFile, from: number, to: number): Buffer {
  const bytes = Buffer.allocUnsafe(Math.max(0, to - from));
  const filled = readInto(file, bytes, 0, bytes.length, from);
  return filled === bytes.length ? bytes : bytes.subarray(0, filled);
}

/** A whole file of at most `maxBytes` as text; LIMIT_EXCEEDED past it (nothing read then). */
export function readRegularFile(path: string, maxBytes: number, within?: ReadBoundary): { text: string; stats: Stats } {
  const file = openRegularFile(path, within);
  try {
    if (file.stats.size > maxBytes) {
      throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: ${file.stats.size} bytes, more than the ${maxBytes} read here`, { path });
    }
    // One byte more than the size: a file that grew since fstat is read to its cap, not beyond.
    const bytes = readBytes(file, 0, Math.min(maxBytes, file.stats.size) + 1);
    if (bytes.length > maxBytes) {
      throw new ConfigTrackerError("LIMIT_EXCEEDED", `${path}: more than the ${maxBytes} bytes read here`, { path });
    }
    return { text: bytes.toString("utf8"), stats: file.stats };
  } finally {
    closeFile(file);
  }
}

/** readRegularFile's text, or null when there is no such file. */
export function readRegularFileIfPresent(path: string, maxBytes: number): string | null {
  try {
    return readRegularFile(path, maxBytes).text;
  } catch (error) {
    if (error instanceof ConfigTrackerError && error.code === "NOT_FOUND") return null;
    throw error;
  }
}

