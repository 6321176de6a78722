/**
 * The lines of a growing log from a byte offset: the dashboard reads only what was appended since
 * it last looked. Whole lines only (a last line without its newline is still being written and
 * is left for next time); a line longer than `maxLineBytes` is skipped and counted, never held.
 * Reads go into one buffer of about 1 MiB, the unfinished line carried to its start; the chunk
 * handed on is valid until the callback returns.
 */
import { closeFile, openInside, readInto, type Roots } from "./safe-files.js";

export interface LinesRead {
  /** Where reading stopped: after the last whole line (the next read starts here). */
  end: number;
  /** Lines skipped for their length. */
  tooLong: number;
  /** The file's size and modification time when it was opened. */
  size: number;
  mtimeMs: number;
  ino: number;
}

const CHUNK = 1024 * 1024;

/**
 * Calls `onChunk` with runs of whole lines (split by "\n", without the last newline) between
 * `from` and the file's end. `from` must be the start of a line (0, or an `end` returned before);
 * past the end of the file (it was rewritten shorter) reading starts from 0.
 */
export function readLinesFrom(path: string, roots: Roots, from: number, maxLineBytes: number, onChunk: (lines: Buffer) => void): LinesRead {
  const file = openInside(path, roots);
  try {
    const { size, mtimeMs, ino } = file.stats;
    let position = from > size ? 0 : from;
    let lineStart = position; // file offset of buffer[0]
    let buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size - position)));
    let filled = 0;
    let tooLong = 0;
    let discarding = false; // inside a line longer than the limit: dropped up to its newline
    while (position < size) {
      if (filled === buffer.length) {
        if (buffer.length <= maxLineBytes) {
          const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxLineBytes + 1));
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        } else {
          discarding = true;
          filled = 0;
        }
      }
      const got = readInto(file, buffer, filled, Math.min(size - position, buffer.length - filled), position);
      if (got === 0) break;
      position += got;
      const end = filled + got;
      const last = buffer.lastIndexOf(0x0a, end - 1);
      if (last < filled) {
        filled = discarding ? 0 : end;
        continue;
      }
      let start = 0;
      if (discarding) {
        discarding = false;
        tooLong += 1;
        start = buffer.indexOf(0x0a) + 1;
      }
      if (start < last) onChunk(buffer.subarray(start, last));
      filled = end - (last + 1);
      buffer.copy(buffer, 0, last + 1, end);
      lineStart = position - filled;
    }
    return { end: lineStart, tooLong, size, mtimeMs, ino };
  } finally {
    closeFile(file);
  }
}
