/**
 * What the page shows lives in its URL, so a link shows the same thing to someone else:
 *   ?filter=val_loss<2&sort=-m:val_loss&runs=a&runs=b&cols=m:lr&x=relative&smooth=0.6&log=1
 *   &view=run&run=NAME     a run's page
 *   &view=diff&a=A&b=B     two runs compared
 */
export type View = "table" | "run" | "diff";

export interface PageState {
  view: View;
  filter: string;
  /** A column id, "-" first for descending. */
  sort: string;
  /** Selected runs (their charts are drawn). */
  runs: string[];
  /** Columns shown besides the fixed ones (null: the server's defaults). */
  cols: string[] | null;
  /** Groups (sweep folders) folded away. */
  collapsed: string[];
  group: boolean;
  x: "step" | "relative" | "time";
  smooth: number;
  log: boolean;
  /** Which charts: metric names containing this. */
  charts: string;
  run: string;
  a: string;
  b: string;
}

export function readState(search = location.search): PageState {
  const params = new URLSearchParams(search);
  const view = params.get("view");
  const x = params.get("x");
  const smooth = Number(params.get("smooth") ?? "0");
  return {
    view: view === "run" || view === "diff" ? view : "table",
    filter: params.get("filter") ?? "",
    sort: params.get("sort") ?? "name",
    runs: params.getAll("runs"),
    cols: params.has("cols") ? params.getAll("cols").filter(Boolean) : null,
    collapsed: params.getAll("collapsed"),
    group: params.get("group") !== "0",
    x: x === "relative" || x === "time" ? x : "step",
    smooth: Number.isFinite(smooth) ? Math.min(0.999, Math.max(0, smooth)) : 0,
    log: params.get("log") === "1",
    charts: params.get("charts") ?? "",
    run: params.get("run") ?? "",
    a: params.get("a") ?? "",
    b: params.get("b") ?? "",
  };
}

export function stateUrl(state: PageState): string {
  const params = new URLSearchParams();
  if (state.view !== "table") params.set("view", state.view);
  if (state.view === "run") params.set("run", state.run);
  if (state.view === "diff") {
    params.set("a", state.a);
    params.set("b", state.b);
  }
  if (state.filter) params.set("filter", state.filter);
  if (state.sort !== "name") params.set("sort", state.sort);
  for (const run of state.runs) params.append("runs", run);
  if (state.cols !== null) {
    if (state.cols.length === 0) params.append("cols", "");
    for (const col of state.cols) params.append("cols", col);
  }
  for (const group of state.collapsed) params.append("collapsed", group);
  if (!state.group) params.set("group", "0");
  if (state.x !== "step") params.set("x", state.x);
  if (state.smooth > 0) params.set("smooth", String(state.smooth));
  if (state.log) params.set("log", "1");
  if (state.charts) params.set("charts", state.charts);
  const text = params.toString();
  return `${location.pathname}${text ? `?${text}` : ""}`;
}

/** The state now; `update` changes it and the URL (a new history entry when `push`). */
export const state: PageState = readState();

export function update(changes: Partial<PageState>, push = false): void {
  Object.assign(state, changes);
  const url = stateUrl(state);
  if (url === `${location.pathname}${location.search}`) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
