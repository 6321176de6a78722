/**
 * Metrics taken from the command (its output, or the file it writes) into the run's log, with
 * when each step was logged: a checkpoint whose name has no step is dated by its mtime.
 */
import type { ConfigTracker } from "../tracker.js";
import type { LineMetrics } from "./output-metrics.js";

/** How many (time, step) pairs are kept; past it the older half is forgotten. */
const MAX_STEP_TIMES = 200_000;

export class MetricsRecorder {
  /** The last record logged (for the progress line and a checkpoint with no step in sight). */
  last: LineMetrics | null = null;
  readonly #stepTimes: Array<[number, number]> = [];

  /** `tracker` null: this node does not log (metrics come from rank 0, which runs on node 0). */
  constructor(private readonly tracker: ConfigTracker | null) {}

  record(metrics: LineMetrics): void {
    if (this.tracker === null) return;
    try {
      this.tracker.logMetrics(metrics.step, metrics.values, metrics.time === undefined ? undefined : { time: metrics.time });
      this.last = metrics;
      const time = metrics.time ?? Date.now() / 1000;
      const times = this.#stepTimes;
      if (times.length === 0 || (times[times.length - 1] as [number, number])[1] !== metrics.step) {
        times.push([time, metrics.step]);
        if (times.length > MAX_STEP_TIMES) times.splice(0, MAX_STEP_TIMES / 2);
      }
    } catch {
      // a line that looked like metrics but is not loggable (a huge record): it stays in the output log
    }
  }

  /** The last step logged at or before `seconds` (unix), or null. */
  stepAt(seconds: number): number | null {
    const times = this.#stepTimes;
    let low = 0;
    let high = times.length - 1;
    let found: number | null = null;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const [time, step] = times[middle] as [number, number];
      if (time <= seconds) {
        found = step;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }
}
