/** The report's decimation: min and max per bucket keep the envelope a chart draws. */
import { describe, expect, it } from "vitest";

import { alignSeries, MinMaxDecimator } from "../src/views/decimate.js";

/** A noisy loss with a spike: deterministic (a linear congruential generator, not Math.random). */
function noisyLoss(steps: number): { xs: number[]; ys: number[] } {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let step = 0; step < steps; step++) {
    xs.push(step);
    ys.push(4 * Math.exp(-step / 20000) + 1 + 0.2 * next() + (step === 54321 ? 9 : 0));
  }
  return { xs, ys };
}

describe("MinMaxDecimator", () => {
  it("keeps a short series whole, in x order", () => {
    const decimator = new MinMaxDecimator(100);
    for (const [x, y] of [[3, 1], [1, 2], [2, NaN], [2, 3], [5, Infinity]] as const) decimator.add(x, y);
    expect(decimator.series()).toEqual({ xs: [1, 2, 3], ys: [2, 3, 1] });
  });

  it("100,000 steps: at most maxPoints kept, each a real point, the envelope per bucket kept", () => {
    const { xs, ys } = noisyLoss(100_000);
    const maxPoints = 2000;
    const decimator = new MinMaxDecimator(maxPoints);
    xs.forEach((x, index) => decimator.add(x, ys[index] as number));
    const kept = decimator.series();
    expect(kept.xs.length).toBeLessThanOrEqual(maxPoints);
    expect(kept.xs.length).toBeGreaterThan(maxPoints / 4);
    kept.xs.forEach((x, index) => {
      expect(kept.ys[index]).toBe(ys[x]); // a point of the series, not an average
      if (index > 0) expect(x).toBeGreaterThan(kept.xs[index - 1] as number);
    });
    // The spike and the lowest point survive exactly.
    expect(Math.max(...kept.ys)).toBe(Math.max(...ys));
    expect(kept.xs[kept.ys.indexOf(Math.max(...kept.ys))]).toBe(54321);
    expect(Math.min(...kept.ys)).toBe(Math.min(...ys));
    // Any window of the x range: the kept points within a bucket's width of it reach its max and min.
    const slack = (4 * 100_000) / maxPoints;
    for (let start = 0; start < 100_000; start += 1000) {
      const inWindow = (x: number, pad: number) => x >= start - pad && x < start + 1000 + pad;
      const original = ys.filter((_, x) => inWindow(x, 0));
      const near = kept.ys.filter((_, index) => inWindow(kept.xs[index] as number, slack));
      expect(Math.max(...near)).toBeGreaterThanOrEqual(Math.max(...original));
      expect(Math.min(...near)).toBeLessThanOrEqual(Math.min(...original));
    }
  });
});

describe("alignSeries", () => {
  it("few points: the union of the x values, nothing moved", () => {
    const aligned = alignSeries([
      { xs: [0, 100, 200], ys: [5, 4, 3] },
      { xs: [0, 50, 100], ys: [6, 5.5, 5] },
    ]);
    expect(aligned).toEqual({ x: [0, 50, 100, 200], ys: [[5, null, 4, 3], [6, 5.5, 5, null]], bucketed: false });
  });

  it("many points: a shared grid of maxPoints slots, each series' min and max per bucket", () => {
    const a = noisyLoss(100_000);
    const b = { xs: a.xs.map((x) => x * 2), ys: a.ys.map((y) => y / 2) }; // twice as long
    const aligned = alignSeries([a, b], 1000);
    expect(aligned.bucketed).toBe(true);
    expect(aligned.x).toHaveLength(1000);
    const finite = (values: Array<number | null>) => values.filter((value): value is number => value !== null);
    expect(Math.max(...finite(aligned.ys[0]!))).toBe(Math.max(...a.ys));
    expect(Math.min(...finite(aligned.ys[1]!))).toBe(Math.min(...b.ys));
    // The shorter run covers the first half of the axis only.
    expect(finite(aligned.ys[0]!.slice(520))).toEqual([]);
    expect(finite(aligned.ys[1]!.slice(900)).length).toBeGreaterThan(50);
  });
});
