/**
 * `config-tracker ui`'s API, started as a user starts it: what it returns against what the CLI's
 * --json prints for the same runs, the charts' decimation against readMetrics, notes written and
 * read back by Python, live updates, and every refusal of its security (Host, token, origin,
 * paths out of the roots, special files).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { parsePythonJson } from "../src/python-json.js";
import { readMetrics } from "../src/index.js";
import { changedFolders, folderStamp, useNativeStats } from "../src/ui/folder-stamps.js";
import { lookAtRunFolder, Roots } from "../src/ui/safe-files.js";
import { runCli, runScript, tempDir } from "./support/helpers.js";
import { ask, startUi, writeRuns, type RunningUi } from "./support/ui.js";

let root: string;
let ui: RunningUi;
const get = async (path: string) => {
  const reply = await ask(ui.port, path);
  expect(reply.status, `${path}: ${reply.text}`).toBe(200);
  return reply;
};

beforeAll(async () => {
  root = join(tempDir("ct-ui-"), "runs");
  await writeRuns(root);
  cpSync(join(import.meta.dirname, "fixtures", "runs", "tree"), join(root, "python"), { recursive: true });
  ui = await startUi([root]);
}, 120_000);

afterAll(async () => {
  await ui?.stop();
});

describe("config-tracker ui: the command", () => {
  it("prints its URL as the first line of stdout and stops cleanly on Ctrl-C", async () => {
    const own = await startUi([root]);
    expect(own.stdout().split("\n")[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await ask(own.port, "/api/info")).status).toBe(200);
    expect(await own.stop("SIGINT")).toBe(0);
    expect(own.stderr()).toContain("stopped (SIGINT)");
  });

  it("starts from its snapshot of the runs, reading again only what changed since", async () => {
    const own = join(tempDir("ct-ui-snapshot-"), "runs");
    cpSync(root, own, { recursive: true, filter: (path) => !path.includes("fifo") });
    const cache = tempDir("ct-ui-cache-");
    const first = await startUi([own], { CONFIG_TRACKER_CACHE_DIR: cache });
    const before = (await ask(first.port, "/api/info")).json() as { runs: number; loaded: { read: number; fromSnapshot: number } };
    expect(before.loaded.fromSnapshot).toBe(0);
    expect(await first.stop()).toBe(0);
    // Meanwhile: one run's results rewritten in place, one run added, one removed.
    const results = join(own, "sweep", "lr_0.001", "results.json");
    const data = JSON.parse(readFileSync(results, "utf8"));
    data.final_metrics.val_loss = 0.123;
    writeFileSync(results, JSON.stringify(data, null, 2));
    cpSync(join(own, "sweep", "lr_0.0003"), join(own, "sweep", "lr_new"), { recursive: true });
    execFileSync("rm", ["-r", join(own, "failed_run")]);
    const second = await startUi([own], { CONFIG_TRACKER_CACHE_DIR: cache });
    try {
      const info = (await ask(second.port, "/api/info")).json() as { runs: number; loaded: { read: number; fromSnapshot: number } };
      expect(info.loaded.read).toBe(2); // the rewritten one and the new one
      expect(info.loaded.fromSnapshot).toBe(before.runs - 2);
      const table = (await ask(second.port, "/api/table")).json() as { runs: { name: string[] }; columns: Record<string, { last: unknown[] }> };
      expect(table.runs.name).toContain("sweep/lr_new");
      expect(table.runs.name).not.toContain("failed_run");
      expect(table.columns["m:val_loss"]!.last[table.runs.name.indexOf("sweep/lr_0.001")]).toBe(0.123);
      // What a fresh read gives, field by field.
      const fresh = await startUi([own], { CONFIG_TRACKER_CACHE_DIR: "" });
      try {
        expect((await ask(fresh.port, "/api/table")).json()).toMatchObject({ runs: table.runs, columns: table.columns });
      } finally {
        await fresh.stop();
      }
    } finally {
      await second.stop();
    }
  });

  it("ignores a snapshot that does not read back (cut short, or not one): every run read again, the same table", async () => {
    const cache = tempDir("ct-ui-cache-");
    const first = await startUi([root], { CONFIG_TRACKER_CACHE_DIR: cache });
    const table = (await ask(first.port, "/api/table")).json() as { runs: unknown; columns: unknown };
    const runs = ((await ask(first.port, "/api/info")).json() as { runs: number }).runs;
    expect(await first.stop()).toBe(0);
    const [file] = readdirSync(join(cache, "ui")).filter((name) => name.endsWith(".snapshot"));
    const snapshot = join(cache, "ui", file as string);
    const whole = readFileSync(snapshot);
    for (const broken of [whole.subarray(0, whole.length - 9), whole.subarray(0, 100), Buffer.from("CTIDX002 not a snapshot")]) {
      writeFileSync(snapshot, broken);
      const again = await startUi([root], { CONFIG_TRACKER_CACHE_DIR: cache });
      try {
        const info = (await ask(again.port, "/api/info")).json() as { loaded: { read: number; fromSnapshot: number } };
        expect(info.loaded).toMatchObject({ read: runs, fromSnapshot: 0 });
        expect((await ask(again.port, "/api/table")).json()).toMatchObject({ runs: table.runs, columns: table.columns });
      } finally {
        await again.stop();
      }
    }
  });

  it("checks the folders' stamps with the addon's bulk lstat and without it alike", async () => {
    const own = join(tempDir("ct-ui-stamps-"), "runs");
    cpSync(join(root, "sweep"), own, { recursive: true });
    const roots = new Roots([own]);
    const names = readdirSync(own).sort();
    const checks = names.map((name) => {
      const dir = join(roots.real[0] as string, name);
      const look = lookAtRunFolder(dir, roots, ["notes.json"]);
      return { dir, present: look.present, stamp: folderStamp(look.stamp, look.present) };
    });
    expect(checks.every((check) => check.stamp instanceof Float64Array)).toBe(true);
    const both = async () => {
      const out: number[][] = [];
      for (const native of [true, false]) {
        useNativeStats(native);
        out.push(await changedFolders(checks));
      }
      useNativeStats(true);
      return out;
    };
    expect(await both()).toEqual([[], []]);
    // One file rewritten with the same size, one added beside those read, one folder removed.
    const results = join(own, names[0] as string, "results.json");
    writeFileSync(results, readFileSync(results, "utf8").replace(/\d(?=[^\d]*$)/, (digit) => String((Number(digit) + 1) % 10)));
    writeFileSync(join(own, names[1] as string, "notes.json"), "{}");
    execFileSync("rm", ["-r", join(own, names[2] as string)]);
    expect(await both()).toEqual([[0, 1, 2], [0, 1, 2]]);
  });

  it("refuses a ROOT that is not there, with the usual message", () => {
    const result = runCli(["ui", join(root, "nope"), "--port", "0"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no such folder");
  });
});

describe("the API returns what the CLI's --json prints", () => {
  it("/api/runs is ls --json", async () => {
    const ls = runCli(["ls", root, "--json"]);
    expect(ls.status, ls.stderr).toBe(0);
    const api = await get("/api/runs");
    expect(parsePythonJson(api.text)).toEqual(parsePythonJson(ls.stdout));
    // The same options.
    const sorted = runCli(["ls", root, "--json", "--sort=-val_loss", "--metrics", "val_loss,lr"]);
    expect(parsePythonJson((await get("/api/runs?sort=-val_loss&metrics=val_loss,lr")).text)).toEqual(parsePythonJson(sorted.stdout));
  });

  it("/api/run is show --json and /api/diff is diff --json", async () => {
    const show = runCli(["show", "sweep/lr_0.001", "--json"], {}, root);
    expect(show.status, show.stderr).toBe(0);
    const api = await get(`/api/run?name=${encodeURIComponent("sweep/lr_0.001")}`);
    // The heartbeat's age is the only figure that depends on when it is asked.
    const withoutAge = (details: unknown) => {
      const copy = details as { state: Record<string, unknown> };
      expect(typeof copy.state.heartbeat_age_seconds).toBe("number");
      delete copy.state.heartbeat_age_seconds;
      return copy;
    };
    expect(withoutAge(parsePythonJson(api.text))).toEqual(withoutAge(parsePythonJson(show.stdout)));
    const diff = runCli(["diff", "sweep/lr_0.001", "sweep/lr_0.0003", "--json"], {}, root);
    expect(diff.status).toBe(1); // different
    const apiDiff = await get(`/api/diff?a=${encodeURIComponent("sweep/lr_0.001")}&b=${encodeURIComponent("sweep/lr_0.0003")}`);
    expect(parsePythonJson(apiDiff.text)).toEqual(parsePythonJson(diff.stdout));
  });

  it("nonfinite=string makes the same data plain JSON (NaN as a string)", async () => {
    const python = (await get(`/api/run?name=${encodeURIComponent("python/group/sgd_lr1.5")}`)).text;
    expect(python).toMatch(/:NaN[,}]/);
    const strict = JSON.parse((await get(`/api/run?name=${encodeURIComponent("python/group/sgd_lr1.5")}&nonfinite=string`)).text);
    expect(strict.final_metrics.loss).toBe("NaN");
  });
});

describe("the runs table", () => {
  it("has every run with its status, metrics' last and best, and the config keys that differ", async () => {
    const table = (await get("/api/table")).json() as {
      runs: Record<string, unknown[]>;
      columns: Record<string, unknown>;
      config: Array<{ key: string }>;
      metrics: Array<{ name: string }>;
    };
    const names = table.runs.name as string[];
    expect(names).toEqual(["failed_run", "python/group/sgd_lr1.5", "python/sgd_lr0.05", "sweep/lr_0.0001", "sweep/lr_0.0003", "sweep/lr_0.001"]);
    expect(table.runs.status).toEqual(["failed", "finished", "finished", "finished", "finished", "finished"]);
    expect(table.runs.group).toEqual(["", "python/group", "python", "sweep", "sweep", "sweep"]);
    const valLoss = table.columns["m:val_loss"] as { last: unknown[]; best: unknown[] };
    // The sweep's best val_loss is results.json's best_val_loss.
    const results = JSON.parse(readFileSync(join(root, "sweep/lr_0.001/results.json"), "utf8"));
    expect(valLoss.best[5]).toBe(results.final_metrics.best_val_loss);
    expect(valLoss.last[5]).toBe(results.final_metrics.val_loss);
    expect(table.config.map((entry) => entry.key)).toEqual(expect.arrayContaining(["lr", "batch_size"]));
    expect(table.metrics.map((entry) => entry.name)).toContain("train_loss");
  });

  it("filters on the server with the page's language", async () => {
    const names = async (filter: string) => ((await get(`/api/table?filter=${encodeURIComponent(filter)}`)).json() as { runs: { name: string[] } }).runs.name;
    expect(await names("config.lr>=3e-4 sweep")).toEqual(["sweep/lr_0.0003", "sweep/lr_0.001"]);
    expect(await names("status=failed")).toEqual(["failed_run"]);
    expect(await names("sweep val_loss<1.4")).toEqual(["sweep/lr_0.001"]);
    expect(await names("val_loss<1e-3")).toEqual(["python/sgd_lr0.05"]);
    expect((await ask(ui.port, `/api/table?filter=${encodeURIComponent("val_loss<abc")}`)).status).toBe(400);
  });
});

describe("charts", () => {
  it("are decimated on the server, min and max per bucket, agreeing with readMetrics", async () => {
    const name = "sweep/lr_0.001";
    const charts = (await get(`/api/metrics?runs=${encodeURIComponent(name)}&keys=train_loss&keys=val_loss&points=100`)).json() as {
      charts: Array<{ name: string; x: number[]; series: Array<{ values: Array<number | null> }>; decimated: boolean }>;
    };
    const records = await readMetrics(join(root, name, "metrics.jsonl")).toArray();
    const train = records.filter((record) => "train_loss" in record);
    const chart = charts.charts.find((entry) => entry.name === "train_loss")!;
    expect(chart.decimated).toBe(true);
    const values = chart.series[0]!.values.filter((value): value is number => value !== null);
    expect(values.length).toBeLessThanOrEqual(100);
    // The extremes survive decimation exactly.
    expect(Math.max(...values)).toBe(Math.max(...train.map((record) => record.train_loss!)));
    expect(Math.min(...values)).toBe(Math.min(...train.map((record) => record.train_loss!)));
    // Few points: every one, as readMetrics gives them.
    const val = charts.charts.find((entry) => entry.name === "val_loss")!;
    expect(val.decimated).toBe(false);
    const logged = records.filter((record) => "val_loss" in record);
    expect(val.x).toEqual(logged.map((record) => record.step));
    expect(val.series[0]!.values).toEqual(logged.map((record) => record.val_loss));
  });

  it("zoomed (from / to) decimates the points of that range", async () => {
    const name = encodeURIComponent("sweep/lr_0.001");
    const chart = ((await get(`/api/metrics?runs=${name}&keys=train_loss&points=400&from=100&to=299`)).json() as { charts: Array<{ x: number[]; bucketed: boolean }> }).charts[0]!;
    expect(chart.x[0]).toBe(100);
    expect(chart.x.at(-1)).toBe(299);
    expect(chart.x).toHaveLength(200); // every step of the range: 200 points fit in 400
  });

  it("x as relative time counts from the run's start", async () => {
    const name = "sweep/lr_0.0003";
    const chart = ((await get(`/api/metrics?runs=${encodeURIComponent(name)}&keys=val_loss&x=relative`)).json() as { charts: Array<{ x: number[] }> }).charts[0]!;
    const config = JSON.parse(readFileSync(join(root, name, "config.json"), "utf8"));
    const first = (await readMetrics(join(root, name, "metrics.jsonl"), { keys: ["val_loss"] }).toArray())[0]!;
    expect(chart.x[0]).toBeCloseTo(first.time - Date.parse(config.timestamp) / 1000, 3);
  });

  it("a resumed run: each step once, the latest value (as readMetrics)", async () => {
    const dir = join(root, "resumed");
    const written = await runScript(`
      const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
      await tracker.saveConfig({ lr: 0.5 });
      for (let step = 0; step < 30; step++) tracker.logMetrics(step, { loss: 10 - step / 10 });
      for (let step = 20; step < 40; step++) tracker.logMetrics(step, { loss: 5 - step / 10 }); // re-ran 20..29
      await tracker.saveResults();
    `);
    expect(written.code, written.stderr).toBe(0);
    await waitFor(async () => ((await ask(ui.port, "/api/table")).json() as { runs: { name: string[] } }).runs.name.includes("resumed"));
    const chart = ((await get("/api/metrics?runs=resumed&keys=loss")).json() as { charts: Array<{ x: number[]; series: Array<{ values: number[] }> }> }).charts[0]!;
    const records = await readMetrics(join(dir, "metrics.jsonl")).toArray();
    expect(chart.x).toEqual(records.map((record) => record.step));
    expect(chart.series[0]!.values).toEqual(records.map((record) => record.loss));
  });

  it("system figures from system.jsonl, one series per GPU", async () => {
    const dir = join(root, "sweep", "lr_0.001");
    const sample = (time: number, util: number) =>
      JSON.stringify({ node: 0, hostname: "h", time, gpus: [{ index: 0, utilization_gpu_percent: util, power_watts: 300 }, { index: 1, utilization_gpu_percent: util / 2, power_watts: 200 }], process_tree: { pids: [1], cpu_percent: 99, rss_bytes: 2 ** 30, note: null }, host: { memory_total_bytes: null, memory_available_bytes: null } });
    writeFileSync(join(dir, "system.jsonl"), `${[sample(1764300000, 80), sample(1764300001, 90)].join("\n")}\n`);
    const system = (await get(`/api/system?runs=${encodeURIComponent("sweep/lr_0.001")}&x=time`)).json() as { charts: Array<{ name: string; x: number[]; series: Array<{ label: string; values: number[] }> }> };
    const util = system.charts.find((chart) => chart.name === "utilization_gpu_percent")!;
    expect(util.series.map((series) => series.label)).toEqual(["sweep/lr_0.001 gpu0", "sweep/lr_0.001 gpu1"]);
    expect(util.x).toEqual([1764300000, 1764300001]);
    expect(util.series[1]!.values).toEqual([40, 45]);
    expect(system.charts.map((chart) => chart.name)).toContain("process/cpu_percent");
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("notes and tags", () => {
  const name = "sweep/lr_0.0001";

  it("are written to notes.json atomically, read back by Python, and refused when stale", async () => {
    const page = await get("/");
    const token = /name="config-tracker-token" content="([^"]+)"/.exec(page.text)![1]!;
    const put = (body: unknown, headers: Record<string, string> = {}) =>
      ask(ui.port, `/api/notes?name=${encodeURIComponent(name)}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Origin: ui.origin, "X-Config-Tracker-Token": token, ...headers },
        body: JSON.stringify(body),
      });
    const saved = await put({ note: "best of the sweep — ünïcode", tags: ["baseline", "lr-sweep"], expected: null });
    expect(saved.status, saved.text).toBe(200);
    const stored = saved.json() as { updated_at: string };
    const python = spawnSync("/usr/bin/python3", ["-c", "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([d['note'], d['tags']]))", join(root, name, "notes.json")], { encoding: "utf8" });
    expect(python.status, python.stderr).toBe(0);
    expect(JSON.parse(python.stdout)).toEqual(["best of the sweep — ünïcode", ["baseline", "lr-sweep"]]);
    // Another writer's change meanwhile: refused, nothing lost.
    expect((await put({ note: "stale", tags: [], expected: null })).status).toBe(409);
    expect((await put({ note: "again", tags: ["x"], expected: stored.updated_at })).status).toBe(200);
    expect(JSON.parse(readFileSync(join(root, name, "notes.json"), "utf8")).note).toBe("again");
    // Bad input: a clear error, nothing written.
    const bad = await put({ note: "x", tags: ["has space"], expected: (JSON.parse(readFileSync(join(root, name, "notes.json"), "utf8")) as { updated_at: string }).updated_at });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
    // And the table has them, for the filter.
    await waitFor(async () => ((await get(`/api/table?filter=${encodeURIComponent("tag=x")}`)).json() as { runs: { name: string[] } }).runs.name.includes(name));
  });

  it("a write needs the token and this server's origin", async () => {
    const page = await get("/");
    const token = /name="config-tracker-token" content="([^"]+)"/.exec(page.text)![1]!;
    const path = `/api/notes?name=${encodeURIComponent(name)}`;
    const body = JSON.stringify({ note: "csrf", tags: [], expected: null });
    const noToken = await ask(ui.port, path, { method: "PUT", headers: { Origin: ui.origin }, body });
    expect(noToken.status).toBe(403);
    const otherSite = await ask(ui.port, path, { method: "PUT", headers: { Origin: "http://evil.example", "X-Config-Tracker-Token": token }, body });
    expect(otherSite.status).toBe(403);
    expect(otherSite.json()).toMatchObject({ error: { code: "ORIGIN_REFUSED" } });
    expect(JSON.parse(readFileSync(join(root, name, "notes.json"), "utf8")).note).not.toBe("csrf");
  });
});

describe("security", () => {
  it("refuses a Host header that is not this server's (DNS rebinding)", async () => {
    for (const host of ["evil.example", "evil.example:80", `attacker.test:${ui.port}`]) {
      const reply = await ask(ui.port, "/api/runs", { headers: { Host: host } });
      expect(reply.status, host).toBe(403);
      expect(reply.json()).toMatchObject({ error: { code: "HOST_REFUSED" } });
    }
    expect((await ask(ui.port, "/api/info", { headers: { Host: `localhost:${ui.port}` } })).status).toBe(200);
  });

  it("serves nothing outside the roots: .., encoded, absolute, as run names, log files and URL paths", async () => {
    for (const path of [
      "/../package.json",
      "/%2e%2e/package.json",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "//etc/passwd",
      "/etc/passwd",
      `/${root}/sweep/lr_0.001/config.json`,
      "/api/../../etc/passwd",
    ]) {
      const reply = await ask(ui.port, path);
      expect(reply.status, path).toBe(404);
      expect(reply.text, path).not.toContain("root:x:0");
      expect(reply.text, path).not.toContain('"experiment_id"');
    }
    for (const name of ["../../../etc", "..%2F..%2Fetc", "/etc", join(root, "sweep", "lr_0.001"), "sweep/../sweep/lr_0.001", "%2e%2e"]) {
      expect((await ask(ui.port, `/api/run?name=${encodeURIComponent(name)}`)).status, name).toBe(404);
      expect((await ask(ui.port, `/api/run?name=${name}`)).status, name).toBe(404);
    }
    for (const file of ["../config.json", "/etc/passwd", "..%2Fconfig.json", "metrics.jsonl"]) {
      const reply = await ask(ui.port, `/api/log?name=${encodeURIComponent("sweep/lr_0.001")}&file=${encodeURIComponent(file)}`);
      expect(reply.status, file).toBe(400);
    }
  });

  it("does not follow symbolic links out of the roots, nor read special files", async () => {
    const outside = tempDir("ct-ui-outside-");
    writeFileSync(join(outside, "secret.txt"), "TOP-SECRET\n");
    // A run whose output.log and metrics.jsonl lead outside.
    const dir = join(root, "linked");
    const made = await runScript(`const t = new ct.ConfigTracker(${JSON.stringify(dir)}); await t.saveConfig({ a: 1 }); await t.saveResults();`);
    expect(made.code, made.stderr).toBe(0);
    symlinkSync(join(outside, "secret.txt"), join(dir, "output.log"));
    symlinkSync(join(outside, "secret.txt"), join(dir, "metrics.jsonl"));
    // A folder of runs outside, linked into the root: not listed (as ls does not follow links).
    const elsewhere = join(outside, "runs", "hidden_run");
    execFileSync(process.execPath, ["-e", `require("fs").mkdirSync(${JSON.stringify(elsewhere)}, { recursive: true })`]);
    cpSync(join(root, "failed_run", "config.json"), join(elsewhere, "config.json"));
    symlinkSync(join(outside, "runs"), join(root, "linked_folder"));
    // A run whose status.json is a FIFO: listed with a warning, never read (no hang).
    const fifo = join(root, "fifo_run");
    mkdirSync(fifo);
    cpSync(join(root, "failed_run", "config.json"), join(fifo, "config.json"));
    execFileSync("mkfifo", [join(fifo, "status.json")]);
    // The links may come after the run's first read (a run that is not running is looked at again
    // within the live window): wait for both new facts, however the reads fell.
    const hasWarnings = (table: { runs: { name: string[]; warnings: string[][] } }, name: string) =>
      (table.runs.warnings[table.runs.name.indexOf(name)] ?? []).length > 0;
    await waitFor(async () => {
      const table = (await get("/api/table")).json() as { runs: { name: string[]; warnings: string[][] } };
      return hasWarnings(table, "fifo_run") && hasWarnings(table, "linked");
    }, 25_000);
    const table = (await get("/api/table")).json() as { runs: { name: string[]; warnings: string[][] } };
    expect(table.runs.name).not.toContain("linked_folder/hidden_run");
    const fifoWarnings = table.runs.warnings[table.runs.name.indexOf("fifo_run")]!;
    expect(fifoWarnings.join(" ")).toContain("not a regular file");
    const linkedWarnings = table.runs.warnings[table.runs.name.indexOf("linked")]!;
    expect(linkedWarnings.join(" ")).toContain("leads outside the folders served");
    const log = await ask(ui.port, "/api/log?name=linked");
    expect(log.status).toBe(422);
    expect(log.text).not.toContain("TOP-SECRET");
    const run = await ask(ui.port, "/api/run?name=linked");
    expect(run.status).toBe(422);
    expect(run.text).not.toContain("TOP-SECRET");
    const charts = await ask(ui.port, "/api/metrics?runs=linked");
    expect(charts.text).not.toContain("TOP-SECRET");
    expect((await ask(ui.port, "/api/run?name=fifo_run")).status).toBe(422);
  });

  it("bound off loopback, every request needs the token: URL (then a cookie), cookie, or Bearer", async () => {
    const open = await startUi([root, "--host", "0.0.0.0"]);
    try {
      const url = new URL(open.url);
      const token = url.searchParams.get("token")!;
      expect(token.length).toBeGreaterThan(20);
      for (const path of ["/", "/api/runs", "/api/table", "/assets/page.js", "/api/events"]) {
        const reply = await ask(open.port, path);
        expect(reply.status, path).toBe(401);
        expect(reply.text).not.toContain("experiment_id");
      }
      expect((await ask(open.port, `/api/runs?token=wrong${token}`)).status).toBe(401);
      const first = await ask(open.port, `/?token=${token}`);
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe("/");
      const cookie = String(first.headers["set-cookie"]).split(";")[0]!;
      expect(String(first.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await ask(open.port, "/api/table", { headers: { Cookie: cookie } })).status).toBe(200);
      expect((await ask(open.port, "/api/runs", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      // Loopback clients too.
      expect((await ask(open.port, "/api/runs", { headers: { Host: `localhost:${open.port}` } })).status).toBe(401);
    } finally {
      await open.stop();
    }
  });

  it("sends no run data without the checks and sets a strict content policy on the page", async () => {
    const page = await get("/");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.text).not.toContain("sweep/lr_");
  });
});

describe("live", () => {
  // The server looks every second (and at once where fs.watch works): a change is told within about
  // 1.3 s. The bound asserted is looser so that a loaded machine does not fail it.
  it.each([[[] as string[]], [["--poll"]]])("a running run's rows, metrics and log reach the API and the events within seconds (%j)", async (extra) => {
    const liveRoot = join(tempDir("ct-ui-live-"), "runs");
    const dir = join(liveRoot, "live_run");
    // A run that is running: status.json with a live heartbeat (this test's own process).
    const started = await runScript(`
      const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
      await tracker.saveConfig({ lr: 0.1 });
      tracker.logMetrics(0, { loss: 5 });
      await tracker.flush();
    `);
    expect(started.code, started.stderr).toBe(0);
    // Still running, as far as the folder says: this test's process holds the heartbeat.
    const status = JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
    writeFileSync(join(dir, "status.json"), JSON.stringify({ ...status, status: "running", ended_at: null, exit_code: undefined, pid: process.pid, updated_at: new Date().toISOString() }));
    writeFileSync(join(dir, "output.log"), "epoch 0\n");
    const live = await startUi([liveRoot, ...extra]);
    try {
      const table = (await ask(live.port, "/api/table")).json() as { version: number; runs: { status: string[] } };
      expect(table.runs.status).toEqual(["running"]);
      // Listen to the events.
      const events: string[] = [];
      const { request } = await import("node:http");
      const stream = request({ host: "127.0.0.1", port: live.port, path: "/api/events", headers: { Host: `127.0.0.1:${live.port}` } }, (response) => {
        response.setEncoding("utf8").on("data", (chunk: string) => events.push(chunk));
      });
      stream.end();
      await waitFor(async () => events.join("").includes("event: hello"));
      const wrote = Date.now();
      appendFileSync(join(dir, "metrics.jsonl"), `{"step": 1, "time": ${Date.now() / 1000}, "loss": 4.5}\n`);
      appendFileSync(join(dir, "output.log"), "epoch 1 \u001b[31mred\u001b[0m\n");
      await waitFor(async () => events.join("").includes('"parts":["metrics"') || (events.join("").includes("metrics") && events.join("").includes("log")), 5000);
      expect(Date.now() - wrote).toBeLessThan(5000);
      const chart = ((await ask(live.port, "/api/metrics?runs=live_run&keys=loss")).json() as { charts: Array<{ x: number[] }> }).charts[0]!;
      expect(chart.x).toEqual([0, 1]);
      const log = (await ask(live.port, "/api/log?name=live_run")).json() as { lines: string[] };
      expect(log.lines).toEqual(["epoch 0", "epoch 1 red"]);
      // The row: its latest value, through a delta since the version the page had.
      await waitFor(async () => {
        const delta = (await ask(live.port, `/api/table?since=${table.version}`)).json() as { runs: { name: string[] }; columns: Record<string, { last: unknown[] }> };
        return delta.runs.name.includes("live_run") && delta.columns["m:loss"]?.last[0] === 4.5;
      }, 5000);
      stream.destroy();
    } finally {
      await live.stop();
    }
  });
});
