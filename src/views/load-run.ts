/**
 * loadRun(dir): one experiment folder read back for looking at it. config.json is the run: a
 * folder without one, or with one that does not load, is an error naming the file. Every other
 * file may be absent (a run still going has no results.json, a run with no GPU sampling has no
 * system.jsonl): absent is `null` / empty, never an error. One that is there but unreadable is a
 * warning on the run naming the file, and is treated as absent.
 *
 * Metrics and system samples are not read here: `metrics()` and `system()` stream them on demand,
 * so loading a few hundred runs reads only their small JSON files. Those are read synchronously:
 * for files of a few KB that is several times faster than four trips through the thread pool
 * (open, fstat, read, close) each, and listing runs is all this does.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";

import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { emptyRecord, setKey } from "../json-value.js";
import { checkOptions, optionNames } from "../options.js";
import { oneLine } from "../text.js";
import type { ConfigFile, ResultsFile } from "../schema.js";
import {
  CHECKPOINTS_FILE,
  CONFIG_FILE,
  METRICS_FILE,
  NODES_FOLDER,
  RANKS_FOLDER,
  RESULTS_FILE,
  STATUS_FILE,
  systemLogsAmong,
  type SystemLogName,
} from "../experiment/layout.js";
import { readCheckpointLog, type CheckpointRecord } from "../experiment/checkpoints.js";
import { latestLogged, MetricsStream, type ReadMetricsOptions } from "../experiment/metrics-reader.js";
import { readNodeFiles, type NodeRecord } from "../experiment/nodes.js";
import { loadRankFiles, type RankRecord } from "../experiment/ranks.js";
import { readJsonFile } from "../experiment/json-files.js";
import { reportedStatus, type LoadedStatus, type ReportedStatus, type StatusRecord } from "../experiment/status.js";
import { readSystemLog, type LoggedSystemSample } from "../system/system-log.js";
import { SystemSummary, type SystemSummaryResult } from "../system/system-summary.js";


/**
 * What a run says about itself: its status.json's, else "finished" when it has results (the
 * Python ConfigTracker wrote no status.json), else "unknown".
 */
export type RunStatusLabel = ReportedStatus | "unknown";

export interface LoadedRun {
  /** The folder, absolute. */
  dir: string;
  /** How to show it: the path below the root it was found under (its folder's name otherwise). */
  name: string;
  /** config.json's experiment_id. */
  id: string;
  config: ConfigFile;
  /** null when results.json is absent (a run still going) or unreadable (then a warning). */
  results: ResultsFile | null;
  /** null when status.json is absent (a Python run) or unreadable (then a warning). */
  state: LoadedStatus | null;
  status: RunStatusLabel;
  checkpoints: CheckpointRecord[];
  ranks: RankRecord[];
  nodes: NodeRecord[];
  /** Numeric final metrics: results.json's, or for a run without results the latest logged values. */
  finalMetrics: Record<string, number>;
  finalMetricsFrom: "results" | "metrics log" | null;
  /**
   * When the last metrics record was made (unix seconds): read from the log's end for a run
   * without results.json, or one still running or lost; null otherwise, or with no log.
   */
  lastLoggedAt: number | null;
  /** Which optional files are there (a file that is there may still be unreadable: see warnings). */
  files: { results: boolean; status: boolean; metrics: boolean; system: string[]; checkpoints: boolean };
  /** One line per file that is there but could not be read, naming it. */
  warnings: string[];
  /** metrics.jsonl streamed (each step once, latest values); empty when there is none. */
  metrics(options?: ReadMetricsOptions): MetricsStream;
  /**
   * Every system log's samples, streamed (empty when none): the nodes' (system.jsonl, then each
   * other node's) and the ranks' that sampled themselves (samples with `rank`).
   */
  system(): AsyncGenerator<RunSystemSample>;
  /** results.json's `system` summary, else one made from the system logs; null when there are none. */
  systemSummary(): Promise<SystemSummaryResult | null>;
}

/** A system sample as a run's logs hold it; `rank` when a rank's own log held it. */
export type RunSystemSample = LoggedSystemSample & { rank?: number };

export interface LoadRunOptions {
  /** Shown instead of the folder's name (listRuns: the path below its root). */
  name?: string;
}

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

/** The error of a file that is there but could not be read, as a warning line. */
function problem(error: unknown, path: string): string {
  return oneLine(isConfigTrackerError(error) ? error.message : `${path}: ${(error as Error).message}`);
}

const LOAD_RUN_OPTIONS = optionNames<LoadRunOptions>({ name: true });

export async function loadRun(dir: string, options: LoadRunOptions = {}): Promise<LoadedRun> {
  checkOptions("loadRun(dir, options)", options, LOAD_RUN_OPTIONS);
  const folder = resolve(dir);
  let info;
  try {
    info = statSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigTrackerError(code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR", `${dir}: ${code === "ENOENT" ? "no such folder" : (error as Error).message}`, {
      path: dir,
    });
  }
  if (!info.isDirectory()) throw new ConfigTrackerError("NOT_A_FOLDER", `${dir}: not a folder (give a run's folder)`, { path: dir });
  const configPath = join(folder, CONFIG_FILE);
  const warnings: string[] = [];
  let config: ConfigFile;
  try {
    config = await readJsonFile(configPath, "configFileSchema", (warning) => warnings.push(warning));
  } catch (error) {
    if (isConfigTrackerError(error) && error.code === "NOT_FOUND") {
      throw new ConfigTrackerError("NOT_FOUND", `${dir}: no config.json here, not a run's folder`, { path: configPath });
    }
    throw error;
  }

  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    // read a moment ago (config.json): gone or unreadable now, so nothing else is there
  }
  const has = new Set(names);
  const systemLogs = systemLogsAmong(names);
  const files = {
    results: has.has(RESULTS_FILE),
    status: has.has(STATUS_FILE),
    metrics: has.has(METRICS_FILE) && isFile(join(folder, METRICS_FILE)),
    system: systemLogs.map((log) => log.name),
    checkpoints: has.has(CHECKPOINTS_FILE),
  };

  let results: ResultsFile | null = null;
  if (files.results) {
    const path = join(folder, RESULTS_FILE);
    results = await readJsonFile(path, "resultsFileSchema", (warning) => warnings.push(warning)).catch((error: unknown) => {
      warnings.push(problem(error, path));
      return null;
    });
  }
  let state: LoadedStatus | null = null;
  if (files.status) {
    const path = join(folder, STATUS_FILE);
    const record = await readJsonFile(path, "statusFileSchema").catch((error: unknown) => {
      warnings.push(problem(error, path));
      return null;
    });
    if (record !== null) state = { ...record, ...reportedStatus(record as StatusRecord) };
  }
  let checkpoints: CheckpointRecord[] = [];
  if (files.checkpoints) {
    const path = join(folder, CHECKPOINTS_FILE);
    try {
      const log = await readCheckpointLog(folder);
      checkpoints = log.records;
      if (log.skipped > 0) warnings.push(oneLine(`${path}: ${log.skipped} line(s) skipped (first: ${log.firstSkipped})`));
    } catch (error) {
      warnings.push(problem(error, path));
    }
  }
  const onRecordProblem = (error: unknown) => warnings.push(problem(error, folder));
  const ranks = has.has(RANKS_FOLDER) ? await loadRankFiles(folder, onRecordProblem) : [];
  const nodes = has.has(NODES_FOLDER) ? readNodeFiles(folder, onRecordProblem) : [];

  let finalMetrics: Record<string, number> = emptyRecord();
  let finalMetricsFrom: LoadedRun["finalMetricsFrom"] = null;
  let lastLoggedAt: number | null = null;
  if (results !== null) {
    for (const [key, value] of Object.entries(results.final_metrics)) if (typeof value === "number") setKey(finalMetrics, key, value);
    finalMetricsFrom = "results";
  }
  if (files.metrics && (results === null || state?.status === "running" || state?.status === "lost")) {
    try {
      const latest = latestLogged(join(folder, METRICS_FILE));
      lastLoggedAt = latest.time;
      if (results === null) {
        finalMetrics = latest.values;
        finalMetricsFrom = Object.keys(finalMetrics).length > 0 ? "metrics log" : null;
      }
    } catch (error) {
      warnings.push(problem(error, join(folder, METRICS_FILE)));
    }
  }

  const status: RunStatusLabel = state?.status ?? (results !== null ? "finished" : "unknown");
  const run: LoadedRun = {
    dir: folder,
    name: options.name ?? basename(folder),
    id: config.experiment_id,
    config,
    results,
    state,
    status,
    checkpoints,
    ranks,
    nodes,
    finalMetrics,
    finalMetricsFrom,
    lastLoggedAt,
    files,
    warnings,
    metrics: (readOptions = {}) => new MetricsStream(join(folder, METRICS_FILE), readOptions, true),
    system: () => readSystemLogs(folder, systemLogs),
    systemSummary: async () => {
      const stored = results?.system;
      if (typeof stored === "object" && stored !== null && Array.isArray((stored as SystemSummaryResult).gpus)) {
        return stored as SystemSummaryResult;
      }
      // The nodes' logs, as results.json summarises them; a rank's own samples are its GPUs again.
      const nodeLogs = systemLogs.filter((log) => log.node !== null);
      if (nodeLogs.length === 0) return null;
      const summary = new SystemSummary();
      for await (const sample of readSystemLogs(folder, nodeLogs)) summary.add(sample, typeof sample.node === "number" ? sample.node : 0);
      return summary.result();
    },
  };
  return run;
}

async function* readSystemLogs(folder: string, logs: SystemLogName[]): AsyncGenerator<RunSystemSample> {
  for (const log of logs) {
    const path = join(folder, log.name);
    try {
      if (log.rank === null) yield* readSystemLog(path);
      else for await (const sample of readSystemLog(path)) yield { ...sample, rank: log.rank };
    } catch (error) {
      if (isConfigTrackerError(error) && error.code === "NOT_FOUND") continue; // removed since the folder was listed
      throw isConfigTrackerError(error) ? error : new ConfigTrackerError("IO_ERROR", `${path}: ${(error as Error).message}`, { path, cause: error });
    }
  }
}
