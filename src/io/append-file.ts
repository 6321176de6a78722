/**
 * Appending whole lines to a file that several processes may append to at once. Each write(2)
 * goes to an O_APPEND descriptor and carries whole lines only, so lines from different writers
 * never interleave and a reader never sees half of one line glued to another. A write that the
 * kernel cuts short (disk full) is ended with a newline, so the torn fragment stays a line of
 * its own that readers skip, and the cut line is written again whole.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";

import { ConfigTrackerError } from "../errors.js";

/** No line is longer than this; it bounds every write and what a reader must hold. */
export const MAX_LINE_BYTES = 1024 * 1024;

const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;

/**
 * Appends `lines` (each ending in "\n") to `path`, batching whole lines into writes of at most
 * MAX_LINE_BYTES. Returns how many lines were written; throws WRITE_FAILED after writing what it
 * could (the caller keeps the rest). `endTornTail` first ends a line a crashed writer left
 * without its newline, so the next line does not join it.
 */
export function appendLinesSync(path: string, lines: string[], endTornTail = false): number {
  let fd: number;
  try {
    fd = openSync(path, APPEND_FLAGS, 0o644);
  } catch (error) {
    throw appendError(path, error);
  }
  let written = 0;
  try {
    if (endTornTail && !endsWithNewline(path, fd)) writeAll(fd, Buffer.from("\n"));
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
function endsWithNewline(path: string, appendFd: number): boolean {
  const fd = openSync(path, "r");
  try {
    const last = Buffer.alloc(1);
    let size = fstatSync(appendFd).size;
    let sameSize = 0;
    for (let look = 0; look < 200 && sameSize < 10; look++) {
      if (size === 0) return true;
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] === 0x0a) return true;
      Atomics.wait(pause, 0, 0, 5);
      const now = fstatSync(appendFd).size;
      sameSize = now === size ? sameSize + 1 : 0; // growing: someone is writing whole lines
      size = now;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
const pause = new Int32Array(new SharedArrayBuffer(4));

function appendError(path: string, error: unknown, written = 0): ConfigTrackerError {
  const code = (error as NodeJS.ErrnoException).code;
  const kind = code === "EACCES" || code === "EPERM" ? "PERMISSION_DENIED" : "WRITE_FAILED";
  const partly = written > 0 ? ` (${written} lines were written first)` : "";
  return Object.assign(
    new ConfigTrackerError(kind, `${path}: could not append${partly}: ${(error as Error).message}`, { path, cause: error }),
    { linesWritten: written },
  );
}
