/**
 * Lines of a file that may be growing while it is read: only the bytes present when reading
 * starts are read, in 1 MiB chunks (the next one is read while the caller works on this one),
 * so memory stays bounded however large the file is. A line longer than `maxLineBytes` is
 * skipped (reported, not held), as is a last line without its newline: a writer was cut off
 * there, or is still writing it.
 */
import { open } from "node:fs/promises";

export type SkipReason = "too long" | "no newline at the end";

/**
 * Either a run of whole lines, `bytes` (no trailing newline; lines split by "\n"), the first of
 * which is line number `first`, or one skipped line. `bytes` is only valid until the next item.
 */
export type LineChunk =
  | { first: number; count: number; bytes: Buffer; skip?: undefined }
  | { first: number; count: 1; bytes?: undefined; skip: SkipReason };

const CHUNK_BYTES = 1024 * 1024;

function countLines(bytes: Buffer): number {
  let count = 1;
  for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) count += 1;
  return count;
}

export async function* readLineChunks(path: string, size: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  const handle = await open(path, "r");
  let reading: Promise<{ bytesRead: number }> | null = null;
  try {
    const chunkBytes = Math.min(CHUNK_BYTES, Math.max(size, 1));
    let buffer = Buffer.allocUnsafe(chunkBytes);
    let spare = Buffer.allocUnsafe(chunkBytes); // the next chunk is read into it meanwhile
    let filled = 0; // bytes at the start of buffer that belong to a line not yet complete
    let position = 0;
    let next = 1; // number of the next line
    let discarding = false; // inside a line that is too long: skip to its newline
    const readInto = (target: Buffer, offset: number) =>
      handle.read(target, offset, Math.min(target.length - offset, size - position), position);

    while (position < size || reading !== null) {
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
      const { bytesRead } = await (reading ?? readInto(buffer, filled));
      reading = null;
      if (bytesRead === 0) break; // the file was truncated while we read it
      position += bytesRead;
      const end = filled + bytesRead;
      const lastNewline = buffer.lastIndexOf(0x0a, end - 1);
      if (lastNewline < filled) {
        filled = discarding ? 0 : end; // no newline yet: the same line goes on
        continue;
      }
      // Carry the unfinished line over to the spare buffer and start reading after it.
      const carry = end - (lastNewline + 1);
      if (spare.length < Math.max(carry + 1, buffer.length)) spare = Buffer.allocUnsafe(Math.max(carry + 1, buffer.length));
      buffer.copy(spare, 0, lastNewline + 1, end);
      if (position < size) reading = readInto(spare, carry);

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
      [buffer, spare] = [spare, buffer];
      filled = carry;
    }
    if (discarding || filled > 0) yield { first: next, count: 1, skip: discarding ? "too long" : "no newline at the end" };
  } finally {
    // A consumer that stops early leaves a read in flight: let it land before closing.
    await reading?.catch(() => {});
    await handle.close();
  }
}
