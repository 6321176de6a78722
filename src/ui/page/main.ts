/**
 * The dashboard's page: the runs table with its filter, the charts of the selected runs, a run's
 * page and the diff of two runs, all kept current by the server's events. `window.dashboard`
 * holds the parts for the browser console (and for the tests and the benchmark).
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";

import { ChartsPanel } from "./charts.js";
import { RunData } from "./data.js";
import { DiffPage } from "./diff.js";
import { fill, h } from "./dom.js";
import { RunPage } from "./run-page.js";
import { readState, state, update } from "./state.js";
import { RunsTable } from "./table.js";

const data = new RunData();
const summary = h("span", { class: "summary" });
const filterError = h("span", { class: "filter-error warn" });
const table = new RunsTable(
  data,
  {
    selection: (names) => {
      update({ runs: names });
      table.refresh();
      drawSelection();
      void charts.load();
    },
    open: (name) => openRun(name),
  },
  summary,
  filterError,
);
const charts = new ChartsPanel(() => state.runs);
const runCharts: ChartsPanel = new ChartsPanel((): string[] => (runPage.name ? [runPage.name] : []));
const runPage: RunPage = new RunPage(
  () => showTable(true),
  (other) => openDiff(runPage.name, other),
  runCharts.element,
  () => data.rows.map((row) => row.name),
);
const diffPage = new DiffPage(() => showTable(true), (name) => openRun(name));

let filterTimer = 0;
const filterInput = h("input", {
  type: "search",
  class: "filter",
  placeholder: "filter: words in the name, val_loss<2, config.lr>=1e-4, status=running, gpu~H100, tag=baseline",
  value: state.filter,
  spellcheck: false,
  oninput: () => {
    window.clearTimeout(filterTimer);
    filterTimer = window.setTimeout(() => {
      update({ filter: filterInput.value });
      table.refresh();
    }, 120);
  },
});
const selectionBox = h("span", { class: "selection" });

function drawSelection(): void {
  const count = state.runs.length;
  fill(
    selectionBox,
    count === 2 ? h("button", { class: "diff-selected", onclick: () => openDiff(state.runs[0] as string, state.runs[1] as string) }, "diff the two") : "",
    count > 0 ? h("button", { class: "clear", onclick: () => table.events.selection([]) }, "clear selection") : "",
  );
}

function columnPicker(): HTMLElement {
  const body = h("div", { class: "picker-body" });
  const search = h("input", { type: "search", placeholder: "find a column", oninput: () => draw() });
  const draw = () => {
    const shown = new Set(table.visibleOptional());
    const wanted = search.value.toLowerCase();
    const toggle = (id: string) => {
      const next = shown.has(id) ? [...shown].filter((item) => item !== id) : [...shown, id];
      update({ cols: next });
      table.refresh();
      draw();
    };
    const option = (id: string, label: string, extra: string) =>
      h("label", { class: "option" }, h("input", { type: "checkbox", checked: shown.has(id), onchange: () => toggle(id) }), ` ${label} `, h("span", { class: "note" }, extra));
    const metrics = data.metrics.filter((entry) => entry.name.toLowerCase().includes(wanted)).slice(0, 300);
    const config = data.config.filter((entry) => entry.key.toLowerCase().includes(wanted)).slice(0, 300);
    fill(
      body,
      h("h4", null, "metrics (last and best)"),
      metrics.map((entry) => option(`m:${entry.name}`, entry.name, `${entry.runs} runs`)),
      h("h4", null, "config keys that differ"),
      config.map((entry) => option(`c:${entry.key}`, entry.key, `${entry.values} values`)),
      h("button", { onclick: () => (update({ cols: null }), table.refresh(), draw()) }, "back to the defaults"),
    );
  };
  const details = h("details", { class: "picker", ontoggle: () => draw() }, h("summary", null, "columns"), search, body);
  return details;
}

const groupBox = h(
  "label",
  { title: "group the runs by their folder (a sweep)" },
  h("input", { type: "checkbox", checked: state.group, onchange: (event: Event) => (update({ group: (event.target as HTMLInputElement).checked }), table.refresh()) }),
  " group by folder",
);

const tableView = h("div", { class: "view table-view" }, table.element, h("h3", null, "Charts of the selected runs"), charts.element);
const runView = h("div", { class: "view run-view" }, runPage.element);
const diffView = h("div", { class: "view diff-view" }, diffPage.element);
const status = h("span", { class: "live", title: "live updates from the server" }, "●");

document.body.append(
  h(
    "header",
    null,
    h("h1", null, "config-tracker"),
    filterInput,
    summary,
    filterError,
    groupBox,
    columnPicker(),
    selectionBox,
    status,
  ),
  h("main", null, tableView, runView, diffView),
);

function showOnly(view: HTMLElement): void {
  for (const candidate of [tableView, runView, diffView]) candidate.hidden = candidate !== view;
}

function showTable(push: boolean): void {
  update({ view: "table" }, push);
  showOnly(tableView);
  table.refresh();
}

function openRun(name: string, push = true): void {
  update({ view: "run", run: name }, push);
  showOnly(runView);
  window.scrollTo(0, 0);
  void runPage.open(name).then(() => runCharts.load());
}

function openDiff(a: string, b: string, push = true): void {
  update({ view: "diff", a, b }, push);
  showOnly(diffView);
  void diffPage.show(a, b);
}

function route(): void {
  Object.assign(state, readState());
  filterInput.value = state.filter;
  if (state.view === "run" && state.run) openRun(state.run, false);
  else if (state.view === "diff" && state.a && state.b) openDiff(state.a, state.b, false);
  else showTable(false);
}
window.addEventListener("popstate", route);

// Live: the server says what changed; the page asks for it.
let chartsTimer = 0;
function listen(): void {
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => status.classList.add("on"));
  events.addEventListener("error", () => status.classList.remove("on"));
  events.addEventListener("table", () => void data.refresh());
  // After a reconnection: what changed while the connection was down.
  events.addEventListener("hello", () => {
    if (data.version >= 0) void data.refresh();
  });
  events.addEventListener("run", (event) => {
    const { name, parts } = JSON.parse((event as MessageEvent<string>).data) as { name: string; parts: string[] };
    if (parts.includes("log") && state.view === "run" && runPage.name === name) void runPage.loadLog();
    if (parts.includes("metrics") || parts.includes("system")) {
      // At most one chart reload a second per page.
      if (chartsTimer !== 0) return;
      chartsTimer = window.setTimeout(() => {
        chartsTimer = 0;
        if (state.view === "table") charts.refreshIfShown(name);
        if (state.view === "run") runCharts.refreshIfShown(name);
      }, 1000);
    }
  });
}

data.onChange((changed) => {
  if (state.view === "table") table.refresh();
  if (changed !== null && state.view === "run" && changed.includes(runPage.name)) void runPage.reload();
});

const ready = (async () => {
  await data.load(null);
  route();
  drawSelection();
  if (state.view === "table") await charts.load();
  listen();
  window.setInterval(() => table.tickDurations(), 1000);
})();

declare global {
  interface Window {
    dashboard: {
      data: RunData;
      table: RunsTable;
      charts: ChartsPanel;
      runCharts: ChartsPanel;
      runPage: RunPage;
      diffPage: DiffPage;
      ready: Promise<void>;
      /** Sets the filter and redraws the table at once (as typing does after a pause). */
      setFilter(text: string): void;
    };
  }
}
window.dashboard = {
  data,
  table,
  charts,
  runCharts,
  runPage,
  diffPage,
  ready,
  setFilter(text: string) {
    filterInput.value = text;
    update({ filter: text });
    table.refresh();
  },
};
ready.catch((error: unknown) => {
  document.body.append(h("p", { class: "warn fatal" }, `could not load the runs: ${(error as Error).message}`));
});
