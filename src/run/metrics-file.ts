/**
 * --metrics-file: a metrics file the trainer writes as it runs, followed as it grows. JSON lines
 * (`{"step": 10, "loss": 2.1}`) or CSV with a header, like Lightning's CSVLogger (`epoch,step,
 * train_loss,val_loss`, empty cells for metrics not logged at that row). A file rewritten from the
 * start (CSVLogger rewrites it when a new column appears) is read again, skipping the rows
 * already taken.
 */
import { ConfigTrackerError } from "../errors.js";
import { MAX_LINE_BYTES } from "../io/append-file.js";
import { readLineChunks } from "../io/line-reader.js";
import { closeFile, openRegularFile, readBytes, type OpenedFile } from "../io/read-file.js";
import { emptyRecord, setKey } from "../json-value.js";
import { isUnixSeconds, jsonLineMetrics, type LineMetrics } from "./output-metrics.js";

export class MetricsFileFollower {
  #offset = 0;
  #identity = "";
  #partial = "";
  #discarding = false; // inside a line longer than MAX_LINE_BYTES: dropped up to its newline
  #header: string[] | null = null;
  #headerLine = "";
  #rowsTaken = 0; // data rows (CSV) or lines (JSON) already handed on
  #rowsSeen = 0; // in the current reading of the file
  readonly #csv: boolean;
  /** Why the file could not be read, when it is there but is not a regular file (a FIFO, a device). */
  problem: string | null = null;

  constructor(
    readonly path: string,
    private readonly onRecord: (record: LineMetrics) => void,
  ) {
    this.#csv = /\.csv$/i.test(path);
  }

  /**
   * Skips what the file holds now (a log from before this run): only what is appended after is
   * taken. A CSV's header is still read, when the rows come.
   */
  async skipExisting(): Promise<boolean> {
    // Counted as it is streamed (the file may be an earlier run's gigabyte of logs).
    let lines = 0;
    let first: string | null = null;
    try {
      for await (const chunk of readLineChunks(this.path, MAX_LINE_BYTES)) {
        for (const line of chunk.bytes?.toString("utf8").split("\n") ?? [""]) {
          if (line.trim() === "") continue;
          first ??= line;
          lines += 1;
        }
      }
    } catch (error) {
      if (!this.#refused(error)) return false; // not there yet
    }
    const header = this.#csv || (first !== null && !first.trimStart().startsWith("{"));
    this.#rowsTaken = Math.max(0, lines - (header ? 1 : 0));
    return true;
  }

  /** Opens the file as it is now; null when it is not there (or not a regular file: `problem` says). */
  #open(): OpenedFile | null {
    try {
      return openRegularFile(this.path);
    } catch (error) {
      this.#refused(error);
      return null;
    }
  }

  /** Notes why a file that is there cannot be read; false when it is simply not there. */
  #refused(error: unknown): boolean {
    if (error instanceof ConfigTrackerError && error.code === "NOT_FOUND") return false;
    this.problem ??= (error as Error).message;
    return true;
  }

  /** Reads what was appended since the last poll. */
  async poll(): Promise<void> {
    const file = this.#open();
    if (file === null) return;
    try {
      const info = file.stats;
      const identity = `${info.ino}:${info.dev}`;
      // CSVLogger rewrites the file in place (same inode, longer) when a column appears: a header
      // that changed means "read again from the start".
      const rewritten = this.#headerLine !== "" && this.#offset > 0 && this.#firstLine(file) !== this.#headerLine;
      if (identity !== this.#identity || info.size < this.#offset || rewritten) {
        // A new file, or rewritten from the start: read it again, skip what was taken.
        this.#identity = identity;
        this.#offset = 0;
        this.#partial = "";
        this.#discarding = false;
        this.#header = null;
        this.#rowsSeen = 0;
      }
      if (info.size === this.#offset) return;
      const bytes = readBytes(file, this.#offset, this.#offset + Math.min(info.size - this.#offset, 16 * 1024 * 1024));
      this.#offset += bytes.length;
      let text = this.#partial + bytes.toString("utf8");
      if (this.#discarding) {
        const newline = text.indexOf("\n");
        if (newline === -1) return;
        text = text.slice(newline + 1);
        this.#discarding = false;
      }
      const lines = text.split("\n");
      this.#partial = lines.pop() ?? "";
      if (this.#partial.length > MAX_LINE_BYTES) {
        // Not a metrics line: memory stays bounded whatever the file holds.
        this.#partial = "";
        this.#discarding = true;
      }
      for (const raw of lines) this.#line(raw.replace(/\r$/, ""));
    } finally {
      closeFile(file);
    }
  }

  #firstLine(file: OpenedFile): string {
    const bytes = readBytes(file, 0, Math.max(this.#headerLine.length * 4 + 2, 64));
    return bytes.toString("utf8").split("\n")[0]?.replace(/\r$/, "") ?? "";
  }

  #line(line: string): void {
    if (line.trim() === "") return;
    if (this.#csv || (this.#header === null && this.#rowsSeen === 0 && !line.trimStart().startsWith("{"))) {
      if (this.#header === null) {
        // A changed header means a rewritten file: rows before it were taken already.
        if (this.#headerLine !== "" && line !== this.#headerLine) this.#rowsSeen = 0;
        this.#header = splitCsv(line);
        this.#headerLine = line;
        return;
      }
      this.#rowsSeen += 1;
      if (this.#rowsSeen <= this.#rowsTaken) return;
      this.#rowsTaken += 1;
      const record = csvRecord(this.#header, splitCsv(line));
      if (record) this.onRecord(record);
      return;
    }
    this.#rowsSeen += 1;
    if (this.#rowsSeen <= this.#rowsTaken) return;
    this.#rowsTaken += 1;
    const record = jsonLineMetrics(line);
    if (record) this.onRecord(record);
  }
}

/** One CSV line's cells (RFC 4180 quoting: "a,b" and "" inside quotes). */
export function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  return cells;
}

function csvRecord(header: string[], cells: string[]): LineMetrics | null {
  const stepAt = header.indexOf("step");
  if (stepAt === -1) return null;
  const step = Number(cells[stepAt]);
  if (!Number.isSafeInteger(step) || step < 0 || cells[stepAt]?.trim() === "") return null;
  const values: Record<string, number> = emptyRecord();
  let any = false;
  let time: number | undefined;
  header.forEach((name, index) => {
    if (name === "time" || name === "timestamp") {
      const value = Number(cells[index]);
      if (isUnixSeconds(value)) time = value;
      return;
    }
    if (name === "step" || name === "") return;
    const text = cells[index]?.trim();
    if (text === undefined || text === "") return;
    const lower = text.toLowerCase();
    const value = lower === "nan" ? NaN : lower === "inf" ? Infinity : lower === "-inf" ? -Infinity : Number(text);
    if (Number.isNaN(value) && lower !== "nan") return;
    setKey(values, name, value);
    any = true;
  });
  if (!any) return null;
  return time === undefined ? { step, values } : { step, values, time };
}
