/**
 * The runs table: filter, sort, groups by sweep folder (foldable), selection, and only the rows in
 * view in the document (10,000 runs scroll as 40 rows do). Rows are one fixed height; the list is
 * a tall empty box in a scrolling one, and the rows in view are drawn into it as the box scrolls.
 */
import { numeric, type Cell, type Row, type RunData } from "./data.js";
import { asText, fill, h } from "./dom.js";
import { state, update } from "./state.js";
import { formatCount, formatDuration, formatGpu, formatNumber, formatStart, keysRead, matches, parseFilter, subjectOf, type FilterSubject, type ParsedFilter } from "./shared.js";

export const ROW_HEIGHT = 26;
const OVERSCAN = 10;

interface Column {
  id: string;
  label: string;
  title?: string;
  width: number;
  numeric?: boolean;
  value(row: Row): Cell | string[] | undefined;
  text(row: Row): string;
  className?(row: Row): string;
}

const metricCell = (row: Row, name: string, which: 0 | 1): Cell => row.metrics.get(name)?.[which] ?? null;
const showNumber = (cell: Cell | undefined): string => {
  const value = numeric(cell ?? null);
  return value === null ? (cell === null || cell === undefined ? "-" : String(cell)) : formatNumber(value);
};

const FIXED: Column[] = [
  { id: "name", label: "run", width: 260, value: (row) => row.name, text: (row) => row.name },
  { id: "status", label: "status", width: 86, value: (row) => row.status, text: (row) => row.status, className: (row) => `status ${row.status}` },
  { id: "start", label: "start", width: 146, numeric: true, value: (row) => row.start, text: (row) => (row.started_at ? formatStart(row.started_at) : "-") },
  { id: "duration", label: "duration", width: 82, numeric: true, value: (row) => duration(row), text: (row) => formatDuration(duration(row)) },
  { id: "git", label: "git", width: 74, value: (row) => row.git, text: (row) => row.git ?? "-" },
  { id: "gpu", label: "GPU", width: 110, value: (row) => gpuText(row), text: (row) => gpuText(row) },
  { id: "params", label: "params", width: 72, numeric: true, value: (row) => row.parameters, text: (row) => formatCount(row.parameters) },
  { id: "tags", label: "tags", width: 110, value: (row) => row.tags, text: (row) => row.tags.join(" ") },
];

/** Text sorts as people read numbers in it (lr_9 before lr_10), whatever the case. */
const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

let clockOffset = 0;
function duration(row: Row): number | null {
  if (row.status === "running" && row.start) return Math.max(0, (Date.now() + clockOffset - row.start) / 1000);
  return row.duration;
}
const gpuText = (row: Row) => formatGpu({ model: row.gpu_model, count: row.gpu_count, nodes: row.gpu_nodes });

function optionalColumn(id: string): Column[] {
  if (id.startsWith("m:")) {
    const name = id.slice(2);
    return [
      { id: `m:${name}`, label: name, title: `${name}: last value`, width: 92, numeric: true, value: (row) => metricCell(row, name, 0), text: (row) => showNumber(metricCell(row, name, 0)) },
      { id: `b:${name}`, label: `best`, title: `${name}: best value (lowest; highest for accuracy-like names; results.json's best_${name} when there)`, width: 78, numeric: true, value: (row) => metricCell(row, name, 1), text: (row) => showNumber(metricCell(row, name, 1)) },
    ];
  }
  const key = id.slice(2);
  return [{ id, label: key, title: `config.${key}`, width: 96, value: (row) => row.config.get(key) ?? null, text: (row) => asText(row.config.get(key)) }];
}

/** A row as the filter reads it (the server describes its rows the same way). */
function subject(row: Row): FilterSubject {
  return subjectOf({
    name: row.name,
    group: row.group,
    id: row.id,
    status: row.status,
    gpu: row.gpu_model === null ? null : `${row.gpu_model} x${row.gpu_count}`,
    git: row.git,
    host: row.host,
    tags: row.tags,
    note: row.note,
    params: row.parameters,
    duration: duration(row),
    start: row.start,
    config: (path) => row.config.get(path) ?? undefined,
    metric: (name, which) => numeric(metricCell(row, name, which === "best" ? 1 : 0)) ?? undefined,
  });
}

type Line = { kind: "group"; group: string; count: number } | { kind: "run"; row: Row };

export interface TableEvents {
  /** The selection changed (charts follow it). */
  selection(names: string[]): void;
  /** A run's name was clicked. */
  open(name: string): void;
}

export class RunsTable {
  readonly element: HTMLElement;
  readonly #scroller: HTMLElement;
  readonly #spacer: HTMLElement;
  readonly #rowsBox: HTMLElement;
  readonly #header: HTMLElement;
  readonly #summary: HTMLElement;
  readonly #filterError: HTMLElement;
  #columns: Column[] = [];
  #lines: Line[] = [];
  #shown: Row[] = [];
  #filter: ParsedFilter = { terms: [], error: null };
  #drawnFrom = -1;
  #drawnTo = -1;
  /** ms the last filter / sort / group took to compute and draw (the benchmark reads it). */
  lastRepaintMs = 0;

  constructor(
    readonly data: RunData,
    readonly events: TableEvents,
    readonly summary: HTMLElement,
    readonly filterError: HTMLElement,
  ) {
    this.#summary = summary;
    this.#filterError = filterError;
    this.#header = h("div", { class: "thead", attr: { role: "row" } });
    this.#spacer = h("div", { class: "spacer" });
    this.#rowsBox = h("div", { class: "rows", attr: { role: "rowgroup" } });
    this.#spacer.append(this.#rowsBox);
    this.#scroller = h("div", { class: "scroller", onscroll: () => this.#draw() }, this.#header, this.#spacer);
    this.element = h("div", { class: "table", attr: { role: "table" } }, this.#scroller);
    new ResizeObserver(() => this.#draw(true)).observe(this.#scroller);
  }

  /** Optional columns now shown. */
  visibleOptional(): string[] {
    if (state.cols !== null) return state.cols;
    return [...this.data.defaults.metrics.map((name) => `m:${name}`), ...this.varyingAmongShown().slice(0, 12).map((key) => `c:${key}`)];
  }

  /** The config keys whose values differ among the runs shown now. */
  varyingAmongShown(): string[] {
    const out: string[] = [];
    for (const { key } of this.data.config) {
      const seen = new Set<string>();
      for (const row of this.#shown) {
        const value = row.config.get(key);
        seen.add(value === undefined ? "\u0000absent" : JSON.stringify(value));
        if (seen.size > 1) break;
      }
      if (seen.size > 1) out.push(key);
    }
    return out;
  }

  /** Recomputes filter, sort and groups, and draws. */
  refresh(): void {
    const started = performance.now();
    clockOffset = this.data.clockOffset;
    const names = this.data.metricNames();
    this.#filter = parseFilter(state.filter, (name) => names.has(name));
    this.#filterError.textContent = this.#filter.error ?? "";
    const wanted = keysRead(this.#filter)
      .map((key) => (key.kind === "metric" ? `m:${key.name}` : key.kind === "config" ? `c:${key.path}` : ""))
      .filter((id) => id !== "" && !this.data.loaded.has(id));
    if (wanted.length > 0) void this.data.ensure(wanted);
    const filter = this.#filter;
    this.#shown = filter.terms.length === 0 ? this.data.rows.slice() : this.data.rows.filter((row) => matches(filter, subject(row)));
    const optional = this.visibleOptional();
    const missing = optional.filter((id) => !this.data.loaded.has(id));
    if (missing.length > 0) void this.data.ensure(missing);
    this.#columns = [...FIXED, ...optional.flatMap(optionalColumn)];
    this.#sort();
    this.#group();
    this.#drawHeader();
    this.#spacer.style.height = `${this.#lines.length * ROW_HEIGHT}px`;
    this.#draw(true);
    const selected = state.runs.length;
    fill(
      this.#summary,
      `${this.#shown.length.toLocaleString("en-US")} of ${this.data.rows.length.toLocaleString("en-US")} runs`,
      selected ? `, ${selected} selected` : "",
      this.data.problems.length ? h("span", { class: "warn", title: this.data.problems.join("\n") }, `, ${this.data.problems.length} unreadable`) : "",
    );
    this.lastRepaintMs = performance.now() - started;
  }

  #sort(): void {
    const descending = state.sort.startsWith("-");
    const id = descending ? state.sort.slice(1) : state.sort;
    const column = this.#columns.find((candidate) => candidate.id === id) ?? (id.startsWith("m:") || id.startsWith("b:") || id.startsWith("c:") ? optionalColumn(id.startsWith("b:") ? `m:${id.slice(2)}` : id).find((c) => c.id === id) : undefined);
    if (column === undefined) return;
    const keys = this.#shown.map((row) => {
      const value = column.value(row);
      if (Array.isArray(value)) return value.join(" ");
      const number = typeof value === "number" ? value : numeric(value as Cell);
      if (column.numeric || typeof value === "number") return number === null || Number.isNaN(number) ? null : number;
      return value === null || value === undefined ? null : String(value);
    });
    const order = this.#shown.map((_, index) => index);
    order.sort((a, b) => {
      const x = keys[a];
      const y = keys[b];
      if (x === null || x === undefined || y === null || y === undefined) return x === y || (x == null && y == null) ? a - b : x == null ? 1 : -1;
      const by = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
      return (descending ? -by : by) || a - b;
    });
    this.#shown = order.map((index) => this.#shown[index] as Row);
  }

  #group(): void {
    const groups = new Map<string, Row[]>();
    for (const row of this.#shown) {
      let list = groups.get(row.group);
      if (list === undefined) groups.set(row.group, (list = []));
      list.push(row);
    }
    if (!state.group || groups.size <= 1) {
      this.#lines = this.#shown.map((row) => ({ kind: "run", row }));
      return;
    }
    const collapsed = new Set(state.collapsed);
    this.#lines = [];
    for (const [group, rows] of groups) {
      this.#lines.push({ kind: "group", group, count: rows.length });
      if (!collapsed.has(group)) for (const row of rows) this.#lines.push({ kind: "run", row });
    }
  }

  #template(): string {
    return `28px ${this.#columns.map((column) => `${column.width}px`).join(" ")}`;
  }

  #drawHeader(): void {
    const descending = state.sort.startsWith("-");
    const sortId = descending ? state.sort.slice(1) : state.sort;
    const allSelected = this.#shown.length > 0 && this.#shown.every((row) => state.runs.includes(row.name));
    const selectAll = h("input", {
      type: "checkbox",
      checked: allSelected,
      title: "select the runs shown (at most 50)",
      onclick: () => {
        const names = allSelected ? state.runs.filter((name) => !this.#shown.some((row) => row.name === name)) : [...new Set([...state.runs, ...this.#shown.slice(0, 50).map((row) => row.name)])];
        this.events.selection(names);
      },
    });
    this.#header.style.gridTemplateColumns = this.#template();
    fill(
      this.#header,
      h("div", { class: "cell check" }, selectAll),
      this.#columns.map((column) =>
        h(
          "div",
          {
            class: `cell head${column.numeric ? " num" : ""}${column.id === sortId ? (descending ? " sorted desc" : " sorted") : ""}`,
            title: `${column.title ?? column.label}: click to sort`,
            data: { column: column.id },
            onclick: () => {
              const next = column.id === sortId ? (descending ? column.id : `-${column.id}`) : column.numeric ? column.id : column.id;
              update({ sort: next });
              this.refresh();
            },
          },
          column.label,
        ),
      ),
    );
  }

  /** Draws the rows in view (again when `force`). */
  #draw(force = false): void {
    const top = this.#scroller.scrollTop;
    const height = this.#scroller.clientHeight || 600;
    const from = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const to = Math.min(this.#lines.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (!force && from === this.#drawnFrom && to === this.#drawnTo) return;
    this.#drawnFrom = from;
    this.#drawnTo = to;
    const template = this.#template();
    const selected = new Set(state.runs);
    const elements: HTMLElement[] = [];
    for (let index = from; index < to; index++) {
      const line = this.#lines[index] as Line;
      const style = { transform: `translateY(${index * ROW_HEIGHT}px)` };
      if (line.kind === "group") {
        const folded = state.collapsed.includes(line.group);
        elements.push(
          h(
            "div",
            {
              class: "row group",
              style,
              onclick: () => {
                update({ collapsed: folded ? state.collapsed.filter((group) => group !== line.group) : [...state.collapsed, line.group] });
                this.refresh();
              },
            },
            h("span", { class: "fold" }, folded ? "▸" : "▾"),
            h("span", { class: "group-name" }, line.group || "(top level)"),
            h("span", { class: "count" }, `${line.count} run${line.count === 1 ? "" : "s"}`),
          ),
        );
        continue;
      }
      const row = line.row;
      const checked = selected.has(row.name);
      elements.push(
        h(
          "div",
          { class: `row run${checked ? " selected" : ""}`, style: { ...style, gridTemplateColumns: template }, data: { run: row.name }, attr: { role: "row" } },
          h(
            "div",
            { class: "cell check" },
            h("input", {
              type: "checkbox",
              checked,
              title: "select for the charts",
              onclick: () => this.events.selection(checked ? state.runs.filter((name) => name !== row.name) : [...state.runs, row.name]),
            }),
          ),
          this.#columns.map((column) => {
            const text = column.text(row);
            if (column.id === "name") {
              return h(
                "div",
                { class: "cell name", title: `${row.name}${row.warnings.length ? `\n${row.warnings.join("\n")}` : ""}` },
                h("a", { href: `?view=run&run=${encodeURIComponent(row.name)}`, onclick: (event: MouseEvent) => (event.preventDefault(), this.events.open(row.name)) }, row.name.slice(row.group ? row.group.length + 1 : 0) || row.name),
                row.warnings.length ? h("span", { class: "warn", title: row.warnings.join("\n") }, " ⚠") : "",
              );
            }
            const title = column.id === "status" && row.lost_reason ? row.lost_reason : column.id === "tags" && row.note ? row.note : text;
            return h("div", { class: `cell${column.numeric ? " num" : ""}${column.className ? ` ${column.className(row)}` : ""}`, title }, text);
          }),
        ),
      );
    }
    this.#rowsBox.replaceChildren(...elements);
  }

  /** The rows shown (filtered and sorted), for the charts' colours and the tests. */
  shown(): Row[] {
    return this.#shown;
  }

  /** Redraws the rows in view (a running run's duration counts on). */
  tickDurations(): void {
    if (this.#shown.some((row) => row.status === "running")) this.#draw(true);
  }
}
