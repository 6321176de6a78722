/**
 * Charts of the selected runs: one uPlot chart per metric with the runs overlaid, then the system
 * figures (GPU utilisation, SM activity, memory, power, temperature; the process tree's CPU and
 * memory). The server decimates (min and max per bucket: spikes stay); the page smooths with
 * TensorBoard's debiased exponential moving average, draws on a log scale when asked, and when a
 * chart is zoomed (drag; double-click resets) asks for the points of that range.
 */
import uPlot from "uplot";

import { get } from "./api.js";
import { fill, h } from "./dom.js";
import { state, update } from "./state.js";
import { formatNumber } from "./shared.js";

interface ChartData {
  name: string;
  x: number[];
  series: Array<{ run: string; label: string; values: Array<number | null> }>;
  bucketed: boolean;
  decimated: boolean;
}

interface ChartsPayload {
  x: string;
  metrics?: string[];
  charts: ChartData[];
  problems: string[];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

/** A run's colour, by its place in the selection: ten distinct ones, then hues spread by the golden angle. */
export function colorOf(index: number): string {
  if (index < PALETTE.length) return PALETTE[index] as string;
  return `hsl(${Math.round((index * 137.5) % 360)}, 65%, ${index % 2 ? 38 : 52}%)`;
}

/**
 * TensorBoard's smoothing: an exponential moving average divided by (1 - weight^n), so the first
 * points are not pulled toward zero. Gaps and non-finite values are left as they are.
 */
export function smooth(values: Array<number | null>, weight: number): Array<number | null> {
  if (weight <= 0) return values;
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - Math.pow(weight, count));
  });
}

const SYSTEM_TITLES: Record<string, { title: string; scale?: number; unit?: string }> = {
  utilization_gpu_percent: { title: "GPU utilisation (kernel running)", unit: "%" },
  sm_active_percent: { title: "SM active (GPM)", unit: "%" },
  memory_used_bytes: { title: "GPU memory used", scale: 2 ** 30, unit: " GiB" },
  power_watts: { title: "GPU power", unit: " W" },
  temperature_c: { title: "GPU temperature", unit: " °C" },
  "process/cpu_percent": { title: "CPU of the run's processes", unit: "%" },
  "process/rss_bytes": { title: "memory of the run's processes (RSS)", scale: 2 ** 30, unit: " GiB" },
};

const number = (value: number) => {
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(1) : String(+value.toPrecision(5));
};

function clock(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = Math.floor(s % 60);
  return hours > 0 ? `${sign}${hours}:${String(minutes).padStart(2, "0")}:${String(rest).padStart(2, "0")}` : `${sign}${minutes}:${String(rest).padStart(2, "0")}`;
}

interface Drawn {
  plot: uPlot;
  data: ChartData;
  kind: "metrics" | "system";
  zoomed: boolean;
  /** The x range last asked for. */
  range: string;
}

export class ChartsPanel {
  readonly element: HTMLElement;
  readonly #metricsBox: HTMLElement;
  readonly #systemBox: HTMLElement;
  readonly #note: HTMLElement;
  readonly #drawn: Drawn[] = [];
  #colors = new Map<string, string>();
  #generation = 0;
  #metricNames: string[] = [];
  #limit = 24;
  /** ms from asking for the data to every chart drawn, last time (the benchmark reads it). */
  lastDrawMs = 0;
  drawnAt = 0;

  constructor(readonly runs: () => string[]) {
    const controls = h(
      "div",
      { class: "chart-controls" },
      h("label", null, "x ", this.#select()),
      h(
        "label",
        { title: "TensorBoard's smoothing: an exponential moving average, debiased" },
        "smoothing ",
        h("input", {
          type: "range",
          min: "0",
          max: "0.99",
          step: "0.01",
          value: String(state.smooth),
          class: "smooth",
          oninput: (event: Event) => {
            update({ smooth: Number((event.target as HTMLInputElement).value) });
            this.#redrawAll();
          },
        }),
      ),
      h(
        "label",
        null,
        h("input", {
          type: "checkbox",
          checked: state.log,
          class: "log",
          onchange: (event: Event) => {
            update({ log: (event.target as HTMLInputElement).checked });
            this.#redrawAll();
          },
        }),
        " log scale",
      ),
      h(
        "label",
        null,
        "metrics ",
        h("input", {
          type: "search",
          placeholder: "name contains",
          value: state.charts,
          class: "chart-filter",
          oninput: (event: Event) => {
            update({ charts: (event.target as HTMLInputElement).value });
            void this.load();
          },
        }),
      ),
    );
    this.#note = h("p", { class: "note" });
    this.#metricsBox = h("div", { class: "charts" });
    this.#systemBox = h("div", { class: "charts" });
    this.element = h("section", { class: "charts-panel" }, controls, this.#note, this.#metricsBox, h("h3", null, "System"), this.#systemBox);
    window.addEventListener("resize", () => {
      for (const { plot } of this.#drawn) plot.setSize({ width: this.#width(), height: plot.height });
    });
  }

  #select(): HTMLSelectElement {
    const select = h(
      "select",
      {
        class: "x-axis",
        onchange: (event: Event) => {
          update({ x: (event.target as HTMLSelectElement).value as typeof state.x });
          void this.load();
        },
      },
      h("option", { value: "step" }, "step"),
      h("option", { value: "relative" }, "relative time"),
      h("option", { value: "time" }, "wall time"),
    );
    select.value = state.x;
    return select;
  }

  #width(): number {
    return Math.max(320, Math.min(760, (this.#metricsBox.clientWidth || 1200) / 2 - 16));
  }

  /** Loads and draws the charts of the selected runs. */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    const runs = this.runs();
    this.#colors = new Map(runs.map((run, index) => [run, colorOf(index)]));
    if (runs.length === 0) {
      this.#destroy();
      fill(this.#note, "Select runs in the table (the boxes on the left) to chart them.");
      fill(this.#metricsBox);
      fill(this.#systemBox);
      return;
    }
    const started = performance.now();
    fill(this.#note, "loading…");
    try {
      const names = await this.#names(runs);
      if (generation !== this.#generation) return;
      const wanted = names.filter((name) => name.toLowerCase().includes(state.charts.toLowerCase()));
      const keys = wanted.slice(0, this.#limit);
      const [metrics, system] = await Promise.all([
        keys.length ? get<ChartsPayload>("/api/metrics", { runs, keys, x: state.x, points: 1600 }) : Promise.resolve({ x: state.x, charts: [], problems: [] }),
        get<ChartsPayload>("/api/system", { runs, x: state.x, points: 1600 }),
      ]);
      if (generation !== this.#generation) return;
      this.#destroy();
      fill(this.#metricsBox, metrics.charts.map((chart) => this.#chart(chart, "metrics")));
      fill(this.#systemBox, system.charts.length ? system.charts.map((chart) => this.#chart(chart, "system")) : h("p", { class: "note" }, "No system samples (system.jsonl) for these runs."));
      const more = wanted.length - keys.length;
      fill(
        this.#note,
        `${runs.length} run${runs.length === 1 ? "" : "s"}, ${wanted.length} of ${names.length} metrics`,
        more > 0 ? h("button", { onclick: () => ((this.#limit += 24), void this.load()) }, ` show ${Math.min(24, more)} more`) : "",
        [...metrics.problems, ...system.problems].length ? h("span", { class: "warn", title: [...metrics.problems, ...system.problems].join("\n") }, " ⚠ some logs could not be read") : "",
        " — drag to zoom, double-click to reset",
      );
      this.lastDrawMs = performance.now() - started;
      this.drawnAt = Date.now();
    } catch (error) {
      if (generation === this.#generation) fill(this.#note, h("span", { class: "warn" }, (error as Error).message));
    }
  }

  /** Every metric the selected runs logged. */
  async #names(runs: string[]): Promise<string[]> {
    const key = runs.join("\u0000");
    if (key === this.#namesKey) return this.#metricNames;
    const payload = await get<ChartsPayload>("/api/metrics", { runs, keys: [""], x: "step", points: 4 });
    this.#namesKey = key;
    this.#metricNames = payload.metrics ?? [];
    return this.#metricNames;
  }
  #namesKey = "";

  /** Reloads the charts when a selected run logged more (called by the live events). */
  refreshIfShown(run: string): void {
    if (this.runs().includes(run)) {
      this.#namesKey = "";
      void this.load();
    }
  }

  #destroy(): void {
    for (const { plot } of this.#drawn.splice(0)) plot.destroy();
  }

  #redrawAll(): void {
    for (const drawn of this.#drawn) drawn.plot.setData(this.#columns(drawn.data, drawn.kind), !drawn.zoomed);
    for (const drawn of this.#drawn) this.#axisFor(drawn);
  }

  #axisFor(drawn: Drawn): void {
    drawn.plot.redraw(false, true);
  }

  #columns(chart: ChartData, kind: "metrics" | "system"): uPlot.AlignedData {
    const scale = kind === "system" ? (SYSTEM_TITLES[chart.name]?.scale ?? 1) : 1;
    const ys = chart.series.map((series) => {
      let values = scale === 1 ? series.values : series.values.map((value) => (value === null ? null : value / scale));
      if (kind === "metrics") values = smooth(values, state.smooth);
      if (state.log) values = values.map((value) => (value !== null && value > 0 ? Math.log10(value) : null));
      return values;
    });
    return [chart.x, ...ys] as uPlot.AlignedData;
  }

  #chart(chart: ChartData, kind: "metrics" | "system"): HTMLElement {
    const holder = h("div", { class: "plot" });
    const meta = kind === "system" ? SYSTEM_TITLES[chart.name] : undefined;
    const title = meta?.title ?? chart.name;
    const figure = h(
      "figure",
      { class: "chart", data: { metric: chart.name, kind } },
      h("figcaption", null, title, chart.decimated ? h("span", { class: "note" }, " (min and max per bucket)") : ""),
      holder,
    );
    const xAxis = kind === "system" && state.x === "step" ? "relative" : state.x;
    const unit = meta?.unit ?? "";
    const show = (value: number | null | undefined) => {
      if (value === null || value === undefined) return "--";
      const real = state.log ? Math.pow(10, value) : value;
      return `${formatNumber(real)}${unit}`;
    };
    const xText = (value: number) => (xAxis === "step" ? formatNumber(value) : xAxis === "relative" ? clock(value) : new Date(value * 1000).toLocaleString());
    const drawn: Drawn = { plot: null as unknown as uPlot, data: chart, kind, zoomed: false, range: "" };
    let zoomTimer = 0;
    const options: uPlot.Options = {
      width: this.#width(),
      height: 240,
      scales: { x: { time: xAxis === "time" } },
      axes: [
        { values: xAxis === "time" ? undefined : (_u, values) => values.map((value) => (value === null ? "" : xText(value))) },
        { size: 72, values: (_u, values) => values.map((value) => (value === null ? "" : state.log ? number(Math.pow(10, value)) : number(value))) },
      ],
      series: [
        { label: xAxis === "step" ? "step" : xAxis === "relative" ? "time" : "wall time", value: (_u, value) => (value === null ? "--" : xText(value)) },
        ...chart.series.map((series) => ({
          label: series.label,
          stroke: this.#colors.get(series.run) ?? "#888",
          width: 1.25,
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, value: number | null) => show(value),
        })),
      ],
      cursor: { sync: { key: `charts-${kind}` }, drag: { x: true, y: false }, focus: { prox: 24 } },
      focus: { alpha: 0.3 },
      legend: { live: true },
      hooks: {
        setScale: [
          (plot, key) => {
            if (key !== "x") return;
            window.clearTimeout(zoomTimer);
            zoomTimer = window.setTimeout(() => void this.#zoom(drawn, plot), 250);
          },
        ],
      },
    };
    drawn.plot = new uPlot(options, this.#columns(chart, kind), holder);
    this.#drawn.push(drawn);
    return figure;
  }

  /** After a zoom: the points of the range shown, from the server. */
  async #zoom(drawn: Drawn, plot: uPlot): Promise<void> {
    const min = plot.scales.x?.min;
    const max = plot.scales.x?.max;
    const full = drawn.data.x;
    if (min === undefined || max === undefined || full.length === 0) return;
    const whole = min <= (full[0] as number) && max >= (full[full.length - 1] as number);
    if (whole && !drawn.zoomed) return;
    const range = whole ? "" : `${min}:${max}`;
    if (range === drawn.range) return;
    drawn.range = range;
    drawn.zoomed = !whole;
    const runs = drawn.data.series.map((series) => series.run).filter((run, index, all) => all.indexOf(run) === index);
    const path = drawn.kind === "metrics" ? "/api/metrics" : "/api/system";
    const payload = await get<ChartsPayload>(path, { runs, keys: [drawn.data.name], x: state.x, points: 1600, ...(whole ? {} : { from: min, to: max }) });
    const fresh = payload.charts[0];
    if (fresh === undefined || !this.#drawn.includes(drawn)) return;
    drawn.data = fresh;
    plot.setData(this.#columns(fresh, drawn.kind), whole);
  }
}
