/**
 * Lines of a file that may be growing while it is read: only the bytes present when reading
 * starts are read, in 1 MiB chunks, so memory stays bounded however large the file is. A line
 * longer than `maxLineBytes` is skipped (reported, not held), as is a last line without its
 * newline: a writer was cut off there, or is still writing it.
 */
import { open } from "node:fs/promises";

export type SkipReason = "too long" | "no newline at the end";

/** The lines of one chunk: `texts[i]` is line `first + i`, null where a line was skipped. */
export interface LineBatch {
  first: number;
  texts: Array<string | null>;
  reasons: Map<number, SkipReason>;
}

const CHUNK_BYTES = 1024 * 1024;

export async function* readLineBatches(path: string, size: number, maxLineBytes: number): AsyncGenerator<LineBatch> {
  const handle = await open(path, "r");
  try {
    let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0; // bytes at the start of buffer that belong to a line not yet complete
    let position = 0;
    let next = 1; // number of the next line
    let discarding = false; // inside a line that is too long: skip to its newline
    while (position < size) {
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
      const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, size - position), position);
      if (bytesRead === 0) break; // the file was truncated while we read it
      position += bytesRead;
      const end = filled + bytesRead;
      const lastNewline = buffer.lastIndexOf(0x0a, end - 1);
      if (lastNewline < filled) {
        filled = discarding ? 0 : end; // no newline yet: the same line goes on
        continue;
      }
      const batch: LineBatch = { first: next, texts: [], reasons: new Map() };
      let start = 0;
      if (discarding) {
        batch.reasons.set(next, "too long");
        batch.texts.push(null);
        next += 1;
        discarding = false;
        start = buffer.indexOf(0x0a) + 1;
      }
      if (start <= lastNewline) {
        for (const text of buffer.toString("utf8", start, lastNewline).split("\n")) {
          if (text.length * 3 > maxLineBytes && Buffer.byteLength(text) > maxLineBytes) {
            batch.reasons.set(next, "too long");
            batch.texts.push(null);
          } else {
            batch.texts.push(text);
          }
          next += 1;
        }
      }
      yield batch;
      filled = end - (lastNewline + 1);
      buffer.copy(buffer, 0, lastNewline + 1, end);
    }
    if (discarding || filled > 0) {
      const reason: SkipReason = discarding ? "too long" : "no newline at the end";
      yield { first: next, texts: [null], reasons: new Map([[next, reason]]) };
    }
  } finally {
    await handle.close();
  }
}
