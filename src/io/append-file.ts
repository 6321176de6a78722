/**
 * Appending to the files of a run folder that several processes may append to at once, in a
 * folder others may write into too. Each write(2) goes to an O_APPEND descriptor and carries
 * whole lines only, so lines from different writers never interleave and a reader never sees half
 * of one line glued to another. Every append starts on a line boundary: a line a crashed writer
 * left without its newline is ended first. A write that the kernel cuts short (disk full) is
 * ended with a newline, so the torn fragment stays a line of its own that readers skip, and the
 * cut line is written again whole.
 *
 * The file appended to is the one in the folder: a symbolic link, a FIFO, a device or a second
 * name of another file (a hard link) planted under its name is removed and a new file created in
 * its place (what an atomic write's rename does to it), never written through.
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";

import { ConfigTrackerError } from "../errors.js";
import { writeFailure } from "./write-error.js";

/** No line is longer than this; it bounds every write and what a reader must hold. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const APPEND_FLAGS = constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | NO_FOLLOW;

/**
 * Opens `path` for appending (and reading its tail): the regular file of that name in its folder,
 * created when absent. What else stands under the name is replaced (see above). PERMISSION_DENIED
 * or WRITE_FAILED naming the path when it cannot be.
 */
export function openForAppend(path: string): number {
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | APPEND_FLAGS, 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ELOOP: a symbolic link; ENXIO: a FIFO nobody reads; EISDIR: a folder (not replaced below).
      if ((code === "ELOOP" || code === "ENXIO") && attempt < 3) {
        replaceEntry(path);
        continue;
      }
      if (code === "EACCES") {
        // Writable but not readable: append without looking at the tail.
        try {
          fd = openSync(path, constants.O_WRONLY | APPEND_FLAGS, 0o644);
        } catch (again) {
          throw writeFailure(path, again, "could not append");
        }
      } else throw writeFailure(path, error, "could not append");
    }
    const stats = fstatSync(fd);
    if (stats.isFile() && stats.nlink <= 1) return fd;
    closeSync(fd);
    if (attempt >= 3) {
      throw new ConfigTrackerError("WRITE_FAILED", `${path}: could not append: not a file of its own (something keeps replacing it)`, { path });
    }
    replaceEntry(path);
  }
}

/** Removes what stands under `path` (a link, a FIFO, a device, another file's second name): the target is untouched. */
function replaceEntry(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw writeFailure(path, error, "could not replace what stands there");
  }
}

/**
 * Appends `lines` (each ending in "\n") to `path`, batching whole lines into writes of at most
 * MAX_LINE_BYTES, starting on a line boundary. Returns how many lines were written; throws
 * WRITE_FAILED (or PERMISSION_DENIED) after writing what it could (the caller keeps the rest).
 */
export function appendLinesSync(path: string, lines: string[]): number {
  let fd: number;
  try {
    fd = openForAppend(path);
  } catch (error) {
    throw Object.assign(error as ConfigTrackerError, { linesWritten: 0 });
  }
  let written = 0;
  try {
    if (!endsWithNewline(fd)) writeAll(fd, Buffer.from("\n"));
    while (written < lines.length) {
      // One batch: as many whole lines as fit in MAX_LINE_BYTES (always at least one).
      let end = written;
      let size = 0;
      while (end < lines.length) {
        const next = Buffer.byteLength(lines[end] as string);
        if (end > written && size + next > MAX_LINE_BYTES) break;
        size += next;
        end += 1;
      }
      const batch = Buffer.from(end - written === 1 ? (lines[written] as string) : lines.slice(written, end).join(""));
      const done = writeSync(fd, batch);
      if (done === batch.length) {
        written = end;
        continue;
      }
      // Cut short: the lines before the last newline are in; end the fragment, retry the rest.
      const complete = done === 0 ? 0 : countNewlines(batch, done);
      written += complete;
      if (done > 0 && batch[done - 1] !== 0x0a) writeAll(fd, Buffer.from("\n"));
      if (done === 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    }
  } catch (error) {
    throw appendError(path, error, written);
  } finally {
    closeSync(fd);
  }
  return written;
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let index = bytes.indexOf(0x0a); index !== -1 && index < end; index = bytes.indexOf(0x0a, index + 1)) count += 1;
  return count;
}

/**
 * Whether the file ends with a newline, as far as a torn line goes. Another process's large
 * write is visible while it lands (the size grows page by page), so a tail that looks torn is
 * looked at again: only a tail that stays the same for ~50 ms is a crashed writer's. (A writer
 * descheduled mid-write on a loaded machine once held still for longer than the 6 ms this used to
 * wait, and its tail was ended with a spurious blank line.) Only a tail that looks torn waits.
 */
function endsWithNewline(fd: number): boolean {
  const last = Buffer.alloc(1);
  let size = fstatSync(fd).size;
  let sameSize = 0;
  for (let look = 0; look < 200 && sameSize < 10; look++) {
    if (size === 0) return true;
    try {
      readSync(fd, last, 0, 1, size - 1);
    } catch {
      return true; // opened write-only: the tail cannot be looked at
    }
    if (last[0] === 0x0a) return true;
    Atomics.wait(pause, 0, 0, 5);
    const now = fstatSync(fd).size;
    sameSize = now === size ? sameSize + 1 : 0; // growing: someone is writing whole lines
    size = now;
  }
  return false;
}
const pause = new Int32Array(new SharedArrayBuffer(4));

function appendError(path: string, error: unknown, written = 0): ConfigTrackerError {
  const partly = written > 0 ? ` (${written} lines were written first)` : "";
  return Object.assign(writeFailure(path, error, `could not append${partly}`), { linesWritten: written });
}
