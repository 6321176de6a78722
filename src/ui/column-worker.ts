/** A worker of the pool (worker-pool.ts): reads a log into columns, caches them, returns the summary. */
import { parentPort, workerData } from "node:worker_threads";

import { ColumnCache } from "./column-cache.js";
import { readLogColumns, type LogKind } from "./log-columns.js";
import { summarize } from "./log-store.js";
import { Roots } from "./safe-files.js";
import type { WorkerSettings } from "./worker-pool.js";

const settings = workerData as WorkerSettings;
const roots = new Roots(settings.roots);
const cache = settings.cache === null ? null : new ColumnCache(roots, settings.cache.userDir, settings.cache.place);

parentPort?.on("message", (job: { path: string; kind: LogKind }) => {
  void (async () => {
    try {
      const columns = readLogColumns(job.path, roots, job.kind, null);
      const summary = summarize(job.path, columns);
      await cache?.write(job.path, columns);
      parentPort?.postMessage({ summary });
    } catch (error) {
      parentPort?.postMessage({ error: (error as Error).message });
    }
  })();
});
