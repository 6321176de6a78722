/**
 * Keeping the dashboard current. One check does the work: it compares what a run's files look
 * like now (sizes and times) with the last look, re-reads the rows that changed, and tells the
 * pages (events.ts). Two things start that check:
 *  - a timer: every second for live runs (running, or changed in the last minute), every few
 *    seconds for the folder listings (new runs), and a slice of every other run each tick (a
 *    full pass over 10,000 runs takes about a minute);
 *  - fs.watch on the live runs' folders and on the listings, where the file system reports
 *    changes, so a change is seen at once. Network file systems (NFS, SMB, Lustre, GPFS, FUSE)
 *    report only their own host's changes, so there the timer alone does it (as with --poll).
 */
import { readdirSync, statfsSync, statSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

import type { EventHub } from "./events.js";
import type { RunIndex } from "./run-index.js";
import { shownStatus } from "./table.js";
import { isNodeSystemLog, isOutputLog, METRICS_FILE } from "./views.js";

/** statfs f_type of file systems whose change notices miss other hosts' writes. */
const NETWORK_FILE_SYSTEMS = new Set([
  0x6969, // NFS
  0x517b, // SMB
  0xfe534d42, // SMB2
  0xff534d42, // CIFS
  0x65735546, // FUSE (sshfs, s3fs, ...)
  0x0bd00bd0, // Lustre
  0x47504653, // GPFS
  0x5346414f, // AFS
  0x013111a8, // IBRIX
  0x19830326, // fhgfs / BeeGFS
  0x00c36400, // CephFS
]);

/** Whether fs.watch reports every change under this folder (false on network file systems). */
export function watchWorks(path: string): boolean {
  try {
    return !NETWORK_FILE_SYSTEMS.has(statfsSync(path).type >>> 0);
  } catch {
    return false;
  }
}

export interface LiveOptions {
  /** How often live runs are looked at (ms). */
  pollMs: number;
  /** Use fs.watch where it works (false: the timer only). */
  watch: boolean;
}

const LISTING_EVERY = 3; // ticks
const SWEEP_SLICE = 150; // runs per tick
const WARM_MS = 60_000;

export class LiveWatcher {
  readonly #files = new Map<string, string>(); // run name -> stamp of its logs
  readonly #warm = new Map<string, number>(); // run name -> when it last changed
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #due = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #soon: NodeJS.Timeout | null = null;
  #ticks = 0;
  #sweepAt = 0;
  #busy: Promise<void> | null = null;
  readonly watching: boolean;

  constructor(
    readonly index: RunIndex,
    readonly hub: EventHub,
    readonly options: LiveOptions,
  ) {
    this.watching = options.watch && index.roots.real.every(watchWorks);
    index.onChange((names) => {
      // The first load reads every run: that is no sign of life.
      if (this.#timer !== null) {
        const now = Date.now();
        for (const name of names) this.#warm.set(name, now);
      }
      hub.table(index.version);
    });
  }

  start(): void {
    for (const name of this.#liveNames()) this.#files.set(name, this.#logStamp(name));
    this.#timer = setInterval(() => void this.tick(), this.options.pollMs);
    this.#timer.unref();
    if (this.watching) for (const root of this.index.roots.real) this.#watch(`listing:${root}`, root, null);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#soon) clearTimeout(this.#soon);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Runs looked at every tick: running ones and those that changed lately. */
  #liveNames(): string[] {
    const now = Date.now();
    const names: string[] = [];
    for (const [name, { row }] of this.index.runs) {
      const warm = this.#warm.get(name);
      if (warm !== undefined && now - warm > WARM_MS) this.#warm.delete(name);
      if (row.state?.status === "running" || this.#warm.has(name)) names.push(name);
    }
    return names;
  }

  /** Sizes and times of a run's logs (metrics, system, output), as one string. */
  #logStamp(name: string): string {
    const row = this.index.get(name);
    if (row === null) return "";
    const parts: string[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(row.dir);
    } catch {
      return "";
    }
    for (const file of names) {
      if (file !== METRICS_FILE && !isNodeSystemLog(file) && !isOutputLog(file)) continue;
      const info = statSync(join(row.dir, file), { throwIfNoEntry: false });
      if (info) parts.push(`${file}:${info.size}:${info.mtimeMs}`);
    }
    return parts.join("|");
  }

  #watch(key: string, path: string, run: string | null): void {
    if (this.#watchers.has(key)) return;
    try {
      const watcher = watch(path, { persistent: false }, () => {
        if (run !== null) this.#due.add(run);
        else this.#due.add("");
        this.#checkSoon();
      });
      watcher.on("error", () => {
        watcher.close();
        this.#watchers.delete(key);
      });
      this.#watchers.set(key, watcher);
    } catch {
      // out of watches, or gone: the timer still looks
    }
  }

  #checkSoon(): void {
    if (this.#soon !== null) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      const due = [...this.#due];
      this.#due.clear();
      void this.check(due.filter((name) => name !== ""), due.includes(""));
    }, 50);
    this.#soon.unref();
  }

  /** One timer tick: live runs, every few ticks the listings, and a slice of the other runs. */
  async tick(): Promise<void> {
    this.#ticks += 1;
    const live = this.#liveNames();
    const names = this.index.runs.size > 0 ? [...this.index.runs.keys()] : [];
    const slice: string[] = [];
    for (let i = 0; i < Math.min(SWEEP_SLICE, names.length); i++) slice.push(names[(this.#sweepAt + i) % names.length] as string);
    this.#sweepAt = names.length === 0 ? 0 : (this.#sweepAt + SWEEP_SLICE) % names.length;
    await this.check([...new Set([...live, ...slice])], this.#ticks % LISTING_EVERY === 0);
  }

  /** The check (see above) for these runs, and the folder listings when `listings`. */
  async check(names: string[], listings: boolean): Promise<void> {
    // One check at a time; a check asked for meanwhile runs after it.
    while (this.#busy) await this.#busy;
    let done!: () => void;
    this.#busy = new Promise((resolve) => (done = resolve));
    try {
      await this.index.refresh(names, listings);
      for (const name of names) {
        const row = this.index.get(name);
        if (row === null) continue;
        const stamp = this.#logStamp(name);
        const before = this.#files.get(name);
        if (before !== undefined && before !== stamp) {
          const old = new Map(before.split("|").map((part) => [part.slice(0, part.indexOf(":")), part]));
          for (const part of stamp.split("|")) {
            const file = part.slice(0, part.indexOf(":"));
            if (old.get(file) === part) continue;
            this.hub.run(name, file === METRICS_FILE ? "metrics" : isNodeSystemLog(file) ? "system" : "log");
          }
          this.#warm.set(name, Date.now());
        }
        this.#files.set(name, stamp);
        const live = row.state?.status === "running" || this.#warm.has(name);
        if (this.watching && live && shownStatus(row).status === "running") this.#watch(`run:${name}`, row.dir, name);
        else if (!live && this.#watchers.has(`run:${name}`)) {
          this.#watchers.get(`run:${name}`)?.close();
          this.#watchers.delete(`run:${name}`);
        }
      }
      if (this.watching && listings) for (const dir of this.index.containers()) this.#watch(`listing:${dir}`, dir, null);
    } finally {
      this.#busy = null;
      done();
    }
  }
}
