// The dashboard (`config-tracker ui`), measured on run folders written by bench/make_ui_runs.js
// (kept in $TMPDIR/config-tracker-bench-ui between runs), each side by side with what a user
// would otherwise run, in the same run:
//  - server start to the runs table painted in headless Chromium (a browser already open), for
//    10,000 runs of 100 steps and for 1,500 runs of 1,500 metrics, against `ls` on the same root;
//    warm (3 times), and with the page cache dropped when `--drop-caches` is given and allowed;
//  - filter and sort of the table in the page: script to the next frame;
//  - the server's memory once every run is read;
//  - charts of 50 runs x 100,000 steps: the first time (no column cache) and cached (in memory,
//    and after a restart from the column cache files), against `compare --html` of the same runs;
//  - idle CPU with 20 tabs open and one run writing metrics, log lines and heartbeats;
//  - 100 concurrent API clients on 127.0.0.1 for 15 s: the slowest answer.
// Alone: node bench/ui.js [--drop-caches] [--only many,wide,charts,load,idle]   (writes bench/results/latest-ui.json)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { makeLong, makeMany, makeWide } from "./make_ui_runs.js";

const root = join(import.meta.dirname, "..");
const cli = join(root, "dist", "cli.js");
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function dropCaches() {
  try {
    spawnSync("sync");
    writeFileSync("/proc/sys/vm/drop_caches", "3\n");
    return true;
  } catch {
    return false;
  }
}

function timeLs(dir) {
  const started = performance.now();
  const out = spawnSync(process.execPath, [cli, "ls", dir], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(out.stderr);
  return performance.now() - started;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

function startServer(dir, env = {}, args = []) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, "ui", dir, "--port", "0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve({ child, url: out.split("\n")[0], started, stop: () => new Promise((done) => (child.on("close", done), child.kill("SIGINT"))) });
    });
    child.on("close", (code) => reject(new Error(`ui exited ${code}: ${err}`)));
  });
}

/** Server start to the table painted: spawn, navigate, wait for the rows. */
async function startToPaint(browser, dir, env) {
  const server = await startServer(dir, env);
  try {
    await browser.open(server.url);
    const rows = await browser.evaluate(`(async () => { await window.dashboard.ready; await new Promise(requestAnimationFrame); return document.querySelectorAll(".row").length && window.dashboard.data.rows.length; })()`);
    const ms = performance.now() - server.started;
    return { ms, rows, rssMiB: rssMiB(server.child.pid) };
  } finally {
    await server.stop();
  }
}

async function tableCase(browser, dir, options) {
  const lsWarm = [timeLs(dir), timeLs(dir)];
  const env = { CONFIG_TRACKER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ct-bench-ui-cache-")) };
  // The first start reads every run (no snapshot yet); the next ones start from the snapshot.
  const first = await startToPaint(browser, dir, env);
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push(await startToPaint(browser, dir, env));
  let cold = null;
  if (options.dropCaches && dropCaches()) {
    const lsCold = timeLs(dir);
    dropCaches();
    const uiCold = await startToPaint(browser, dir, env);
    cold = { ls_ms: lsCold, ui_start_to_painted_ms: uiCold.ms };
  }
  // Filter and sort in the page of the last start.
  const server = await startServer(dir, env);
  let interaction;
  try {
    await browser.open(server.url);
    interaction = await browser.evaluate(`(async () => {
      await window.dashboard.ready;
      const frame = () => new Promise(requestAnimationFrame);
      const time = async (action) => { const t = performance.now(); action(); await frame(); return performance.now() - t; };
      const rounds = { filter: [], clear: [], sort_metric: [], sort_metric_descending: [], sort_name: [] };
      let shown = 0;
      for (let round = 0; round < 4; round++) {
        rounds.filter.push(await time(() => window.dashboard.setFilter("val_loss<1.5 status=finished")));
        shown = window.dashboard.table.shown().length;
        rounds.clear.push(await time(() => window.dashboard.setFilter("")));
        const metric = document.querySelector('.cell.head[data-column^="m:"]').dataset.column;
        rounds.sort_metric.push(await time(() => document.querySelector('.cell.head[data-column="' + metric + '"]').click()));
        rounds.sort_metric_descending.push(await time(() => document.querySelector('.cell.head[data-column="' + metric + '"]').click()));
        rounds.sort_name.push(await time(() => document.querySelector('.cell.head[data-column="name"]').click()));
      }
      const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      const out = { shown_after_filter: shown };
      for (const [name, values] of Object.entries(rounds)) { out[name + "_ms"] = median(values.slice(1)); out[name + "_first_ms"] = values[0]; }
      out.rows = window.dashboard.data.rows.length;
      out.shown = window.dashboard.table.shown().length;
      out.last_repaint_ms = window.dashboard.table.lastRepaintMs;
      return out;
    })()`);
    interaction.server_rss_mib = rssMiB(server.child.pid);
  } finally {
    await server.stop();
  }
  return {
    runs: warm[0].rows,
    ls_ms: median(lsWarm),
    ui_first_start_to_painted_ms: first.ms,
    ui_start_to_painted_ms: median(warm.map((entry) => entry.ms)),
    ui_runs: warm.map((entry) => Math.round(entry.ms)),
    ratio_ui_over_ls: median(warm.map((entry) => entry.ms)) / median(lsWarm),
    server_rss_mib: Math.max(first.rssMiB, ...warm.map((entry) => entry.rssMiB), interaction.server_rss_mib),
    page_cache_dropped: cold,
    ...interaction,
  };
}

async function chartsCase(browser, dir) {
  const compareStarted = performance.now();
  const compare = spawnSync(process.execPath, [cli, "compare", dir, "--html", join(tmpdir(), "ct-bench-ui-compare.html")], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (compare.status !== 0) throw new Error(compare.stderr);
  const compareMs = performance.now() - compareStarted;
  const cacheDir = mkdtempSync(join(tmpdir(), "ct-bench-ui-cache-"));
  const env = { CONFIG_TRACKER_CACHE_DIR: cacheDir };
  const runs = Array.from({ length: 50 }, (_, i) => `lr_${i}`);
  const query = `?${runs.map((run) => `runs=${encodeURIComponent(run)}`).join("&")}`;
  const draw = async (server) => {
    const t = performance.now();
    await browser.open(`${server.url}${query}`);
    const drawn = await browser.evaluate(`(async () => { await window.dashboard.ready; return { charts: document.querySelectorAll(".table-view figure.chart").length, ms: window.dashboard.charts.lastDrawMs }; })()`);
    return { ...drawn, open_to_drawn_ms: performance.now() - t };
  };
  const server = await startServer(dir, env);
  let first;
  let memory;
  try {
    await browser.open(server.url); // the table first: what is measured is the charts
    await browser.evaluate("window.dashboard.ready");
    first = await draw(server);
    memory = await draw(server);
  } finally {
    await server.stop();
  }
  const restarted = await startServer(dir, env);
  let fromFiles;
  try {
    await browser.open(restarted.url);
    await browser.evaluate("window.dashboard.ready");
    fromFiles = await draw(restarted);
  } finally {
    await restarted.stop();
  }
  rmSync(cacheDir, { recursive: true, force: true });
  return {
    runs: 50,
    steps_per_run: 100_000,
    compare_html_ms: compareMs,
    first_time_charts_ms: first.ms,
    first_time: first,
    cached_in_memory_charts_ms: memory.ms,
    cached_after_restart_charts_ms: fromFiles.ms,
    charts: first.charts,
    ratio_compare_over_first: compareMs / first.ms,
  };
}

async function idleCase(browser, dir) {
  // One run writing: metrics every 100 ms, a log line every 500 ms, a heartbeat every 15 s.
  const liveDir = join(dir, "zz-live-run");
  rmSync(liveDir, { recursive: true, force: true });
  const writer = spawn(process.execPath, ["--input-type=module", "-e", `
    import { ConfigTracker } from ${JSON.stringify(pathToFileURL(join(root, "dist", "index.js")).href)};
    import { appendFileSync } from "node:fs";
    const tracker = new ConfigTracker(${JSON.stringify(liveDir)}, { git: false, heartbeatMs: 15000 });
    await tracker.saveConfig({ lr: 3e-4 });
    let step = 0;
    setInterval(() => { tracker.logMetrics(step, { train_loss: 3 / (1 + step / 100) }); step++; }, 100);
    setInterval(() => appendFileSync(${JSON.stringify(join(liveDir, "output.log"))}, "step " + step + "\\n"), 500);
  `], { stdio: "ignore" });
  await sleep(1500);
  const server = await startServer(dir);
  try {
    await browser.open(`${server.url}?runs=zz-live-run`);
    await browser.evaluate("window.dashboard.ready");
    for (let i = 1; i < 20; i++) await browser.openTab(`${server.url}?runs=zz-live-run`);
    await sleep(20_000); // every tab loaded and settled (and the index snapshot written)
    const serverBefore = cpuSeconds(server.child.pid);
    const windowMs = 30_000;
    await sleep(windowMs);
    const serverCpu = cpuSeconds(server.child.pid) - serverBefore;
    return { tabs: 20, window_s: windowMs / 1000, server_cpu_s: serverCpu, server_cpu_percent_of_a_core: (100 * serverCpu) / (windowMs / 1000), server_rss_mib: rssMiB(server.child.pid) };
  } finally {
    writer.kill("SIGTERM");
    await server.stop();
    rmSync(liveDir, { recursive: true, force: true });
  }
}

async function loadCase(dir) {
  const server = await startServer(dir);
  try {
    const port = Number(new URL(server.url).port);
    const agent = new Agent({ keepAlive: true, maxSockets: 100 });
    const get = (path) =>
      new Promise((resolve, reject) => {
        const t = performance.now();
        const req = request({ host: "127.0.0.1", port, path, agent }, (response) => {
          response.resume();
          response.on("end", () => resolve({ ms: performance.now() - t, status: response.statusCode }));
        });
        req.on("error", reject);
        req.end();
      });
    await get("/api/info");
    const table = await new Promise((resolve) => {
      request({ host: "127.0.0.1", port, path: "/api/table", agent }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk)).on("end", () => resolve(JSON.parse(text)));
      }).end();
    });
    const names = table.runs.name;
    const pick = (i) => encodeURIComponent(names[(i * 7919) % names.length]);
    const paths = (i) => [
      `/api/table?since=${table.version}`,
      `/api/metrics?runs=${pick(i)}&runs=${pick(i + 1)}&runs=${pick(i + 2)}&keys=train_loss&keys=val_loss`,
      `/api/run?name=${pick(i)}`,
      `/api/notes?name=${pick(i)}`,
      `/api/system?runs=${pick(i)}`,
      `/api/log?name=${pick(i)}`,
    ];
    const times = [];
    const slowest = {};
    const failures = [];
    const until = performance.now() + 15_000;
    await Promise.all(
      Array.from({ length: 100 }, async (_, client) => {
        for (let i = client; performance.now() < until; i += 100) {
          for (const path of paths(i)) {
            const { ms, status } = await get(path);
            times.push(ms);
            const kind = path.slice(0, path.indexOf("?"));
            slowest[kind] = Math.max(slowest[kind] ?? 0, ms);
            if (status !== 200) failures.push(`${status} ${path}`);
          }
        }
      }),
    );
    agent.destroy();
    times.sort((a, b) => a - b);
    return {
      clients: 100,
      seconds: 15,
      requests: times.length,
      failures: failures.length,
      median_ms: times[Math.floor(times.length / 2)],
      p99_ms: times[Math.floor(times.length * 0.99)],
      max_ms: times.at(-1),
      slowest_by_request_ms: slowest,
      target: "max_ms < 1000",
    };
  } finally {
    await server.stop();
  }
}

export async function benchUi({ dropCaches: drop = false, only = null } = {}) {
  const wanted = (name) => only === null || only.includes(name);
  const data = join(tmpdir(), "config-tracker-bench-ui");
  const make = async (name, maker) => {
    const dir = join(data, name);
    if (!existsSync(join(dir, ".complete"))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await maker(dir);
      writeFileSync(join(dir, ".complete"), "");
    }
    return dir;
  };
  const many = await make("many", makeMany);
  const wide = await make("wide", makeWide);
  const long = await make("long", makeLong);
  const { findChromium, launchChromium } = await import("../test/support/chromium.js");
  const chromium = findChromium();
  if (chromium.path === null) return { skipped: chromium.reason };
  const browser = await launchChromium({ path: chromium.path, width: 1400, height: 1000 });
  const out = { machine: `${cpus().length} x ${cpus()[0]?.model.trim()}`, loadavg_at_start: readFileSync("/proc/loadavg", "utf8").trim() };
  try {
    if (wanted("many")) out.many = { shape: "10,000 runs x 100 steps (100 sweep folders of 100)", ...(await tableCase(browser, many, { dropCaches: drop })) };
    if (wanted("wide")) out.wide = { shape: "1,500 runs x 1,500 metrics, 20 steps on average", ...(await tableCase(browser, wide, { dropCaches: drop })) };
    if (wanted("charts")) out.charts = await chartsCase(browser, long);
    if (wanted("load")) out.load = await loadCase(many);
    if (wanted("idle")) out.idle = await idleCase(browser, many);
  } finally {
    await browser.close();
  }
  out.loadavg_at_end = readFileSync("/proc/loadavg", "utf8").trim();
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1].split(",") : null;
  const result = await benchUi({ dropCaches: process.argv.includes("--drop-caches"), only });
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", "latest-ui.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}
