/**
 * status.json: where a run is in its life. Written by the main rank whenever that changes and
 * as a heartbeat while the process lives, always synchronously (exit and signal handlers write
 * it too, and must not race an earlier asynchronous write).
 *
 * A process killed without a word (SIGKILL, OOM killer, power loss) leaves "running" behind.
 * Readers tell: on the same host and boot, its pid is gone; anywhere, its heartbeat is old.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

import { writeFileAtomicSync } from "../io/atomic-write.js";
import { readRegularFile } from "../io/read-file.js";
import { parsePythonJson } from "../python-json.js";
import type { StatusFile } from "../schema.js";
import { MAX_RECORD_BYTES } from "./layout.js";
import { misfit } from "./record-shape.js";

/** A heartbeat older than this means the process is gone. */
export const LOST_AFTER_SECONDS = 120;
/** How often a live process refreshes its heartbeat (the limit is 30 s). */
export const HEARTBEAT_MS = 15_000;

export type RunStatus = "running" | "finished" | "failed" | "interrupted";
/** What loaders report: a run's own status, or "lost" for a running one whose process is gone. */
export type ReportedStatus = RunStatus | "lost";

export interface StatusRecord {
  status: RunStatus;
  started_at: string;
  updated_at: string;
  ended_at: string | null;
  pid: number;
  host: string;
  /** Linux boot id: a pid is only meaningful within one boot. */
  boot_id: string | null;
  last_step: number | null;
  error: string | null;
  /** For interrupted runs: the signal that ended the process. */
  signal?: string;
  /** For runs that ended: the process's exit code, when known. */
  exit_code?: number;
}

let bootId: string | null | undefined;
export function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

export function newStatus(now = new Date()): StatusRecord {
  const at = now.toISOString();
  return {
    status: "running",
    started_at: at,
    updated_at: at,
    ended_at: null,
    pid: process.pid,
    host: hostname(),
    boot_id: currentBootId(),
    last_step: null,
    error: null,
  };
}

/**
 * status.json read without zod (a writer checks it before it starts, a sweep for each of its runs):
 * null when it is absent, unreadable (a FIFO, too large), not JSON or not a status record.
 */
export function readStatusRecord(path: string): StatusRecord | null {
  let record: unknown;
  try {
    record = parsePythonJson(readRegularFile(path, MAX_RECORD_BYTES).text);
  } catch {
    return null;
  }
  const bad = misfit(record, { status: "string", updated_at: "string", pid: "count", host: "string", boot_id: "string|null?", ended_at: "string|null?" });
  if (bad !== null || !["running", "finished", "failed", "interrupted"].includes((record as StatusRecord).status)) return null;
  return record as StatusRecord;
}

export function writeStatusSync(path: string, status: StatusRecord): void {
  writeFileAtomicSync(path, `${JSON.stringify(status, null, 2)}\n`, { durable: false });
}

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH"; // EPERM: alive, another user's
  }
}

/**
 * The status a reader should believe: "lost" for a "running" record whose process is gone (same
 * host and boot, pid not alive) or whose heartbeat is older than LOST_AFTER_SECONDS.
 */
export function reportedStatus(record: Pick<StatusRecord, "status" | "updated_at" | "pid" | "host"> & { boot_id?: string | null }, now = Date.now()): {
  status: ReportedStatus;
  heartbeat_age_seconds: number | null;
  lost_reason: string | null;
} {
  const updated = Date.parse(record.updated_at);
  const age = Number.isNaN(updated) ? null : Math.max(0, (now - updated) / 1000);
  if (record.status !== "running") return { status: record.status, heartbeat_age_seconds: age, lost_reason: null };
  const sameMachine =
    record.host === hostname() && record.boot_id !== undefined && record.boot_id !== null && record.boot_id === currentBootId();
  if (sameMachine && record.pid !== process.pid && processIsGone(record.pid)) {
    return { status: "lost", heartbeat_age_seconds: age, lost_reason: `process ${record.pid} on ${record.host} is gone` };
  }
  if (age === null || age > LOST_AFTER_SECONDS) {
    return {
      status: "lost",
      heartbeat_age_seconds: age,
      lost_reason: age === null ? "no readable heartbeat" : `no heartbeat for ${Math.round(age)} s`,
    };
  }
  return { status: "running", heartbeat_age_seconds: age, lost_reason: null };
}

/** status.json as loaders report it: "lost" when the process is gone without a word. */
export interface LoadedStatus extends Omit<StatusFile, "status"> {
  status: ReportedStatus;
  heartbeat_age_seconds: number | null;
  lost_reason: string | null;
}

/** How a run ended, for its status.json. */
export interface RunEnd {
  status: Exclude<RunStatus, "running">;
  error?: string;
  exit_code?: number;
  signal?: string;
}

/**
 * status.json of the run this process runs: written when the run starts, refreshed by a
 * heartbeat, rewritten when it ends. Synchronous throughout: the end is written from exit and
 * signal handlers too.
 */
export class RunStatusFile {
  #record: StatusRecord | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly heartbeatMs: number,
  ) {}

  /** Whether this process started the run and it has not ended. */
  get running(): boolean {
    return this.#record?.status === "running";
  }

  /** The last step logged, kept in the record (written with the next heartbeat). */
  noteStep(step: number): void {
    if (this.#record !== undefined) this.#record.last_step = step;
  }

  /** A new session of the run: `running`, and the heartbeat starts. */
  begin(lastStep: number | null): void {
    this.#record = newStatus();
    this.#record.last_step = lastStep;
    writeStatusSync(this.path, this.#record);
    this.#heartbeat ??= setInterval(() => this.#refreshHeartbeat(), this.heartbeatMs).unref();
  }

  /** Ends the run this process started; false when it started none or it ended already. */
  end(run: RunEnd, lastStep: number | null): boolean {
    const record = this.#record;
    if (record === undefined || record.status !== "running") return false;
    const now = new Date().toISOString();
    Object.assign(
      record,
      { status: run.status, updated_at: now, ended_at: now, last_step: lastStep, error: run.error ?? null },
      run.exit_code === undefined ? {} : { exit_code: run.exit_code },
      run.signal === undefined ? {} : { signal: run.signal },
    );
    try {
      writeStatusSync(this.path, record);
    } finally {
      this.stopHeartbeat();
    }
    return true;
  }

  /** Ends a run another process started (an evaluation script's saveResults): its record, rewritten. */
  endOther(run: RunEnd, lastStep: number | null): void {
    const record: StatusRecord = readStatusRecord(this.path) ?? { ...newStatus(), last_step: lastStep };
    const now = new Date().toISOString();
    const { signal: _signal, exit_code: _exitCode, ...rest } = record;
    writeStatusSync(this.path, {
      ...rest,
      status: run.status,
      updated_at: now,
      ended_at: now,
      error: run.error ?? null,
      ...(run.exit_code === undefined ? {} : { exit_code: run.exit_code }),
      ...(run.signal === undefined ? {} : { signal: run.signal }),
    });
  }

  stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #refreshHeartbeat(): void {
    const record = this.#record;
    if (record === undefined || record.status !== "running") return;
    record.updated_at = new Date().toISOString();
    try {
      writeStatusSync(this.path, record);
    } catch {
      // the next beat tries again; a missed one is harmless
    }
  }
}
