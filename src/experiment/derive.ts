/**
 * What results.json says about the metrics log: the last value of every metric, the best value
 * (and its step) of the metrics that have a direction, a summary per metric, throughput, and the
 * best checkpoint. One streaming pass over the log (latest record per step, ascending).
 */
import { emptyRecord, setKey } from "../json-value.js";
import type { MetricRecord } from "./metrics-reader.js";

export type Direction = "min" | "max";

/** Per metric, over the records that have it. min / max leave NaN out (null when all are NaN). */
export interface MetricSummary {
  last: number;
  min: number | null;
  max: number | null;
  count: number;
  last_step: number;
}

export interface CheckpointCandidate {
  path: string;
  step: number;
  /** Metric values recorded with the checkpoint. */
  metrics?: Record<string, number>;
}

export interface DeriveInput {
  records: AsyncIterable<MetricRecord>;
  best: Record<string, Direction>;
  /** Unix seconds when the run first started (config.json's timestamp). */
  startedAt: number | null;
  /** Unix seconds of each resumption: a throughput interval that spans one is left out. */
  resumedAt: number[];
  checkpoints: CheckpointCandidate[];
  now: number;
}

export interface Derived {
  finalMetrics: Record<string, number>;
  summary: Record<string, MetricSummary>;
  /** The metric that picks the best checkpoint (the first of `best` that was logged). */
  bestMetric: string | null;
  bestCheckpoint: { path: string; value: number; step: number } | null;
  records: number;
}

/** Tokens logged per record (since the previous one), or as a running total (Hugging Face). */
const TOKENS_PER_RECORD = "tokens";
const TOKENS_RUNNING_TOTAL = "num_input_tokens_seen";

const better = (direction: Direction, candidate: number, current: number) =>
  direction === "min" ? candidate < current : candidate > current;

export async function deriveResults(input: DeriveInput): Promise<Derived> {
  // Keyed by metric names from the log: no prototype, so `constructor` or `__proto__` is a metric like any other.
  const summary: Record<string, MetricSummary> = emptyRecord();
  const directionOf = (name: string): Direction | undefined => (Object.hasOwn(input.best, name) ? input.best[name] : undefined);
  const bestSoFar = new Map<string, { value: number; step: number }>();
  const checkpoints = [...input.checkpoints].sort((a, b) => a.step - b.step);
  const checkpointValues = new Map<CheckpointCandidate, Map<string, number>>();
  let nextCheckpoint = 0;
  const latest = new Map<string, number>(); // latest value of each best-metric, for checkpoints
  const resumes = [...input.resumedAt].sort((a, b) => a - b);

  let tokens = 0;
  let seconds = 0;
  let previousTokenTime = NaN;
  let previousTotal = NaN;
  let firstTime = NaN;
  let count = 0;

  const settleCheckpointsBefore = (step: number) => {
    // Checkpoints at steps below `step` take the latest value logged at or before their step.
    while (nextCheckpoint < checkpoints.length && (checkpoints[nextCheckpoint] as CheckpointCandidate).step < step) {
      checkpointValues.set(checkpoints[nextCheckpoint] as CheckpointCandidate, new Map(latest));
      nextCheckpoint += 1;
    }
  };

  for await (const record of input.records) {
    count += 1;
    if (Number.isNaN(firstTime) && Number.isFinite(record.time)) firstTime = record.time;
    settleCheckpointsBefore(record.step);
    for (const name in record) {
      if (name === "step" || name === "time") continue;
      const value = record[name] as number;
      const entry = summary[name];
      if (entry === undefined) {
        setKey(summary, name, {
          last: value,
          min: Number.isNaN(value) ? null : value,
          max: Number.isNaN(value) ? null : value,
          count: 1,
          last_step: record.step,
        });
      } else {
        entry.last = value;
        entry.count += 1;
        entry.last_step = record.step;
        if (!Number.isNaN(value)) {
          if (entry.min === null || value < entry.min) entry.min = value;
          if (entry.max === null || value > entry.max) entry.max = value;
        }
      }
      const direction = directionOf(name);
      if (direction !== undefined && !Number.isNaN(value)) {
        latest.set(name, value);
        const current = bestSoFar.get(name);
        if (current === undefined || better(direction, value, current.value)) bestSoFar.set(name, { value, step: record.step });
      }
    }

    // Throughput: the tokens of every record after the first of a session, over the time from
    // the session's first record to its last. A session ends at a resumption (the dead time
    // between two processes is not training). Records that share a timestamp (a followed log
    // read in batches) still count their tokens: only the time between them is zero.
    const perRecord = record[TOKENS_PER_RECORD];
    const total = record[TOKENS_RUNNING_TOTAL];
    if (perRecord !== undefined || total !== undefined) {
      const time = record.time;
      const dt = time - previousTokenTime;
      const spansResume = resumes.some((at) => at > previousTokenTime && at <= time);
      if (Number.isFinite(dt) && dt >= 0 && !spansResume) {
        const processed = perRecord !== undefined ? perRecord : (total as number) - previousTotal;
        if (Number.isFinite(processed) && processed >= 0) {
          tokens += processed;
          seconds += dt;
        }
      }
      previousTokenTime = time;
      previousTotal = total ?? NaN;
    }
  }
  settleCheckpointsBefore(Infinity);

  const finalMetrics: Record<string, number> = emptyRecord();
  for (const [name, entry] of Object.entries(summary)) setKey(finalMetrics, name, entry.last);
  for (const [name, best] of bestSoFar) {
    setKey(finalMetrics, `best_${name}`, best.value);
    setKey(finalMetrics, `best_${name}_step`, best.step);
  }
  const start = input.startedAt ?? firstTime;
  if (Number.isFinite(start)) finalMetrics.total_time_seconds = round(input.now - start, 3);
  if (seconds > 0 && !Object.hasOwn(summary, "tokens_per_second")) finalMetrics.tokens_per_second = round(tokens / seconds, 3);

  const bestMetric =
    Object.keys(input.best).find(
      (name) => Object.hasOwn(summary, name) || checkpoints.some((checkpoint) => checkpoint.metrics !== undefined && Object.hasOwn(checkpoint.metrics, name)),
    ) ?? null;
  let bestCheckpoint: Derived["bestCheckpoint"] = null;
  if (bestMetric !== null) {
    const direction = input.best[bestMetric] as Direction;
    for (const checkpoint of checkpoints) {
      const value = (checkpoint.metrics !== undefined && Object.hasOwn(checkpoint.metrics, bestMetric) ? checkpoint.metrics[bestMetric] : undefined) ?? checkpointValues.get(checkpoint)?.get(bestMetric);
      if (value === undefined || Number.isNaN(value)) continue;
      // Strict improvement, as early stopping keeps a checkpoint: ties stay with the earlier one.
      if (bestCheckpoint === null || better(direction, value, bestCheckpoint.value)) {
        bestCheckpoint = { path: checkpoint.path, value, step: checkpoint.step };
      }
    }
  }
  return { finalMetrics, summary, bestMetric, bestCheckpoint, records: count };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
