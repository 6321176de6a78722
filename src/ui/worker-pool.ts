/**
 * Reading long logs in worker threads, one per core (at most four): the charts of fifty runs of
 * 100,000 steps parse 400 MB of lines, which one thread does in about twice the time two do. A
 * worker reads a log into columns, saves them to the column cache and sends back the summary.
 * Workers start on first use and end after a minute without work.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { LogKind } from "./log-columns.js";
import type { LogSummary } from "./log-store.js";
import type { CachePlace } from "./column-cache.js";

interface Job {
  path: string;
  kind: LogKind;
  resolve: (summary: LogSummary) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const IDLE_MS = 60_000;

export interface WorkerSettings {
  roots: string[];
  cache: { place: CachePlace; userDir: string } | null;
}

export class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly size: number;
  #idle: NodeJS.Timeout | null = null;

  constructor(
    readonly settings: WorkerSettings,
    size = Math.min(4, Math.max(1, availableParallelism())),
  ) {
    this.size = size;
  }

  summarize(path: string, kind: LogKind): Promise<LogSummary> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ path, kind, resolve, reject });
      this.#pump();
    });
  }

  #start(): Slot {
    const worker = new Worker(new URL("./column-worker.js", import.meta.url), { workerData: this.settings });
    const slot: Slot = { worker, job: null };
    worker.on("message", (message: { summary?: LogSummary; error?: string }) => {
      const job = slot.job;
      slot.job = null;
      if (job) {
        if (message.summary) job.resolve(message.summary);
        else job.reject(new Error(message.error ?? "the worker failed"));
      }
      this.#pump();
    });
    worker.on("error", (error) => {
      slot.job?.reject(error);
      slot.job = null;
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      this.#pump();
    });
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((candidate) => candidate.job === null);
      if (slot === undefined) {
        if (this.#slots.length >= this.size) return;
        slot = this.#start();
      }
      const job = this.#queue.shift() as Job;
      slot.job = job;
      slot.worker.postMessage({ path: job.path, kind: job.kind });
    }
    if (this.#slots.every((slot) => slot.job === null)) {
      if (this.#idle) clearTimeout(this.#idle);
      this.#idle = setTimeout(() => void this.close(), IDLE_MS);
      this.#idle.unref();
    }
  }

  async close(): Promise<void> {
    if (this.#idle) clearTimeout(this.#idle);
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }
}
