/**
 * renderReport(runs): the comparison as one self-contained HTML page (no network: uPlot, its CSS,
 * the data and the page's script are all inside). It holds the compare table, one chart per
 * metric over steps with the runs overlaid (metrics.jsonl), the GPU figures over time
 * (system.jsonl), and each run's status and hardware. Series are decimated to min/max per bucket
 * (decimate.ts) so 50 runs of 100,000 steps make a page of a few MB that draws in well under a
 * second.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { checkOptions, optionNames } from "../options.js";
import { formatBytes } from "../text.js";
import { MAX_METRICS_PER_STEP } from "../experiment/metrics-reader.js";
import { alignSeries, MinMaxDecimator, type Series } from "./decimate.js";
import { formatValue } from "./diff-runs.js";
import { compareColumns, compareRows, COMPARE_OPTIONS, type CompareOptions } from "./compare-table.js";
import type { LoadedRun, RunSystemSample } from "./load-run.js";
import { REPORT_SCRIPT } from "./report-script.js";
import { formatCount, formatDuration, formatGit, formatGpu, formatNumber, formatStart, runFacts } from "./run-facts.js";

export interface ReportOptions extends CompareOptions {
  /** The page's title (default "config-tracker: N runs compared"). */
  title?: string;
  /** Points kept per series and chart (default 2000: min and max for each of 1000 buckets). */
  maxPoints?: number;
  /** Charts only for these metrics (default: every metric any run logged). */
  chartMetrics?: string[];
  /** Shown as the time the page was made (default now). */
  generatedAt?: Date;
  /** Called with a warning line (an unreadable log), besides listing it on the page. */
  onWarning?: (message: string) => void;
}

/** Metric charts on one page at most (a log of per-layer metrics names thousands): the rest are listed as left out. */
export const MAX_METRIC_CHARTS = 200;
/** GPU series charted at most (one per run and GPU): a log naming more GPUs has the rest left out. */
const MAX_GPU_SERIES = 256;
/** Names left out that are counted one by one in the warning (past it: "N+"). */
const MAX_LEFT_OUT_NAMES = 100_000;

/** What the GPU charts show, from each system.jsonl sample's per-GPU figures. */
const GPU_CHARTS = [
  { figure: "utilization_gpu_percent", title: "GPU utilisation (kernel running)", unit: "%", scale: 1 },
  { figure: "sm_active_percent", title: "SM active (GPM)", unit: "%", scale: 1 },
  { figure: "memory_used_bytes", title: "GPU memory used", unit: " GiB", scale: 2 ** 30 },
  { figure: "power_watts", title: "GPU power", unit: " W", scale: 1 },
  { figure: "temperature_c", title: "GPU temperature", unit: " °C", scale: 1 },
] as const;

/**
 * What the CPU and memory charts show, from each system.jsonl sample's process tree and host
 * (sampled on every machine, GPUs or none).
 */
const PROCESS_CHARTS = [
  { figure: "cpu_percent", title: "CPU of the process tree", unit: "%", scale: 1 },
  { figure: "rss_bytes", title: "Memory of the process tree (RSS)", unit: " GiB", scale: 2 ** 30 },
  { figure: "host_memory_used_bytes", title: "Host memory in use", unit: " GiB", scale: 2 ** 30 },
] as const;

function processFigure(sample: RunSystemSample, figure: (typeof PROCESS_CHARTS)[number]["figure"]): unknown {
  if (figure !== "host_memory_used_bytes") return sample.process_tree?.[figure];
  const { memory_total_bytes: total, memory_available_bytes: available } = sample.host ?? {};
  return typeof total === "number" && typeof available === "number" ? total - available : null;
}

/** Series over time (one per run and GPU, or run and node), each figure decimated as it is read. */
type TimeSeries = { runIndex: number; label: string; dash?: number[]; figures: Map<string, MinMaxDecimator> };

/** Adds a sample's CPU and memory figures to the series of its run and node (or rank). */
function addProcessFigures(series: Map<string, TimeSeries>, runIndex: number, label: string, sample: RunSystemSample, seconds: number, maxPoints: number): void {
  let entry = series.get(label);
  for (const chart of PROCESS_CHARTS) {
    const value = processFigure(sample, chart.figure);
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    if (entry === undefined) series.set(label, (entry = { runIndex, label, figures: new Map(), ...(series.size > 0 ? { dash: [6, 3 + series.size] } : {}) }));
    let decimator = entry.figures.get(chart.figure);
    if (decimator === undefined) entry.figures.set(chart.figure, (decimator = new MinMaxDecimator(maxPoints)));
    decimator.add(seconds, value / chart.scale);
  }
}

/** One chart per figure that some series has, in the order of `specs`. */
function timeCharts(
  idPrefix: string,
  specs: ReadonlyArray<{ figure: string; title: string; unit: string }>,
  series: TimeSeries[],
  maxPoints: number,
): ChartData[] {
  const charts: ChartData[] = [];
  specs.forEach((chart, index) => {
    const present = series.filter((entry) => entry.figures.has(chart.figure));
    if (present.length === 0) return;
    const aligned = alignSeries(
      present.map((entry) => (entry.figures.get(chart.figure) as MinMaxDecimator).series()),
      maxPoints,
    );
    charts.push({
      id: `${idPrefix}-${index}`,
      title: chart.title,
      group: "time",
      xLabel: "seconds since the run's first sample",
      yLabel: chart.title,
      unit: chart.unit,
      log: false,
      bucketed: aligned.bucketed,
      x: aligned.x.map((x) => compact(x) as number),
      series: present.map((entry, i) => ({
        label: entry.label,
        color: runColor(entry.runIndex),
        ...(entry.dash ? { dash: entry.dash } : {}),
        values: (aligned.ys[i] as Array<number | null>).map(compact),
      })),
    });
  });
  return charts;
}

interface ChartData {
  id: string;
  title: string;
  group: "steps" | "time";
  xLabel: string;
  yLabel: string;
  unit?: string;
  /** On a log scale (values carry their log10): all positive, over three decades apart (a diverged loss). */
  log: boolean;
  bucketed: boolean;
  x: number[];
  series: Array<{ label: string; color: string; dash?: number[]; values: Array<number | null> }>;
}

/** A log scale helps when all values are positive and the largest is over 1000 times the smallest. */
function wantsLog(ys: Array<Array<number | null>>): boolean {
  let low = Infinity;
  let high = -Infinity;
  for (const row of ys) {
    for (const value of row) {
      if (value === null) continue;
      if (value <= 0) return false;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  return Number.isFinite(low) && high / low > 1000;
}

/** Distinct colours for up to hundreds of runs: hues a golden angle apart, two lightnesses. */
export function runColor(index: number): string {
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue}, 70%, ${index % 2 === 0 ? 42 : 55}%)`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] as string);

/** Six significant digits: the page's JSON is mostly numbers, and a chart shows no more. */
const compact = (value: number | null) => (value === null ? null : Number(value.toPrecision(6)));

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (uplotAssets === undefined) {
    const require = createRequire(import.meta.url);
    uplotAssets = {
      js: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
      css: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
    };
  }
  return uplotAssets;
}

/** Text that goes inside a <script> or <style> element: nothing in it can close the element. */
const escapeForScriptTag = (text: string) => text.replace(/<\/(script|style)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");

const REPORT_OPTIONS = [
  ...COMPARE_OPTIONS,
  ...optionNames<Omit<ReportOptions, keyof CompareOptions>>({ title: true, maxPoints: true, chartMetrics: true, generatedAt: true, onWarning: true }),
];

export async function renderReport(runs: LoadedRun[], options: ReportOptions = {}): Promise<string> {
  checkOptions("renderReport(runs, options)", options, REPORT_OPTIONS);
  const maxPoints = options.maxPoints ?? 2000;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  for (const run of runs) for (const warning of run.warnings) warn(warning);

  // Metrics: every run's log streamed once, each charted metric decimated as it goes. The names
  // charted are chosen as the logs are read (the ones asked for, else the comparison's columns,
  // then the first others met, up to MAX_METRIC_CHARTS): memory follows what is drawn, not how
  // many names a log holds.
  const columns = compareColumns(runs, options);
  const preferred = [...new Set(options.chartMetrics ?? columns.metrics)].slice(0, MAX_METRIC_CHARTS);
  const reserved = new Set(preferred);
  const others: string[] = [];
  const followed = new Set(reserved);
  const leftOut = new Set<string>();
  let leftOutUncounted = false;
  const follows = (name: string): boolean => {
    if (followed.has(name)) return true;
    if (options.chartMetrics === undefined && followed.size < MAX_METRIC_CHARTS) {
      followed.add(name);
      others.push(name);
      return true;
    }
    if (leftOut.size < MAX_LEFT_OUT_NAMES) leftOut.add(name);
    else leftOutUncounted = true;
    return false;
  };
  const perRun: Array<Map<string, MinMaxDecimator>> = [];
  for (const run of runs) {
    const decimators = new Map<string, MinMaxDecimator>();
    perRun.push(decimators);
    if (!run.files.metrics) continue;
    const stream = run.metrics();
    try {
      for await (const record of stream) {
        for (const name in record) {
          if (name === "step" || name === "time") continue;
          let decimator = decimators.get(name);
          if (decimator === undefined) {
            if (!follows(name)) continue;
            decimators.set(name, (decimator = new MinMaxDecimator(maxPoints)));
          }
          decimator.add(record.step, record[name] as number);
        }
      }
      if (stream.stats.skipped_lines > 0) warn(`${stream.path}: ${stream.stats.skipped_lines} line(s) skipped (not a record)`);
      if (stream.stats.values_left_out > 0) {
        warn(`${stream.path}: ${stream.stats.values_left_out} value(s) left out (steps with more than ${MAX_METRICS_PER_STEP} metrics)`);
      }
    } catch (error) {
      warn((error as Error).message);
    }
  }
  const logged = new Set<string>();
  for (const decimators of perRun) for (const name of decimators.keys()) logged.add(name);
  const metricNames = [...preferred, ...others.sort()].filter((name) => logged.has(name));
  if (options.chartMetrics === undefined && leftOut.size > 0) {
    warn(
      `charts: ${metricNames.length} metrics charted (the comparison's, then the first met in the logs), ` +
        `${leftOut.size}${leftOutUncounted ? "+" : ""} more left out (choose them with compare --metrics, or chartMetrics)`,
    );
  }

  const charts: ChartData[] = [];
  metricNames.forEach((name, index) => {
    const series: Series[] = [];
    const meta: ChartData["series"] = [];
    perRun.forEach((decimators, runIndex) => {
      const decimator = decimators.get(name);
      if (decimator === undefined) return;
      series.push(decimator.series());
      meta.push({ label: (runs[runIndex] as LoadedRun).name, color: runColor(runIndex), values: [] });
    });
    const aligned = alignSeries(series, maxPoints);
    const log = wantsLog(aligned.ys);
    aligned.ys.forEach((values, i) => {
      (meta[i] as ChartData["series"][number]).values = values.map((value) => compact(log && value !== null ? Math.log10(value) : value));
    });
    charts.push({
      id: `metric-${index}`,
      title: name,
      group: "steps",
      xLabel: "step",
      yLabel: name,
      log,
      bucketed: aligned.bucketed,
      x: aligned.x.map((x) => compact(x) as number),
      series: meta,
    });
  });

  // GPU, CPU and memory figures over time: one series per run and GPU (and per run and node for
  // its processes and host), time from the run's first sample.
  type GpuSeries = TimeSeries;
  const gpuSeries: GpuSeries[] = [];
  let gpusLeftOut = false;
  const processSeries: TimeSeries[] = [];
  for (const [runIndex, run] of runs.entries()) {
    if (run.files.system.length === 0) continue;
    const byGpu = new Map<string, GpuSeries>();
    const byNode = new Map<string, TimeSeries>();
    let first: number | null = null;
    try {
      for await (const sample of run.system()) {
        first ??= sample.time;
        const node = typeof sample.node === "number" ? sample.node : 0;
        const rank = sample.rank === undefined ? "" : `rank${sample.rank} `;
        addProcessFigures(byNode, runIndex, `${run.name}${node > 0 ? ` node${node}` : ""}${rank ? ` ${rank.trim()}` : ""}`, sample, sample.time - first, maxPoints);
        for (const gpu of sample.gpus) {
          const key = `${node}:${rank}:${gpu.index}`;
          let entry = byGpu.get(key);
          if (entry === undefined) {
            if (gpuSeries.length + byGpu.size >= MAX_GPU_SERIES) {
              gpusLeftOut = true;
              continue;
            }
            const label = `${run.name} ${node > 0 ? `node${node} ` : ""}${rank}gpu${gpu.index}`;
            entry = { runIndex, label, figures: new Map(), ...(byGpu.size > 0 ? { dash: [6, 3 + byGpu.size] } : {}) };
            byGpu.set(key, entry);
          }
          for (const chart of GPU_CHARTS) {
            const value = gpu[chart.figure];
            if (typeof value !== "number") continue;
            let decimator = entry.figures.get(chart.figure);
            if (decimator === undefined) entry.figures.set(chart.figure, (decimator = new MinMaxDecimator(maxPoints)));
            decimator.add(sample.time - first, value / chart.scale);
          }
        }
      }
    } catch (error) {
      warn((error as Error).message);
    }
    gpuSeries.push(...byGpu.values());
    processSeries.push(...byNode.values());
  }
  if (gpusLeftOut) warn(`charts: ${MAX_GPU_SERIES} GPU series charted, GPUs past them left out`);
  charts.push(...timeCharts("gpu", GPU_CHARTS, gpuSeries, maxPoints));
  charts.push(...timeCharts("process", PROCESS_CHARTS, processSeries, maxPoints));

  const title = options.title ?? `config-tracker: ${runs.length} run${runs.length === 1 ? "" : "s"} compared`;
  const generated = (options.generatedAt ?? new Date()).toISOString();
  const assets = uplot();
  const data = JSON.stringify({ charts }).replace(/</g, "\\u003c");
  const chartHtml = (shown: (chart: ChartData) => boolean) =>
    charts
      .filter(shown)
      .map(
        (chart) =>
          `<figure class="chart" data-metric="${escapeHtml(chart.title)}"><figcaption>${escapeHtml(chart.title)}${
            [chart.log ? "log scale" : null, chart.bucketed ? "min and max per pixel-wide bucket" : null]
              .filter((note) => note !== null)
              .map((note) => ` <span class="note">(${note})</span>`)
              .join("")
          }</figcaption><div id="${chart.id}" class="plot"></div></figure>`,
      )
      .join("\n");
  const metricCharts = chartHtml((chart) => chart.group === "steps");
  const gpuCharts = chartHtml((chart) => chart.id.startsWith("gpu-"));
  const processCharts = chartHtml((chart) => chart.id.startsWith("process-"));

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="config-tracker">
<title>${escapeHtml(title)}</title>
<style>${escapeForScriptTag(assets.css)}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p class="note">Made ${escapeHtml(generated)} from ${runs.length} run folder${runs.length === 1 ? "" : "s"}. Charts: drag to zoom, double-click to reset, click a name in a legend to hide it.</p></header>
${warnings.length > 0 ? `<section class="warnings"><h2>Warnings</h2><ul>${warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join("")}</ul></section>` : ""}
<section><h2>Comparison</h2>
${compareTableHtml(runs, columns)}
</section>
<section><h2>Metrics over steps</h2>
${metricCharts || '<p class="note">No run has a metrics.jsonl.</p>'}
</section>
<section><h2>GPUs over time</h2>
${gpuCharts || '<p class="note">No run has GPU samples (system.jsonl).</p>'}
</section>
<section><h2>CPU and memory over time</h2>
${processCharts || '<p class="note">No run has system samples (system.jsonl).</p>'}
</section>
<section><h2>Runs</h2>
${runsTableHtml(runs)}
</section>
<script>${escapeForScriptTag(assets.js)}</script>
<script type="application/json" id="report-data">${data}</script>
<script>${escapeForScriptTag(REPORT_SCRIPT)}</script>
</body>
</html>
`;
}

function swatch(index: number): string {
  return `<span class="swatch" style="background:${runColor(index)}"></span>`;
}

function compareTableHtml(runs: LoadedRun[], columns: ReturnType<typeof compareColumns>): string {
  const rows = compareRows(runs, columns);
  const head = ["run", "status", ...columns.configKeys, ...columns.metrics, "GPU", "git"];
  const body = rows
    .map(
      (row, index) =>
        `<tr><td class="run">${swatch(index)}${escapeHtml(row.name)}</td><td class="status ${row.status}">${row.status}</td>${columns.configKeys
          .map((key) => `<td>${row.config[key] === undefined ? "-" : escapeHtml(formatValue(row.config[key]))}</td>`)
          .join("")}${columns.metrics.map((name) => `<td class="num">${formatNumber(row.metrics[name])}</td>`).join("")}<td>${escapeHtml(
          row.gpu,
        )}</td><td>${escapeHtml(row.git)}</td></tr>`,
    )
    .join("\n");
  const more =
    columns.configKeysLeftOut > 0 ? `<p class="note">${columns.configKeysLeftOut} more config keys differ and are not shown.</p>` : "";
  const same = runs.length > 1 && columns.configKeys.length === 0 ? `<p class="note">The runs' configs are the same.</p>` : "";
  return `<table class="compare"><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join("")}</tr></thead>
<tbody>
${body}
</tbody></table>${more}${same}`;
}

function runsTableHtml(runs: LoadedRun[]): string {
  const head = ["run", "status", "started", "duration", "host", "GPUs", "driver / CUDA", "torch", "git", "parameters", "folder"];
  const body = runs
    .map((run, index) => {
      const facts = runFacts(run);
      const hw = run.config.hardware;
      const state = run.state;
      const status = `${run.status}${state?.lost_reason ? ` (${state.lost_reason})` : ""}${
        typeof state?.exit_code === "number" ? ` (exit ${state.exit_code})` : ""
      }${state?.signal ? ` (${state.signal})` : ""}`;
      const memory = hw.gpus?.[0]?.memory_total_bytes ?? null;
      const cells = [
        escapeHtml(status),
        escapeHtml(formatStart(facts.started_at)),
        formatDuration(facts.duration_seconds),
        escapeHtml(String(run.config.environment?.hostname ?? state?.host ?? "-")),
        escapeHtml(`${formatGpu(facts.gpu)}${memory ? `, ${formatBytes(memory)}` : ""}`),
        escapeHtml(`${hw.driver_version ?? "-"} / ${hw.cuda_version ?? "-"}`),
        escapeHtml(hw.torch_version ?? "-"),
        escapeHtml(formatGit(facts.git)),
        formatCount(facts.parameters),
        escapeHtml(run.dir),
      ];
      return `<tr><td class="run">${swatch(index)}${escapeHtml(run.name)}</td>${cells.map((cell) => `<td>${cell}</td>`).join("")}</tr>`;
    })
    .join("\n");
  return `<table class="runs"><thead><tr>${head.map((cell) => `<th>${cell}</th>`).join("")}</tr></thead>
<tbody>
${body}
</tbody></table>`;
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; padding: 0 24px 48px; max-width: 1400px; color: #1d1f23; background: #fff; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.note { color: #666; font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; display: block; overflow-x: auto; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f6f7f9; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.status.finished { color: #1a7f37; } td.status.failed, td.status.lost { color: #cf222e; } td.status.interrupted { color: #9a6700; } td.status.running { color: #0969da; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.chart { margin: 12px 0 20px; }
.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.plot { width: 100%; }
.u-legend { font-size: 11px; text-align: left; max-height: 120px; overflow-y: auto; }
.u-legend .u-series { padding: 0 6px; }
.warnings { color: #9a6700; }
`;
