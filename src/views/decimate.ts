/**
 * Fewer points for charts that look the same. A chart is at most a couple of thousand pixels
 * wide; 100,000 steps of one run, times 50 runs, would make a page of tens of MB that redraws
 * slowly and shows no more. So each series keeps, per bucket of x (about a pixel wide), its
 * lowest and its highest point, in the order they came: spikes and the band of a noisy loss stay
 * visible, the line's shape at that width is the same. Series shorter than the budget are kept
 * whole. NaN and infinite values are not drawn (there is no point to put them at).
 */

export interface Series {
  xs: number[];
  ys: number[];
}

/**
 * Streaming min/max per bucket in bounded memory: points are kept as they come until there are
 * `maxPoints`, then gathered into `maxPoints / 2` buckets; when x runs past the last bucket,
 * neighbouring buckets merge and each covers twice the width. x should mostly increase (steps
 * do); a point behind the last bucket joins the bucket it falls in.
 */
const EMPTY = new Float64Array(0);

export class MinMaxDecimator {
  readonly #maxPoints: number;
  readonly #capacity: number;
  #xs: number[] = [];
  #ys: number[] = [];
  #bucketed = false;
  #origin = 0;
  #width = 1;
  // The buckets, made when the points first pass maxPoints: a series of a few points holds a
  // few points (a log of 16,000 metrics of one value each is 16,000 small series, not 16,000
  // chart buffers).
  #minX = EMPTY;
  #minY = EMPTY;
  #maxX = EMPTY;
  #maxY = EMPTY;

  constructor(maxPoints = 2000) {
    this.#maxPoints = Math.max(4, Math.floor(maxPoints));
    this.#capacity = Math.floor(this.#maxPoints / 2);
  }

  add(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    if (!this.#bucketed) {
      this.#xs.push(x);
      this.#ys.push(y);
      if (this.#xs.length > this.#maxPoints) this.#startBuckets();
      return;
    }
    this.#addToBucket(x, y);
  }

  #startBuckets(): void {
    let low = Infinity;
    let high = -Infinity;
    for (const x of this.#xs) {
      if (x < low) low = x;
      if (x > high) high = x;
    }
    this.#bucketed = true;
    this.#minX = new Float64Array(this.#capacity);
    this.#minY = new Float64Array(this.#capacity).fill(NaN);
    this.#maxX = new Float64Array(this.#capacity);
    this.#maxY = new Float64Array(this.#capacity).fill(NaN);
    this.#origin = low;
    // Half the buckets filled now, so the run can go on twice as far before the first merge.
    this.#width = (high - low) / (this.#capacity / 2) || 1;
    const xs = this.#xs;
    const ys = this.#ys;
    this.#xs = [];
    this.#ys = [];
    for (let i = 0; i < xs.length; i++) this.#addToBucket(xs[i] as number, ys[i] as number);
  }

  #addToBucket(x: number, y: number): void {
    let index = Math.max(0, Math.floor((x - this.#origin) / this.#width));
    while (index >= this.#capacity) {
      this.#mergePairs();
      index = Math.max(0, Math.floor((x - this.#origin) / this.#width));
    }
    const min = this.#minY[index] as number;
    if (Number.isNaN(min) || y < min) {
      this.#minY[index] = y;
      this.#minX[index] = x;
    }
    const max = this.#maxY[index] as number;
    if (Number.isNaN(max) || y > max) {
      this.#maxY[index] = y;
      this.#maxX[index] = x;
    }
  }

  #mergePairs(): void {
    const half = this.#capacity / 2;
    for (let i = 0; i < this.#capacity; i++) {
      const target = Math.floor(i / 2);
      if (i === target) continue;
      const minY = this.#minY[i] as number;
      const maxY = this.#maxY[i] as number;
      if (i % 2 === 0) {
        this.#minY[target] = minY;
        this.#minX[target] = this.#minX[i] as number;
        this.#maxY[target] = maxY;
        this.#maxX[target] = this.#maxX[i] as number;
      } else {
        if (!Number.isNaN(minY) && (Number.isNaN(this.#minY[target] as number) || minY < (this.#minY[target] as number))) {
          this.#minY[target] = minY;
          this.#minX[target] = this.#minX[i] as number;
        }
        if (!Number.isNaN(maxY) && (Number.isNaN(this.#maxY[target] as number) || maxY > (this.#maxY[target] as number))) {
          this.#maxY[target] = maxY;
          this.#maxX[target] = this.#maxX[i] as number;
        }
      }
    }
    // Bucket 1 merged into 0 above only through the odd branch; the loop's even branch moved
    // bucket 2k into k before 2k+1 merged into it. The upper half is now empty.
    this.#minY.fill(NaN, Math.ceil(half));
    this.#maxY.fill(NaN, Math.ceil(half));
    this.#width *= 2;
  }

  /** The kept points, in x order. */
  series(): Series {
    if (!this.#bucketed) {
      const order = this.#xs.map((_, index) => index);
      if (this.#xs.some((x, index) => index > 0 && x < (this.#xs[index - 1] as number))) {
        order.sort((a, b) => (this.#xs[a] as number) - (this.#xs[b] as number));
      }
      return { xs: order.map((index) => this.#xs[index] as number), ys: order.map((index) => this.#ys[index] as number) };
    }
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < this.#capacity; i++) {
      const minY = this.#minY[i] as number;
      if (Number.isNaN(minY)) continue;
      const minX = this.#minX[i] as number;
      const maxX = this.#maxX[i] as number;
      const maxY = this.#maxY[i] as number;
      if (minX === maxX) {
        xs.push(minX);
        ys.push(minY);
      } else if (minX < maxX) {
        xs.push(minX, maxX);
        ys.push(minY, maxY);
      } else {
        xs.push(maxX, minX);
        ys.push(maxY, minY);
      }
    }
    return { xs, ys };
  }
}

/** Several series on one x axis, as uPlot takes them: one x array, one y array per series (null: no point). */
export interface AlignedSeries {
  x: number[];
  ys: Array<Array<number | null>>;
  /** True when the points were put on a grid of buckets (min and max per bucket kept). */
  bucketed: boolean;
}

/**
 * One x axis for several series. When all their x values together are few, the axis is those
 * values (nothing moves). Otherwise the range is cut into maxPoints / 2 buckets with two slots
 * each, and every series puts its lowest and highest point of the bucket into the slots, in the
 * order they came: each series is still drawn min/max per bucket, and the page holds
 * maxPoints values per series whatever the number of runs.
 */
export function alignSeries(series: Series[], maxPoints = 2000): AlignedSeries {
  const distinct = new Set<number>();
  for (const { xs } of series) {
    for (const x of xs) distinct.add(x);
    if (distinct.size > maxPoints) break;
  }
  if (distinct.size <= maxPoints) {
    const x = [...distinct].sort((a, b) => a - b);
    const slot = new Map(x.map((value, index) => [value, index]));
    const ys = series.map(({ xs, ys: values }) => {
      const row: Array<number | null> = new Array(x.length).fill(null);
      xs.forEach((value, index) => (row[slot.get(value) as number] = values[index] as number));
      return row;
    });
    return { x, ys, bucketed: false };
  }
  let low = Infinity;
  let high = -Infinity;
  for (const { xs } of series) {
    for (const x of xs) {
      if (x < low) low = x;
      if (x > high) high = x;
    }
  }
  const buckets = Math.floor(maxPoints / 2);
  const width = (high - low) / buckets || 1;
  const x: number[] = [];
  for (let b = 0; b < buckets; b++) x.push(low + (b + 0.25) * width, low + (b + 0.75) * width);
  const ys = series.map(({ xs, ys: values }) => {
    const row: Array<number | null> = new Array(x.length).fill(null);
    const minAt = new Float64Array(buckets).fill(NaN);
    const maxAt = new Float64Array(buckets).fill(NaN);
    const minY = new Float64Array(buckets).fill(NaN);
    const maxY = new Float64Array(buckets).fill(NaN);
    for (let i = 0; i < xs.length; i++) {
      const at = xs[i] as number;
      const y = values[i] as number;
      const b = Math.min(buckets - 1, Math.floor((at - low) / width));
      if (Number.isNaN(minY[b] as number) || y < (minY[b] as number)) (minY[b] = y), (minAt[b] = at);
      if (Number.isNaN(maxY[b] as number) || y > (maxY[b] as number)) (maxY[b] = y), (maxAt[b] = at);
    }
    for (let b = 0; b < buckets; b++) {
      if (Number.isNaN(minY[b] as number)) continue;
      const minFirst = (minAt[b] as number) <= (maxAt[b] as number);
      row[2 * b] = minFirst ? (minY[b] as number) : (maxY[b] as number);
      if (minAt[b] !== maxAt[b]) row[2 * b + 1] = minFirst ? (maxY[b] as number) : (minY[b] as number);
    }
    return row;
  });
  return { x, ys, bucketed: true };
}
