/**
 * results.json's metrics part: final metrics and a summary per metric derived from the log
 * (derive.ts), the best checkpoint (given, or picked from checkpoints.jsonl by the best metric),
 * and warnings about what a reader should know (skipped log lines, a missing checkpoint).
 */
import { resolve } from "node:path";

import { exists } from "../io/exists.js";
import type { JsonValue } from "../json-value.js";
import { readCheckpointRecords, storedPath, type CheckpointRecord } from "./checkpoints.js";
import type { ConfigStore } from "./config-store.js";
import { deriveResults, type Direction, type MetricSummary } from "./derive.js";
import { METRICS_FILE } from "./layout.js";
import type { MetricsStream } from "./metrics-reader.js";

export interface ResultsFromLog {
  finalMetrics: Record<string, JsonValue>;
  summary: Record<string, MetricSummary>;
  best_checkpoint: string | null;
  warnings: string[];
}

export async function resultsFromLog(input: {
  experimentDir: string;
  config: ConfigStore;
  log: MetricsStream;
  best: Record<string, Direction>;
  /** The caller's final metrics: they win over derived ones. */
  given: Record<string, JsonValue>;
  /** The caller's best checkpoint (null: none); undefined: picked from the recorded ones. */
  bestCheckpoint: string | null | undefined;
}): Promise<ResultsFromLog> {
  const { experimentDir, log, best, bestCheckpoint } = input;
  const [config, checkpoints] = await Promise.all([input.config.times(), readCheckpointRecords(experimentDir)]);
  const derived = await deriveResults({
    records: log,
    best,
    startedAt: config === null ? null : Date.parse(config.timestamp) / 1000,
    resumedAt: (config?.resumes ?? []).map((entry) => Date.parse(entry.timestamp) / 1000),
    checkpoints,
    now: Date.now() / 1000,
  });
  const warnings: string[] = [];
  if (log.stats.skipped_lines > 0) {
    const first = log.stats.skipped[0];
    warnings.push(`${METRICS_FILE}: ${log.stats.skipped_lines} line(s) skipped (first: line ${first?.line}, ${first?.reason})`);
  }

  let best_checkpoint: string | null = null;
  if (typeof bestCheckpoint === "string") {
    best_checkpoint = storedPath(experimentDir, bestCheckpoint);
    if (!(await exists(resolve(bestCheckpoint)))) warnings.push(`best_checkpoint: ${bestCheckpoint} does not exist`);
  } else if (bestCheckpoint === undefined && checkpoints.length > 0) {
    if (derived.bestCheckpoint !== null) {
      best_checkpoint = derived.bestCheckpoint.path;
    } else {
      best_checkpoint = (checkpoints[checkpoints.length - 1] as CheckpointRecord).path;
      const metric = Object.keys(best).join(" / ");
      warnings.push(`best_checkpoint: no ${metric} for any recorded checkpoint, so the last one recorded is named`);
    }
  }
  return { finalMetrics: { ...derived.finalMetrics, ...input.given }, summary: derived.summary, best_checkpoint, warnings };
}
