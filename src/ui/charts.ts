/**
 * Chart data for the selected runs (`GET /api/metrics`, `GET /api/system`): one chart per metric
 * (or per system figure) with the runs overlaid on one x axis. Each run's series is decimated on
 * the server to min and max per bucket, as the compare report does (spikes stay), then the runs
 * are put on one x axis (alignSeries). x is the step, the time since the run started
 * ("relative", seconds from config.json's timestamp), or the wall time (unix seconds). A request
 * with `from` / `to` (a zoomed chart) decimates the points of that range, not the overview.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

import { OVERVIEW_POINTS, redecimate, type XKind } from "./columns.js";
import { GPU_FIGURES, PROCESS_FIGURES, type LogKind } from "./log-columns.js";
import type { LogStore, LogSummary } from "./log-store.js";
import type { RunRow } from "./run-row.js";
import { shownStatus } from "./table.js";
import { alignSeries, ConfigTrackerError, isNodeSystemLog, METRICS_FILE, type Series } from "./views.js";

export type XAxis = "step" | "relative" | "time";

export interface ChartRequest {
  runs: RunRow[];
  /** Metric names (or system figures); default: every one the runs have, up to `limit`. */
  keys?: string[];
  x: XAxis;
  points: number;
  from?: number;
  to?: number;
}

export const MAX_POINTS = 20_000;
export const MAX_CHARTS = 2_000;

export function checkChartRequest(x: string | null, points: string | null, from: string | null, to: string | null): Pick<ChartRequest, "x" | "points" | "from" | "to"> {
  const axis = x ?? "step";
  if (axis !== "step" && axis !== "relative" && axis !== "time") throw new ConfigTrackerError("INVALID_ARGUMENT", `x: step, relative or time (got ${JSON.stringify(axis)})`);
  const count = points === null ? 2000 : Number(points);
  if (!Number.isInteger(count) || count < 4 || count > MAX_POINTS) throw new ConfigTrackerError("INVALID_ARGUMENT", `points: a whole number from 4 to ${MAX_POINTS}`);
  const bound = (text: string | null, name: string) => {
    if (text === null || text === "") return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new ConfigTrackerError("INVALID_ARGUMENT", `${name}: a number`);
    return value;
  };
  return { x: axis, points: count, from: bound(from, "from"), to: bound(to, "to") };
}

/** When a run started, in unix seconds: "relative" x counts from it. */
function startOf(row: RunRow, summaries: Array<LogSummary | null>): number {
  const start = Date.parse(row.started_at);
  if (!Number.isNaN(start)) return start / 1000;
  const first = Math.min(...summaries.map((summary) => summary?.firstTime ?? Infinity).filter(Number.isFinite));
  return Number.isFinite(first) ? first : 0;
}

function systemLogs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => isNodeSystemLog(name))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

interface Found {
  row: RunRow;
  start: number;
  summaries: LogSummary[];
}

async function gather(store: LogStore, rows: RunRow[], kind: LogKind, problems: string[]): Promise<Found[]> {
  const requests: Array<{ path: string; kind: LogKind; growing: boolean; run: number }> = [];
  rows.forEach((row, run) => {
    const growing = shownStatus(row).status === "running";
    const paths = kind === "metrics" ? [join(row.dir, METRICS_FILE)] : systemLogs(row.dir);
    for (const path of paths) requests.push({ path, kind, growing, run });
  });
  const summaries = await store.summaries(requests, problems);
  return rows.map((row, run) => {
    const mine = summaries.filter((_, index) => (requests[index] as (typeof requests)[number]).run === run);
    return { row, start: startOf(row, mine), summaries: mine.filter((summary): summary is LogSummary => summary !== null) };
  });
}

/** A series of one run, as the request wants it (x shifted for "relative"); `decimated`: points were left out. */
async function seriesOf(store: LogStore, found: Found, summary: LogSummary, name: string, request: ChartRequest): Promise<{ series: Series; decimated: boolean } | null> {
  // System samples have no step: their charts count time from the start instead.
  const axis = summary.kind === "system" && request.x === "step" ? "relative" : request.x;
  const xKind: XKind = axis === "step" ? "step" : "time";
  const shift = axis === "relative" ? found.start : 0;
  const from = request.from === undefined ? -Infinity : request.from + (xKind === "time" ? shift : 0);
  const to = request.to === undefined ? Infinity : request.to + (xKind === "time" ? shift : 0);
  let series: Series | null;
  const overview = summary.overviews.get(name);
  if (overview === undefined) return null;
  if (request.from === undefined && request.to === undefined && request.points <= OVERVIEW_POINTS) {
    series = redecimate(overview[xKind], from, to, request.points);
  } else {
    series = await store.range(summary.path, summary.kind, name, xKind, from, to, request.points);
  }
  if (series === null) return null;
  const whole = request.from === undefined && request.to === undefined;
  const decimated = whole ? (summary.counts.get(name) ?? 0) > series.xs.length : series.xs.length >= request.points - 1;
  if (shift !== 0 && xKind === "time") series = { xs: series.xs.map((x) => x - shift), ys: series.ys };
  return { series, decimated };
}

export interface ChartData {
  /** The metric, or for system charts the figure (`utilization_gpu_percent`, `process/cpu_percent`, ...). */
  name: string;
  x: number[];
  series: Array<{ run: string; label: string; values: Array<number | null> }>;
  /** The runs share buckets of x (min and max of each run per bucket) rather than their own x values. */
  bucketed: boolean;
  /** Points were left out (min and max per bucket kept): zoom in for the rest. */
  decimated: boolean;
}

/** Metric charts: one per metric, one series per run. */
export async function metricCharts(store: LogStore, request: ChartRequest): Promise<Record<string, unknown>> {
  const problems: string[] = [];
  const found = await gather(store, request.runs, "metrics", problems);
  const every = new Set<string>();
  for (const { summaries } of found) for (const summary of summaries) for (const name of summary.names) every.add(name);
  const names = (request.keys ?? [...every].sort()).filter((name) => every.has(name)).slice(0, MAX_CHARTS);
  const charts: ChartData[] = [];
  for (const name of names) {
    const series: Series[] = [];
    const meta: ChartData["series"] = [];
    let decimated = false;
    for (const entry of found) {
      const summary = entry.summaries[0];
      if (summary === undefined || !summary.overviews.has(name)) continue;
      const one = await seriesOf(store, entry, summary, name, request);
      if (one === null) continue;
      series.push(one.series);
      decimated ||= one.decimated;
      meta.push({ run: entry.row.name, label: entry.row.name, values: [] });
    }
    charts.push(chart(name, series, meta, request.points, decimated));
  }
  return {
    x: request.x,
    points: request.points,
    metrics: [...every].sort(),
    charts,
    skipped_lines: Object.fromEntries(found.map((entry) => [entry.row.name, entry.summaries[0]?.skippedLines ?? 0])),
    problems,
  };
}

/** The figures the system charts show, in order. */
export const SYSTEM_FIGURES = [...GPU_FIGURES, ...PROCESS_FIGURES.map((figure) => `process/${figure}`)];

/** System charts: one per figure, one series per run and GPU (and node). */
export async function systemCharts(store: LogStore, request: ChartRequest): Promise<Record<string, unknown>> {
  const problems: string[] = [];
  const found = await gather(store, request.runs, "system", problems);
  const wanted = request.keys ?? SYSTEM_FIGURES;
  const charts: ChartData[] = [];
  for (const figure of wanted.slice(0, MAX_CHARTS)) {
    const series: Series[] = [];
    const meta: ChartData["series"] = [];
    let decimated = false;
    for (const entry of found) {
      for (const summary of entry.summaries) {
        for (const name of summary.names) {
          // "gpu0/power_watts", "node1/gpu0/power_watts", "process/cpu_percent", "node1/process/cpu_percent"
          const match = /^(node\d+\/)?(.*)$/.exec(name) as RegExpExecArray;
          const rest = match[2] as string;
          const own = figure.startsWith("process/") ? rest === figure : rest.endsWith(`/${figure}`) && rest.startsWith("gpu");
          if (!own) continue;
          const one = await seriesOf(store, entry, summary, name, request);
          if (one === null) continue;
          series.push(one.series);
          decimated ||= one.decimated;
          const where = name.slice(0, name.length - figure.length).replace(/\/$/, "");
          meta.push({ run: entry.row.name, label: where === "" ? entry.row.name : `${entry.row.name} ${where}`, values: [] });
        }
      }
    }
    if (series.length > 0) charts.push(chart(figure, series, meta, request.points, decimated));
  }
  return { x: request.x === "step" ? "relative" : request.x, points: request.points, charts, problems };
}

function chart(name: string, series: Series[], meta: ChartData["series"], points: number, decimated: boolean): ChartData {
  const aligned = alignSeries(series, points);
  aligned.ys.forEach((values, index) => ((meta[index] as ChartData["series"][number]).values = values));
  return { name, x: aligned.x, series: meta, bucketed: aligned.bucketed, decimated: decimated || aligned.bucketed };
}
