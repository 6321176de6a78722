/**
 * Lines of a file that may be growing while it is read: only the bytes present when reading
 * starts are read, in 1 MiB chunks, so memory stays bounded however large the file is. A line
 * longer than `maxLineBytes` is skipped (reported, not held), as is a last line without its
 * newline: a writer was cut off there, or is still writing it.
 *
 * Chunks are read with readSync (from the page cache, a fraction of a millisecond: an async read
 * per chunk spent more time waiting on the thread pool than reading), and the event loop gets a
 * turn every few milliseconds, so timers and sockets of the reading process keep running.
 */
import { closeSync, openSync, readSync } from "node:fs";

export type SkipReason = "too long" | "no newline at the end";

/**
 * Either a run of whole lines, `bytes` (no trailing newline; lines split by "\n"), the first of
 * which is line number `first`, or one skipped line. `bytes` is only valid until the next item.
 */
export type LineChunk =
  | { first: number; count: number; bytes: Buffer; skip?: undefined }
  | { first: number; count: 1; bytes?: undefined; skip: SkipReason };

const CHUNK_BYTES = 1024 * 1024;
const SLICE_MS = 8;

function countLines(bytes: Buffer): number {
  let count = 1;
  for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) count += 1;
  return count;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function* readLineChunks(path: string, size: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  const fd = openSync(path, "r");
  try {
    let buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size, 1)));
    let filled = 0; // bytes at the start of buffer that belong to a line not yet complete
    let position = 0;
    let next = 1; // number of the next line
    let discarding = false; // inside a line that is too long: skip to its newline
    let sliceStart = performance.now();
    while (position < size) {
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
      if (filled === buffer.length) {
        // A line longer than the buffer: grow up to the cap, then drop it up to its newline.
        if (buffer.length <= maxLineBytes) {
          const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxLineBytes + 1));
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        } else {
          discarding = true;
          filled = 0;
        }
      }
      const bytesRead = readSync(fd, buffer, filled, Math.min(buffer.length - filled, size - position), position);
      if (bytesRead === 0) break; // the file was truncated while we read it
      position += bytesRead;
      const end = filled + bytesRead;
      const lastNewline = buffer.lastIndexOf(0x0a, end - 1);
      if (lastNewline < filled) {
        filled = discarding ? 0 : end; // no newline yet: the same line goes on
        continue;
      }
      let start = 0;
      if (discarding) {
        yield { first: next, count: 1, skip: "too long" };
        next += 1;
        discarding = false;
        start = buffer.indexOf(0x0a) + 1;
      }
      if (start <= lastNewline) {
        const bytes = buffer.subarray(start, lastNewline);
        const count = countLines(bytes);
        yield { first: next, count, bytes };
        next += count;
      }
      filled = end - (lastNewline + 1);
      buffer.copy(buffer, 0, lastNewline + 1, end);
    }
    if (discarding || filled > 0) yield { first: next, count: 1, skip: discarding ? "too long" : "no newline at the end" };
  } finally {
    closeSync(fd);
  }
}
