/**
 * A log turned into columns for charts: per series (a metric, or a system figure) its points
 * (x step, time, value) sorted by step with each step once. Built from the lines of a log, in
 * pieces as the log grows; memory is a few typed arrays per series.
 *
 * For metrics.jsonl the rule is readMetrics()'s: each step once, in ascending order, with the
 * latest value logged for it (a resumed run's re-logged steps replace the first values). The time
 * of a point is that of the line that logged the value. Only finite numbers are kept: NaN and
 * infinite values are not drawn (the table shows them).
 */
import { MinMaxDecimator, type Series } from "./views.js";

/** A series' points: steps ascending, one per step. */
export interface Column {
  steps: Float64Array;
  times: Float64Array;
  values: Float64Array;
}

/** Points kept per series and x kind for the full-range view (min and max of 2048 buckets). */
export const OVERVIEW_POINTS = 4096;

export type XKind = "step" | "time";

/** Growable arrays of points in the order they came, with the sorted part's length. */
class Growing {
  steps: Float64Array = new Float64Array(16);
  times: Float64Array = new Float64Array(16);
  values: Float64Array = new Float64Array(16);
  length = 0;
  /** Points [0, settled) are sorted by step with each step once. */
  settled = 0;

  push(step: number, time: number, value: number): void {
    if (!(value - value === 0) || !(step - step === 0)) return; // NaN or infinite
    if (this.length === this.steps.length) {
      const grow = (array: Float64Array) => {
        const bigger = new Float64Array(array.length * 2);
        bigger.set(array);
        return bigger;
      };
      this.steps = grow(this.steps);
      this.times = grow(this.times);
      this.values = grow(this.values);
    }
    this.steps[this.length] = step;
    this.times[this.length] = time;
    this.values[this.length] = value;
    this.length += 1;
  }

  /**
   * Adds `count` points laid out as the addon's metricColumns gives them: their steps at
   * `source[at...]`, then their times, then their values (those not finite left out, as by push).
   */
  pushColumn(source: Float64Array, at: number, count: number): void {
    if (this.length + count > this.steps.length) {
      let size = this.steps.length;
      while (size < this.length + count) size *= 2;
      const grow = (array: Float64Array) => {
        const bigger = new Float64Array(size);
        bigger.set(array.subarray(0, this.length));
        return bigger;
      };
      this.steps = grow(this.steps);
      this.times = grow(this.times);
      this.values = grow(this.values);
    }
    const { steps, times, values } = this;
    let length = this.length;
    for (let i = 0; i < count; i++) {
      const step = source[at + i] as number;
      const value = source[at + 2 * count + i] as number;
      if (!(value - value === 0) || !(step - step === 0)) continue; // NaN or infinite
      steps[length] = step;
      times[length] = source[at + count + i] as number;
      values[length] = value;
      length += 1;
    }
    this.length = length;
  }

  /** Sorts the points by step (stable) and keeps the last of each step. */
  settle(): void {
    const { steps } = this;
    let ordered = true;
    for (let i = Math.max(1, this.settled); i < this.length && ordered; i++) ordered = (steps[i] as number) > (steps[i - 1] as number);
    if (!ordered) {
      const order = Array.from({ length: this.length }, (_, i) => i).sort((a, b) => (steps[a] as number) - (steps[b] as number) || a - b);
      const keep: number[] = [];
      for (let k = 0; k < order.length; k++) {
        const index = order[k] as number;
        const next = order[k + 1];
        if (next !== undefined && steps[next] === steps[index]) continue; // a later line logged this step again
        keep.push(index);
      }
      const pick = (array: Float64Array) => {
        const out = new Float64Array(Math.max(16, keep.length));
        for (let k = 0; k < keep.length; k++) out[k] = array[keep[k] as number] as number;
        return out;
      };
      this.steps = pick(this.steps);
      this.times = pick(this.times);
      this.values = pick(this.values);
      this.length = keep.length;
    }
    this.settled = this.length;
  }

  column(): Column {
    return { steps: this.steps.subarray(0, this.length), times: this.times.subarray(0, this.length), values: this.values.subarray(0, this.length) };
  }
}

/** Series of one log at most: a log naming more (per-layer metrics by the hundred thousand) has the rest left out. */
export const MAX_SERIES = 20_000;
const NOWHERE = { push(): void {} };

/** Series built from a log's lines, extended as the log grows. */
export class ColumnSet {
  readonly #series = new Map<string, Growing>();
  readonly #overviews = new Map<string, Record<XKind, Series>>();
  /** Lines that were not a record (torn, not JSON, no numeric step, too long). */
  skippedLines = 0;
  /** Points of series past MAX_SERIES, left out. */
  pointsLeftOut = 0;

  /** Adds a point (a value that is not finite is left out). */
  add(name: string, step: number, time: number, value: number): void {
    if (Number.isFinite(value) && Number.isFinite(step)) this.series(name).push(step, time, value);
  }

  /**
   * Adds a metric's points laid out as the addon's metricColumns gives them (steps, then times,
   * then values, `count` each, from `source[at]`); those not finite are left out, and a series
   * is made only for a finite one (as `add` does).
   */
  addColumn(name: string, source: Float64Array, at: number, count: number): void {
    let series = this.#series.get(name);
    if (series === undefined) {
      let finite = false;
      for (let i = 0; i < count && !finite; i++) finite = Number.isFinite(source[at + i]) && Number.isFinite(source[at + 2 * count + i]);
      if (!finite) return;
      this.#series.set(name, (series = new Growing()));
    }
    series.pushColumn(source, at, count);
  }

  /** The series of a name, to add many points to (`push` keeps only finite values). */
  series(name: string): { push(step: number, time: number, value: number): void } {
    let series = this.#series.get(name);
    if (series === undefined) {
      if (this.#series.size >= MAX_SERIES) {
        this.pointsLeftOut += 1;
        return NOWHERE;
      }
      this.#series.set(name, (series = new Growing()));
    }
    return series;
  }

  /** Ends a batch of lines: series are sorted and de-duplicated, overviews recomputed when asked. */
  settle(): void {
    for (const [name, series] of this.#series) {
      if (series.settled === series.length) continue;
      series.settle();
      this.#overviews.delete(name);
    }
  }

  names(): string[] {
    return [...this.#series.keys()];
  }

  get size(): number {
    return this.#series.size;
  }

  column(name: string): Column | null {
    return this.#series.get(name)?.column() ?? null;
  }

  /** The earliest time logged (unix seconds), NaN when none: "relative time" counts from it. */
  firstTime(): number {
    let first = Infinity;
    for (const series of this.#series.values()) {
      for (let i = 0; i < series.length; i++) if ((series.times[i] as number) < first) first = series.times[i] as number;
    }
    return Number.isFinite(first) ? first : NaN;
  }

  /** The series' full range decimated to OVERVIEW_POINTS, by step and by time. */
  overview(name: string): Record<XKind, Series> | null {
    let overview = this.#overviews.get(name);
    if (overview === undefined) {
      const column = this.column(name);
      if (column === null) return null;
      overview = { step: decimate(column, "step", -Infinity, Infinity, OVERVIEW_POINTS), time: decimate(column, "time", -Infinity, Infinity, OVERVIEW_POINTS) };
      this.#overviews.set(name, overview);
    }
    return overview;
  }

  /** Restores a series saved before (its points already settled). */
  restore(name: string, column: Column, overview?: Record<XKind, Series>): void {
    const series = new Growing();
    series.steps = column.steps;
    series.times = column.times;
    series.values = column.values;
    series.length = column.steps.length;
    series.settled = series.length;
    this.#series.set(name, series);
    if (overview) this.#overviews.set(name, overview);
  }

  /** Bytes held (for the cache's budget). */
  bytes(): number {
    let total = 0;
    for (const series of this.#series.values()) total += series.steps.byteLength * 3;
    return total;
  }
}

/** The points of a column with x in [from, to], decimated to at most `points` (min and max per bucket). */
export function decimate(column: Column, x: XKind, from: number, to: number, points: number): Series {
  const xs = x === "step" ? column.steps : column.times;
  let start = 0;
  let end = xs.length;
  if (x === "step") {
    // Steps are sorted: the range is found by bisection.
    start = lowerBound(xs, from);
    end = lowerBound(xs, to, true);
  }
  const decimator = new MinMaxDecimator(points);
  const values = column.values;
  for (let i = start; i < end; i++) {
    const at = xs[i] as number;
    if (at < from || at > to) continue;
    decimator.add(at, values[i] as number);
  }
  return decimator.series();
}

/** The first index whose value is >= `value` (> with `after`). */
function lowerBound(array: Float64Array, value: number, after = false): number {
  let low = 0;
  let high = array.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = array[middle] as number;
    if (at < value || (after && at === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A decimated series decimated again to fewer points (min and max are kept: they are the points). */
export function redecimate(series: Series, from: number, to: number, points: number): Series {
  if (series.xs.length <= points && from === -Infinity && to === Infinity) return series;
  const decimator = new MinMaxDecimator(points);
  for (let i = 0; i < series.xs.length; i++) {
    const at = series.xs[i] as number;
    if (at >= from && at <= to) decimator.add(at, series.ys[i] as number);
  }
  return decimator.series();
}
