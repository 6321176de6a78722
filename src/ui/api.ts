/**
 * The dashboard's API. Everything is a GET except writing notes:
 *   /api/runs     `ls --json` of the runs (?filter= ?sort= ?metrics=a,b)
 *   /api/run      `show --json` of one run (?name=)
 *   /api/diff     `diff --json` of two runs (?a= &b= [&all=1])
 *   /api/table    the page's table, by column (?since= ?columns= ?filter=)
 *   /api/metrics  charts of runs' metrics (?runs=&runs=... ?keys= ?x=step|relative|time ?points= ?from= ?to=)
 *   /api/system   charts of runs' GPU and process figures (same parameters, keys are figures)
 *   /api/log      the end of a run's output.log (?name= ?file= ?from=)
 *   /api/notes    a run's notes and tags (?name=); PUT to replace them
 *   /api/events   server-sent events: what changed
 *   /api/info     the server: version, roots, how it watches, the cache
 * Runs are named as the table names them (their path below the root) and looked up among the
 * runs found: a name is never turned into a path.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

import { checkChartRequest, metricCharts, systemCharts } from "./charts.js";
import type { EventHub } from "./events.js";
import { HttpError, jsonText, readBody, sendJson, sendText, type JsonStyle } from "./http.js";
import { readLogTail } from "./log-tail.js";
import type { LogStore } from "./log-store.js";
import { checkNotes, readNotes, writeNotes } from "./notes.js";
import type { RunIndex } from "./run-index.js";
import type { RunRow } from "./run-row.js";
import { checkRunFolder } from "./safe-files.js";
import { matches } from "./filter.js";
import { parseRowFilter, rowSubject, tablePayload } from "./table.js";
import { ConfigTrackerError, isConfigTrackerError, diffRuns, loadRun, runDetails, runListEntries, type LoadedRun } from "./views.js";

export interface ApiContext {
  index: RunIndex;
  loaded: Promise<void>;
  store: LogStore;
  hub: EventHub;
  info: () => Record<string, unknown>;
}

const MAX_RUNS_PER_CHART_REQUEST = 200;

function style(url: URL): JsonStyle {
  return url.searchParams.get("nonfinite") === "string" ? "strict" : "python";
}

function runNamed(context: ApiContext, name: string | null, parameter = "name"): RunRow {
  if (name === null || name === "") throw new HttpError(400, "INVALID_ARGUMENT", `${parameter}: give a run's name (as the table shows it)`);
  const row = context.index.get(name);
  if (row === null) throw new HttpError(404, "NOT_FOUND", `no run named ${JSON.stringify(name)} under the folders served`);
  return row;
}

/** The library's loaded run of a row, after the same checks the table made on its files. */
async function loaded(context: ApiContext, row: RunRow): Promise<LoadedRun> {
  const problem = checkRunFolder(row.dir, context.index.roots);
  if (problem !== null) throw new ConfigTrackerError("INVALID_FILE", `not read: ${problem}`);
  return loadRun(row.dir, { name: row.name });
}

let runsCache: { key: string; text: Promise<string> } | null = null;

/** `ls --json` for the runs (one computation shared by requests for the same version). */
async function runsJson(context: ApiContext, url: URL, jsonStyle: JsonStyle): Promise<string> {
  const key = `${context.index.version}\u0000${url.searchParams.toString()}`;
  if (runsCache?.key === `${key}\u0000${jsonStyle}`) return runsCache.text;
  const text = (async () => {
    const filterText = url.searchParams.get("filter");
    const filter = filterText ? parseRowFilter(context.index, filterText) : null;
    if (filter?.error) throw new HttpError(400, "INVALID_ARGUMENT", `filter: ${filter.error}`);
    const now = Date.now();
    const rows = [...context.index.runs.values()]
      .map((entry) => entry.row)
      .filter((row) => !row.warnings.some((warning) => warning.startsWith("not read:")))
      .filter((row) => filter === null || matches(filter, rowSubject(row, now)));
    const runs: LoadedRun[] = [];
    for (const row of rows) {
      try {
        runs.push(await loadRun(row.dir, { name: row.name }));
      } catch {
        // changed meanwhile: the next version has it
      }
    }
    // As listRuns orders them: oldest first, runs started together by name.
    runs.sort((a, b) => Date.parse(a.config.timestamp) - Date.parse(b.config.timestamp) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const metrics = url.searchParams.get("metrics");
    const sort = url.searchParams.get("sort");
    const entries = runListEntries(runs, {
      ...(metrics ? { metrics: metrics.split(",").map((name) => name.trim()).filter(Boolean) } : {}),
      ...(sort ? { sort } : {}),
    });
    return jsonText(entries, jsonStyle);
  })();
  runsCache = { key: `${key}\u0000${jsonStyle}`, text };
  text.catch(() => {
    if (runsCache?.text === text) runsCache = null;
  });
  return text;
}

function chartRuns(context: ApiContext, url: URL): RunRow[] {
  const names = url.searchParams.getAll("runs").flatMap((value) => (value === "" ? [] : [value]));
  if (names.length > MAX_RUNS_PER_CHART_REQUEST) throw new HttpError(400, "INVALID_ARGUMENT", `runs: at most ${MAX_RUNS_PER_CHART_REQUEST} runs at a time`);
  return names.map((name) => runNamed(context, name, "runs"));
}

/** `keys` given (repeated, one name each; an empty one: none), or undefined for every key. */
function keys(url: URL): string[] | undefined {
  return url.searchParams.has("keys") ? url.searchParams.getAll("keys").filter(Boolean) : undefined;
}

export async function handleApi(context: ApiContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const method = request.method ?? "GET";
  if (path === "/api/events") {
    await context.loaded;
    context.hub.attach(response, context.index.version);
    return;
  }
  if (path === "/api/info") return sendJson(response, context.info());
  await context.loaded;
  if (method === "PUT" && path === "/api/notes") {
    const row = runNamed(context, url.searchParams.get("name"));
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request, 64 * 1024));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, "INVALID_ARGUMENT", "the body must be JSON: {\"note\": ..., \"tags\": [...], \"expected\": <updated_at as read, or null>}");
    }
    const notes = checkNotes(body, "notes");
    const expected = (body as { expected?: unknown }).expected;
    if (expected !== null && typeof expected !== "string") throw new HttpError(400, "INVALID_ARGUMENT", '"expected": the updated_at the notes had when read (null: there were none)');
    const stored = await writeNotes(row.dir, context.index.roots, notes, expected);
    await context.index.reread(row.name);
    return sendJson(response, stored);
  }
  if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "METHOD_NOT_ALLOWED", `${method} ${path}: not allowed`);
  switch (path) {
    case "/api/runs": {
      const text = await runsJson(context, url, style(url));
      return sendText(response, 200, "application/json; charset=utf-8", text);
    }
    case "/api/run": {
      const row = runNamed(context, url.searchParams.get("name"));
      const details = await runDetails(await loaded(context, row));
      return sendJson(response, details, style(url));
    }
    case "/api/diff": {
      const a = runNamed(context, url.searchParams.get("a"), "a");
      const b = runNamed(context, url.searchParams.get("b"), "b");
      const all = url.searchParams.get("all") === "1" || url.searchParams.get("all") === "true";
      return sendJson(response, diffRuns(await loaded(context, a), await loaded(context, b), { all }), style(url));
    }
    case "/api/table": {
      const since = url.searchParams.get("since");
      const columns = url.searchParams.getAll("columns");
      const filter = url.searchParams.get("filter");
      if (filter) {
        const parsed = parseRowFilter(context.index, filter);
        if (parsed.error) throw new HttpError(400, "INVALID_ARGUMENT", `filter: ${parsed.error}`);
      }
      const payload = tablePayload(context.index, {
        ...(since !== null && since !== "" ? { since: Number(since) } : {}),
        ...(columns.length > 0 ? { columns: columns.filter(Boolean) } : {}),
        ...(filter ? { filter } : {}),
      });
      return sendJson(response, payload, "plain");
    }
    case "/api/metrics":
    case "/api/system": {
      const runs = chartRuns(context, url);
      const shape = checkChartRequest(url.searchParams.get("x"), url.searchParams.get("points"), url.searchParams.get("from"), url.searchParams.get("to"));
      const wanted = keys(url);
      const chartRequest = { runs, ...shape, ...(wanted ? { keys: wanted } : {}) };
      const payload = path === "/api/metrics" ? await metricCharts(context.store, chartRequest) : await systemCharts(context.store, chartRequest);
      return sendJson(response, payload);
    }
    case "/api/log": {
      const row = runNamed(context, url.searchParams.get("name"));
      const from = url.searchParams.get("from");
      const start = from === null || from === "" ? null : Number(from);
      if (start !== null && !(Number.isSafeInteger(start) && start >= 0)) throw new HttpError(400, "INVALID_ARGUMENT", "from: a byte offset");
      const file = url.searchParams.get("file") ?? "output.log";
      try {
        return sendJson(response, readLogTail(row.dir, file, context.index.roots, start));
      } catch (error) {
        // No log is an answer, not an error: the run was not started by `config-tracker run`.
        if (isConfigTrackerError(error) && error.code === "NOT_FOUND") return sendJson(response, { file, missing: true, from: 0, end: 0, size: 0, lines: [], earlier: false });
        throw error;
      }
    }
    case "/api/notes": {
      const row = runNamed(context, url.searchParams.get("name"));
      return sendJson(response, readNotes(row.dir, context.index.roots) ?? { note: "", tags: [] });
    }
  }
  throw new HttpError(404, "NOT_FOUND", `${path}: no such API (see docs/ui.md)`);
}
