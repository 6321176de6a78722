/**
 * The end of a run's output log (output.log, output.node-<k>.log), for the run page: whole lines,
 * at most `MAX_BYTES` at a time, and made inert for a web page: terminal escapes (colours, cursor
 * moves, titles, hyperlinks) are removed, a carriage return keeps what a terminal would show (the
 * text after it: progress bars), and any other control character or bidirectional mark is written
 * as an escape (\x07, \u202e). The page shows the text as text.
 */
import { join } from "node:path";

import { closeFile, openInside, readBytes, type Roots } from "./safe-files.js";
import { ConfigTrackerError, isOutputLog, oneLine } from "./views.js";

export const MAX_BYTES = 256 * 1024;
const DEFAULT_TAIL = 64 * 1024;

export interface LogChunk {
  file: string;
  /** Where the text starts in the file. */
  from: number;
  /** Where the next request should start (after the last whole line). */
  end: number;
  size: number;
  lines: string[];
  /** Lines were left out before `from` (the log is longer than what was sent). */
  earlier: boolean;
}

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS/PM/APC/SOS strings, other two-byte escapes; and the C1 CSI / OSC.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u009c]*[\u0007\u009c]?/g;

/** One line of a log as a terminal would leave it, then made safe (oneLine). */
export function cleanLogLine(line: string): string {
  let text = line.replace(ESCAPES, "");
  if (text.endsWith("\r")) text = text.slice(0, -1);
  const cut = text.lastIndexOf("\r");
  if (cut !== -1) text = text.slice(cut + 1);
  return text.split("\t").map(oneLine).join("\t");
}

export function readLogTail(dir: string, file: string, roots: Roots, from: number | null, maxBytes = MAX_BYTES): LogChunk {
  if (!isOutputLog(file)) throw new ConfigTrackerError("INVALID_ARGUMENT", `file: output.log or output.node-<k>.log (got ${JSON.stringify(file)})`);
  const opened = openInside(join(dir, file), roots);
  try {
    const size = opened.stats.size;
    let start = from === null ? Math.max(0, size - DEFAULT_TAIL) : Math.min(Math.max(0, from), size);
    const limit = Math.min(size, start + Math.min(maxBytes, MAX_BYTES));
    let bytes = readBytes(opened, start, limit);
    if (from === null && start > 0) {
      // Started mid-line: begin at the next line.
      const newline = bytes.indexOf(0x0a);
      bytes = newline === -1 ? bytes.subarray(bytes.length) : bytes.subarray(newline + 1);
      start = limit - bytes.length;
    }
    const last = bytes.lastIndexOf(0x0a);
    let whole = last === -1 ? bytes.subarray(0, 0) : bytes.subarray(0, last);
    let end = last === -1 ? start : start + last + 1;
    // A last line without its newline is shown once the log stops growing there (the command ended).
    const finalLine = limit === size && end < size && Date.now() - opened.stats.mtimeMs > 2000;
    if (finalLine) {
      whole = bytes;
      end = size;
    } else if (last === -1 && bytes.length >= MAX_BYTES) {
      // One line longer than a whole response: sent cut.
      whole = bytes;
      end = limit;
    }
    const lines = whole.length === 0 && !finalLine ? [] : whole.toString("utf8").split("\n").map(cleanLogLine);
    return { file, from: start, end, size, lines, earlier: start > 0 };
  } finally {
    closeFile(opened);
  }
}
