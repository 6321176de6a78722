/**
 * Lines of a file that may be growing while it is read: only the bytes between a start offset and
 * the file's size when reading starts are read, in 1 MiB chunks, so memory stays bounded however
 * large the file is. A line longer than `maxLineBytes` is skipped (reported, not held), as is a
 * last line without its newline: a writer was cut off there, or is still writing it. Files are
 * opened as read-file.ts opens them (a FIFO or a device is refused, never waited on).
 *
 * Chunks are read with readSync (from the page cache, a fraction of a millisecond: an async read
 * per chunk spent more time waiting on the thread pool than reading); the asynchronous reader
 * gives the event loop a turn every few milliseconds, so timers and sockets keep running.
 */
import { closeFile, openRegularFile, readInto, type OpenedFile, type ReadBoundary } from "./read-file.js";

export type SkipReason = "too long" | "no newline at the end";

/**
 * Either a run of whole lines, `bytes` (no trailing newline; lines split by "\n"), the first of
 * which is line number `first`, or one skipped line. `bytes` is only valid until the next item.
 */
export type LineChunk =
  | { first: number; count: number; bytes: Buffer; skip?: undefined }
  | { first: number; count: 1; bytes?: undefined; skip: SkipReason };

/** Where a scan stopped. */
export interface ScanEnd {
  /** The offset after the last whole line (where the next scan of a growing file starts). */
  end: number;
  /** Lines skipped for their length. */
  tooLong: number;
  /** Why the bytes after `end` are not a line yet: a last line without its newline, or one too long; null: none. */
  partial: SkipReason | null;
  /** The number the next line would have. */
  nextLine: number;
}

const CHUNK_BYTES = 1024 * 1024;
const SLICE_MS = 8;

function countLines(bytes: Buffer): number {
  let count = 1;
  for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) count += 1;
  return count;
}

/**
 * The whole lines of an open file between `from` (the start of a line: 0, or an `end` returned
 * before) and `to`, as chunks; returns where it stopped. The one scan every line reader uses.
 */
export function* scanLines(file: OpenedFile, from: number, to: number, maxLineBytes: number): Generator<LineChunk, ScanEnd> {
  let buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(to - from, 1)));
  let filled = 0; // bytes at the start of buffer that belong to a line not yet complete
  let position = from;
  let lineStart = from; // file offset of buffer[0]
  let next = 1; // number of the next line
  let tooLong = 0;
  let discarding = false; // inside a line that is too long: skip to its newline
  while (position < to) {
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
    const bytesRead = readInto(file, buffer, filled, Math.min(buffer.length - filled, to - position), position);
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
      tooLong += 1;
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
    lineStart = position - filled;
  }
  return { end: lineStart, tooLong, partial: discarding ? "too long" : filled > 0 ? "no newline at the end" : null, nextLine: next };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The lines of an open file up to `to` (its size when reading started), a last line without its
 * newline reported as skipped; the event loop gets a turn every few milliseconds.
 */
export async function* lineChunksOf(file: OpenedFile, to: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  const lines = scanLines(file, 0, to, maxLineBytes);
  let sliceStart = performance.now();
  for (;;) {
    const item = lines.next();
    if (item.done) {
      const { partial, nextLine } = item.value;
      if (partial !== null) yield { first: nextLine, count: 1, skip: partial };
      return;
    }
    yield item.value;
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/**
 * Every line of the file at `path` as it is when reading starts (see lineChunksOf). NOT_FOUND,
 * INVALID_FILE (not a regular file) or IO_ERROR when it cannot be read.
 */
export async function* readLineChunks(path: string, maxLineBytes: number, within?: ReadBoundary): AsyncGenerator<LineChunk> {
  const file = openRegularFile(path, within);
  try {
    yield* lineChunksOf(file, file.stats.size, maxLineBytes);
  } finally {
    closeFile(file);
  }
}

/** What readLinesFrom read: where it stopped, and the file as it was when opened. */
export interface LinesRead {
  /** Where reading stopped: after the last whole line (the next read starts here). */
  end: number;
  /** Lines skipped for their length. */
  tooLong: number;
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * The whole lines of a growing log from `from` (0, or an `end` returned before; past the end of
 * the file, which was rewritten shorter, reading starts from 0), each run of them handed to
 * `onChunk` (valid until it returns). A last line without its newline is left for next time.
 */
export function readLinesFrom(path: string, from: number, maxLineBytes: number, onChunk: (lines: Buffer) => void, within?: ReadBoundary): LinesRead {
  const file = openRegularFile(path, within);
  try {
    const { size, mtimeMs, ino } = file.stats;
    const lines = scanLines(file, from > size ? 0 : from, size, maxLineBytes);
    for (;;) {
      const item = lines.next();
      if (item.done) return { end: item.value.end, tooLong: item.value.tooLong, size, mtimeMs, ino };
      if (item.value.bytes !== undefined && item.value.bytes.length > 0) onChunk(item.value.bytes);
    }
  } finally {
    closeFile(file);
  }
}
