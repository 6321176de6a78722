/**
 * ls, show, diff, compare and their library functions, on runs written by real tools: two
 * folders the Python ConfigTracker's way from real PyTorch training (test/fixtures/runs, with
 * what torch computed in expected.json), runs this package's tracker writes, and a run recorded
 * by `config-tracker run` against the stand-in NVML (its system.jsonl).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";

import { diffRuns, formatRunDiff } from "../src/views/diff-runs.js";
import { listRuns } from "../src/views/list-runs.js";
import { formatRunList, runListEntries } from "../src/views/list-table.js";
import { loadRun } from "../src/views/load-run.js";
import { compareColumns, formatCompareTable, loadRunsFrom } from "../src/views/compare-table.js";
import { renderReport } from "../src/views/report.js";
import { formatRunPage, runDetails } from "../src/views/show-page.js";
import { parsePythonJson } from "../src/python-json.js";
import { readJsonLines, rejection, runCli, runScript, tempDir, writeScenario } from "./support/helpers.js";

const fixtures = join(import.meta.dirname, "fixtures", "runs");
const tree = join(fixtures, "tree");
interface Expected {
  folder: string;
  num_parameters: number;
  steps: number;
  final_metrics: Record<string, number>;
  max_loss: number;
}
const expected = parsePythonJson(readFileSync(join(fixtures, "expected.json"), "utf8")) as Record<string, Expected>;
const good = expected["sgd_lr0.05"] as Expected;
const diverged = expected["sgd_lr1.5"] as Expected;
const stubs = inject("stubs");

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A copy of the fixture tree to break things in. */
function treeCopy(): string {
  const root = join(tempDir("ct-look-"), "runs");
  cpSync(tree, root, { recursive: true });
  return root;
}

describe("listRuns and loadRun", () => {
  it("finds runs at any depth, the Python tracker's files read as torch wrote them", async () => {
    const runs = await listRuns(tree);
    expect(runs.map((run) => run.name)).toEqual(["group/sgd_lr1.5", "sgd_lr0.05"]);
    const [bad, fine] = runs;
    // No status.json (the Python tracker wrote none), results.json there: finished.
    expect(fine!.status).toBe("finished");
    expect(fine!.state).toBeNull();
    expect(fine!.config.model?.num_parameters).toBe(good.num_parameters);
    expect(fine!.finalMetrics).toEqual(good.final_metrics);
    // The diverged run's NaN came through Python's json.dump and back.
    expect(bad!.finalMetrics.loss).toBeNaN();
    expect(bad!.finalMetrics.best_val_loss).toBe(diverged.final_metrics.best_val_loss);
    // The metrics iterator streams every step torch logged.
    const records = await fine!.metrics().toArray();
    expect(records).toHaveLength(good.steps);
    expect(records.at(-1)!.loss).toBe(good.final_metrics.loss);
    const maxLoss = Math.max(...(await bad!.metrics().toArray()).map((record) => record.loss as number).filter((v) => !Number.isNaN(v)));
    expect(maxLoss).toBe(diverged.max_loss);
    // Absent files are absent, not errors.
    expect(fine!.files).toMatchObject({ results: true, status: false, metrics: true, system: [], checkpoints: false });
    expect(await fine!.systemSummary()).toBeNull();
    expect(await collect(fine!.system())).toEqual([]);
  });

  it("a run's folder, a missing folder and a folder without config.json", async () => {
    const run = await loadRun(join(tree, "sgd_lr0.05"));
    expect(run.id).toBe("sgd_lr0.05");
    expect((await rejection(loadRun(join(tree, "nope")))).message).toBe(`${join(tree, "nope")}: no such folder`);
    const notARun = await rejection(loadRun(join(tree, "group")));
    expect(notARun.code).toBe("NOT_FOUND");
    expect(notARun.message).toBe(`${join(tree, "group")}: no config.json here, not a run's folder`);
    expect((await rejection(listRuns(join(tree, "nope")))).code).toBe("NOT_FOUND");
  });

  it("missing results, metrics and system files show as absent; corrupt ones are named", async () => {
    const root = treeCopy();
    const fine = join(root, "sgd_lr0.05");
    rmSync(join(fine, "results.json"));
    // Without results.json the latest logged values stand in for the final metrics.
    let run = await loadRun(fine);
    expect(run.results).toBeNull();
    expect(run.status).toBe("unknown");
    expect(run.finalMetricsFrom).toBe("metrics log");
    expect(run.finalMetrics.loss).toBe(good.final_metrics.loss);
    expect(run.finalMetrics.val_loss).toBe(good.final_metrics.val_loss);
    rmSync(join(fine, "metrics.jsonl"));
    run = await loadRun(fine);
    expect(run.finalMetrics).toEqual({});
    expect(await run.metrics().toArray()).toEqual([]);
    expect(formatRunPage(await runDetails(run))).toContain("metrics     none (no results.json, no metrics.jsonl)");

    const broken = join(root, "group", "sgd_lr1.5");
    writeFileSync(join(broken, "results.json"), '{"experiment_id": "sgd_lr1.5", "final_metrics": {');
    writeFileSync(join(broken, "status.json"), '{"status": "sleeping"}');
    writeFileSync(join(broken, "system.jsonl"), "not json at all\n\u0000\u0001garbage\n");
    run = await loadRun(broken);
    expect(run.results).toBeNull();
    expect(run.warnings).toEqual([
      expect.stringMatching(new RegExp(`^${join(broken, "results.json")}: not valid JSON`)),
      `${join(broken, "status.json")}: key "status" Invalid option: expected one of "running"|"finished"|"failed"|"interrupted"`,
    ]);
    expect(await collect(run.system())).toEqual([]); // every line skipped, nothing thrown
    const page = formatRunPage(await runDetails(run));
    expect(page).toContain(`warning     ${join(broken, "results.json")}: not valid JSON`);

    writeFileSync(join(broken, "config.json"), "{ truncated");
    const unreadable: string[] = [];
    const runs = await listRuns(root, { onUnreadable: (error) => unreadable.push(error.message) });
    expect(runs.map((entry) => entry.name)).toEqual(["sgd_lr0.05"]);
    expect(unreadable).toEqual([expect.stringMatching(new RegExp(`^${join(broken, "config.json")}: not valid JSON`))]);
    // Without the callback the listing refuses, naming the file.
    expect((await rejection(listRuns(root))).path).toBe(join(broken, "config.json"));
  });

  it("a config.json that is not a run's (a Hugging Face model's) is passed over", async () => {
    const root = treeCopy();
    mkdirSync(join(root, "hf-model"));
    writeFileSync(join(root, "hf-model", "config.json"), JSON.stringify({ architectures: ["GPT2LMHeadModel"], n_layer: 12 }));
    mkdirSync(join(root, "sgd_lr0.05", ".previous", "2024"), { recursive: true });
    cpSync(join(root, "sgd_lr0.05", "config.json"), join(root, "sgd_lr0.05", ".previous", "2024", "config.json"));
    expect((await listRuns(root)).map((run) => run.name)).toEqual(["group/sgd_lr1.5", "sgd_lr0.05"]);
  });

  it("a running run whose heartbeat stopped is lost; this package's runs carry git, status and duration", async () => {
    const root = join(tempDir("ct-look-"), "runs");
    const script = await runScript(`
      for (const [name, lr] of [["a", 0.1], ["b", 0.2]]) {
        const tracker = new ct.ConfigTracker(${JSON.stringify(root)} + "/" + name);
        await tracker.saveConfig({ lr, layers: 2 });
        for (let step = 0; step < 50; step++) tracker.logMetrics(step, { loss: 1 / (step + 1) / lr });
        await tracker.saveResults();
      }
    `);
    expect(script.code, script.stderr).toBe(0);
    // "b" was killed without a word on another host two hours ago.
    const statusPath = join(root, "b", "status.json");
    const status = JSON.parse(readFileSync(statusPath, "utf8"));
    const twoHoursAgo = new Date(Date.now() - 7200_000).toISOString();
    writeFileSync(statusPath, JSON.stringify({ ...status, status: "running", ended_at: null, host: "gpu-node-99", updated_at: twoHoursAgo }));
    const runs = await listRuns(root);
    expect(runs.map((run) => run.status)).toEqual(["finished", "lost"]);
    expect(runs[1]!.state?.lost_reason).toMatch(/^no heartbeat for \d+ s$/);
    const [a] = runListEntries(runs);
    expect(a!.final_metrics.loss).toBeCloseTo(1 / 50 / 0.1, 12);
    expect(a!.duration_seconds).toBeGreaterThan(0);
    const text = formatRunList(runs);
    expect(text.split("\n")[2]).toMatch(/^b\s+lost\s/);
  });
});

describe("durations", () => {
  const quiet = { CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1" };
  const listed = (root: string) =>
    parsePythonJson(runCli(["ls", root, "--json"], quiet).stdout) as Array<{ name: string; status: string; duration_seconds: number }>;
  const shown = (dir: string) => (parsePythonJson(runCli(["show", dir, "--json"], quiet).stdout) as { duration_seconds: number }).duration_seconds;

  it("a resumed run's is the total from its first start (total_time_seconds), not its last session's", () => {
    const root = join(tempDir("ct-duration-"), "runs");
    const session = ["run", "--root", root, "--name", "resumed", "--", process.execPath, "-e", "setTimeout(() => {}, 300)"];
    expect(runCli(session, quiet).status).toBe(0);
    expect(runCli(session, quiet).status).toBe(0);
    const results = JSON.parse(readFileSync(join(root, "resumed", "results.json"), "utf8"));
    const total = results.final_metrics.total_time_seconds as number;
    // The second session alone is shorter than both with the time between them.
    expect(total).toBeGreaterThan(results.duration_seconds + 0.3);
    expect(listed(root).map((run) => [run.name, run.status, run.duration_seconds])).toEqual([["resumed", "finished", total]]);
    expect(shown(join(root, "resumed"))).toBe(total);
  });

  it("a lost run's runs to its last metrics record, not to the heartbeat it wrote when it started", async () => {
    const dir = join(tempDir("ct-duration-"), "runs", "lost");
    const script = await runScript(`
      const tracker = new ct.ConfigTracker(${JSON.stringify(dir)}, { heartbeatMs: 30000 });
      await tracker.saveConfig({ lr: 0.1 });
      tracker.logMetrics(0, { loss: 2 });
      await new Promise((wake) => setTimeout(wake, 1200));
      tracker.logMetrics(1, { loss: 1 });
      await tracker.flush();
      process.kill(process.pid, "SIGKILL");
    `);
    expect(script.signal, script.stderr).toBe("SIGKILL");
    const started = Date.parse(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).timestamp);
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
    const lastRecord = (JSON.parse(lines.at(-1) as string) as { time: number }).time;
    const status = JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
    expect([status.status, (Date.parse(status.updated_at) - started) / 1000]).toEqual(["running", expect.closeTo(0, 0)]);
    const expected = (lastRecord * 1000 - started) / 1000;
    expect(expected).toBeGreaterThanOrEqual(1.2);
    const [entry] = listed(join(dir, ".."));
    expect([entry!.status, entry!.duration_seconds]).toEqual(["lost", expect.closeTo(expected, 6)]);
    expect(shown(dir)).toBeCloseTo(expected, 6);
  });
});

describe("the experiment folder's names", () => {
  it("a two-node run written by config-tracker 0.1.0 (system.node1.jsonl, nodes/<k>-<host>.json) still loads", async () => {
    const run = await loadRun(join(import.meta.dirname, "fixtures", "written-by-0.1.0", "two_nodes"));
    expect(run.nodes.map((node) => [node.node_rank, node.status, node.system_file])).toEqual([
      [0, "finished", "system.jsonl"],
      [1, "finished", "system.node1.jsonl"],
    ]);
    expect(run.files.system).toEqual(["system.jsonl", "system.node1.jsonl"]);
    const samples = await collect(run.system());
    const lines = (name: string) => readFileSync(join(run.dir, name), "utf8").trim().split("\n").length;
    expect(samples.filter((sample) => sample.node === 1)).toHaveLength(lines("system.node1.jsonl"));
    expect(samples).toHaveLength(lines("system.jsonl") + lines("system.node1.jsonl"));
  });

  it("a rank's own system log (sampleSystem on rank 1) is read, its samples carrying the rank", async () => {
    const dir = join(tempDir(), "exp");
    const result = await runScript(`
      const rank = (r) => ({ ...process.env, RANK: String(r), WORLD_SIZE: "2" });
      const main = new ct.ConfigTracker(${JSON.stringify(dir)}, { env: rank(0) });
      await main.saveConfig({ lr: 1 });
      const other = new ct.ConfigTracker(${JSON.stringify(dir)}, { env: rank(1) });
      await other.saveConfig({ lr: 1 });
      other.sampleSystem({ pids: [process.pid], intervalMs: 20 });
      // Three samples written, however long a busy machine takes to give the sampler its turns.
      const { existsSync, readFileSync } = await import("node:fs");
      const log = ${JSON.stringify(join(dir, "system.rank-1.jsonl"))};
      const written = () => (existsSync(log) ? readFileSync(log, "utf8").split("\\n").length - 1 : 0);
      for (let waited = 0; written() < 3 && waited < 20000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      await other.saveResults();
      await main.saveResults();`);
    expect(result.code, result.stderr).toBe(0);
    const run = await loadRun(dir);
    expect(run.files.system).toEqual(["system.rank-1.jsonl"]);
    const samples = await collect(run.system());
    expect(samples.length).toBeGreaterThan(2);
    expect(samples.every((sample) => sample.rank === 1 && sample.process_tree.pids.length > 0)).toBe(true);
    // The summary is the nodes' (as results.json's): a rank's log holds its GPUs a second time.
    expect(await run.systemSummary()).toBeNull();
  });
});

describe("diffRuns", () => {
  it("changed keys as dotted paths, NaN equal to NaN, only changes unless all", async () => {
    const [bad, fine] = await listRuns(tree);
    const diff = diffRuns(fine!, bad!);
    expect(diff.equal).toBe(false);
    expect(diff.differences).toEqual([
      { key: "config.lr", kind: "changed", a: 0.05, b: 1.5 },
      { key: "final_metrics.loss", kind: "changed", a: good.final_metrics.loss, b: NaN },
      { key: "final_metrics.val_loss", kind: "changed", a: good.final_metrics.val_loss, b: NaN },
      { key: "final_metrics.lr", kind: "changed", a: 0.05, b: 1.5 },
      { key: "final_metrics.best_val_loss", kind: "changed", a: good.final_metrics.best_val_loss, b: diverged.final_metrics.best_val_loss },
      { key: "final_metrics.best_val_loss_step", kind: "changed", a: 160, b: 0 },
    ]);
    // A run against itself: equal, NaN included.
    expect(diffRuns(bad!, bad!).equal).toBe(true);
    const all = diffRuns(fine!, bad!, { all: true });
    expect(all.differences.find((entry) => entry.key === "config.optimizer.name")).toEqual({
      key: "config.optimizer.name",
      kind: "same",
      a: "sgd",
      b: "sgd",
    });
    expect(all.differences.find((entry) => entry.key === "model.num_parameters")?.a).toBe(good.num_parameters);
  });

  it("keys only on one side are added or removed", async () => {
    const root = treeCopy();
    const configPath = join(root, "group", "sgd_lr1.5", "config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    config.config.warmup_steps = 10;
    delete config.config.seed;
    config.hardware.gpu_model = "NVIDIA H200";
    writeFileSync(configPath, JSON.stringify(config));
    const [bad, fine] = await listRuns(root);
    const diff = diffRuns(fine!, bad!);
    expect(diff.differences.slice(0, 4)).toEqual([
      { key: "config.lr", kind: "changed", a: 0.05, b: 1.5 },
      { key: "config.seed", kind: "removed", a: 0 },
      { key: "config.warmup_steps", kind: "added", b: 10 },
      { key: "hardware.gpu_model", kind: "changed", a: null, b: "NVIDIA H200" },
    ]);
    expect(formatRunDiff(diff).split("\n").slice(0, 6)).toEqual([
      "--- sgd_lr0.05",
      "+++ group/sgd_lr1.5",
      "~ config.lr                         0.05 -> 1.5",
      "- config.seed                       0",
      "+ config.warmup_steps               10",
      "~ hardware.gpu_model                null -> NVIDIA H200",
    ]);
  });
});

describe("compare", () => {
  it("the table has the config keys that differ, the chosen metrics, GPU and git", async () => {
    const runs = await loadRunsFrom([tree]);
    const columns = compareColumns(runs);
    // val_loss has a direction (lower is better): its best value stands beside the final one.
    expect(columns).toEqual({ configKeys: ["lr"], configKeysLeftOut: 0, metrics: ["val_loss", "best_val_loss", "loss"] });
    expect(formatCompareTable(runs)).toBe(
      [
        // torch's final loss 0.011699358932673931 and val_loss 0.0001684683229541406, to 5 digits;
        // the diverged run's best val_loss 80.26749420166016 before it became NaN
        "RUN              STATUS    lr    val_loss  best_val_loss      loss  GPU  GIT",
        "group/sgd_lr1.5  finished  1.5        NaN         80.267       NaN  -    3f2a9c1",
        "sgd_lr0.05       finished  0.05  1.685e-4       1.685e-4  0.011699  -    3f2a9c1",
        "",
      ].join("\n"),
    );
    // Asked for metrics are shown as asked.
    expect(formatCompareTable(runs, { metrics: ["val_loss"] }).split("\n")[0]).toMatch(/^RUN +STATUS +lr +val_loss +GPU +GIT$/);
    expect(formatCompareTable(runs, { metrics: ["best_val_loss"] })).toContain("best_val_loss");
  });

  it("the HTML report: self-contained, one chart per metric, every run named", async () => {
    const runs = await loadRunsFrom([tree]);
    const html = await renderReport(runs, { generatedAt: new Date("2026-01-01T00:00:00Z") });
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya)/);
    expect(html).toContain("uPlot");
    expect([...html.matchAll(/<figure class="chart" data-metric="([^"]+)"/g)].map((match) => match[1])).toEqual([
      "val_loss",
      "loss",
      "lr",
    ]);
    for (const run of runs) expect(html).toContain(`${run.name}</td>`);
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!) as {
      charts: Array<{ title: string; x: number[]; series: Array<{ label: string; values: Array<number | null> }> }>;
    };
    const loss = data.charts.find((chart) => chart.title === "loss")!;
    expect(loss.x).toHaveLength(good.steps); // 200 steps: kept whole
    const fine = loss.series.find((series) => series.label === "sgd_lr0.05")!;
    // The diverged run spans 37 decades: the chart is on a log scale and carries log10 of the values.
    expect(html).toContain('data-metric="loss"><figcaption>loss <span class="note">(log scale)</span>');
    expect(10 ** (fine.values.at(-1) as number)).toBeCloseTo(good.final_metrics.loss as number, 6);
    // The diverged run's NaN and inf are not drawn (null), its finite values are.
    const bad = loss.series.find((series) => series.label === "group/sgd_lr1.5")!;
    expect(bad.values.at(-1)).toBeNull();
    expect(bad.values[0]).not.toBeNull();
  });

  it("a run's name is text on the page, never markup", async () => {
    const hostile = "<img src=x onerror=alert(1)></script>";
    const run = await loadRun(join(tree, "sgd_lr0.05"), { name: hostile });
    const html = await renderReport([run]);
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("onerror=alert(1)></script>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;</td>");
    // In the charts' data the name is a JSON string with "<" escaped, so it cannot end the script.
    expect(html).toContain('"label":"\\u003cimg src=x onerror=alert(1)>\\u003c/script>"');
  });
});

describe("CLI", () => {
  it("ls: a table, --json, --sort, --metrics; a bad --sort names the key", () => {
    const result = runCli(["ls", tree], { TZ: "UTC" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        "RUN              STATUS    START             DURATION  GIT      GPU  PARAMS  val_loss      loss",
        "group/sgd_lr1.5  finished  2024-05-01 12:34     49.8s  3f2a9c1  -         2       NaN       NaN",
        "sgd_lr0.05       finished  2024-05-01 12:34     49.8s  3f2a9c1  -         2  1.685e-4  0.011699",
        "",
      ].join("\n"),
    );
    const json = parsePythonJson(runCli(["ls", tree, "--json", "--sort=-best_val_loss", "--metrics", "best_val_loss"]).stdout) as Array<
      Record<string, unknown>
    >;
    expect(json.map((entry) => [entry.name, entry.metrics])).toEqual([
      ["group/sgd_lr1.5", { best_val_loss: diverged.final_metrics.best_val_loss }],
      ["sgd_lr0.05", { best_val_loss: good.final_metrics.best_val_loss }],
    ]);
    const sorted = runCli(["ls", tree, "--sort", "config.lr"]).stdout.split("\n");
    expect(sorted[1]).toMatch(/^sgd_lr0.05 /);
    const bad = runCli(["ls", tree, "--sort", "nonsense"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe(
      "config-tracker ls: --sort nonsense: not a column (start, name, id, status, duration, params, git, gpu), a final metric of these runs (none has it), or config.<key>",
    );
    const missing = runCli(["ls", join(tree, "nope")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`config-tracker ls: ${join(tree, "nope")}: no such folder\n`);
  });

  it("ls with an unreadable run: the others listed, a warning naming the file, exit 1", () => {
    const root = treeCopy();
    writeFileSync(join(root, "sgd_lr0.05", "config.json"), "[1, 2");
    const result = runCli(["ls", root]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^RUN .*\ngroup\/sgd_lr1.5 /);
    expect(result.stderr).toMatch(new RegExp(`^config-tracker ls: warning: ${join(root, "sgd_lr0.05", "config.json")}: not valid JSON: .* \\(run left out\\)\\n$`));
  });

  it("show: the page, and --json", () => {
    const result = runCli(["show", join(tree, "sgd_lr0.05")]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[2]).toBe("status      finished (no status.json: results.json is there)");
    expect(result.stdout).toContain("model       Linear, 2 parameters (2, trainable 2)");
    expect(result.stdout).toContain('dataset     {"name":"synthetic-linear","train_examples":256,"val_examples":64}');
    expect(result.stdout).toContain("  lr = 0.05");
    expect(result.stdout).toContain(`software    torch ${"1.13.0a0"}`);
    expect(result.stdout).toMatch(/\n {2}loss +0\.011699\n/);
    expect(result.stdout).toContain("system      not sampled (no system.jsonl)");
    const json = parsePythonJson(runCli(["show", join(tree, "group", "sgd_lr1.5"), "--json"]).stdout) as Record<string, unknown>;
    expect((json.final_metrics as Record<string, number>).loss).toBeNaN();
    expect(json.system).toBeNull();
    const notRun = runCli(["show", tree]);
    expect(notRun.status).toBe(1);
    expect(notRun.stderr).toBe(`config-tracker show: ${tree}: no config.json here, not a run's folder\n`);
    const corrupt = treeCopy();
    writeFileSync(join(corrupt, "sgd_lr0.05", "config.json"), JSON.stringify({ experiment_id: "x", timestamp: "2024-05-01T12:00:00" }));
    const invalid = runCli(["show", join(corrupt, "sgd_lr0.05")]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toBe(`config-tracker show: ${join(corrupt, "sgd_lr0.05", "config.json")}: key "git_hash" is missing\n`);
    // Garbage with newlines and control bytes: still one line (JSON.parse quotes the bad text).
    writeFileSync(join(corrupt, "sgd_lr0.05", "config.json"), '{"experiment_id":\n\u0000\u0001 torn\nmore');
    const garbage = runCli(["show", join(corrupt, "sgd_lr0.05")]);
    expect(garbage.status).toBe(1);
    expect(garbage.stderr).toMatch(new RegExp(`^config-tracker show: ${join(corrupt, "sgd_lr0.05", "config.json")}: not valid JSON: [^\\n]*\\n$`));
  });

  it("diff exits 0 equal, 1 different, 2 on an error", () => {
    const a = join(tree, "sgd_lr0.05");
    const b = join(tree, "group", "sgd_lr1.5");
    const different = runCli(["diff", a, b]);
    expect(different.status).toBe(1);
    expect(different.stdout).toContain("~ config.lr ");
    expect(runCli(["diff", a, a]).status).toBe(0);
    expect(runCli(["diff", a, a]).stdout).toContain("(no differences)");
    const json = JSON.parse(runCli(["diff", a, a, "--json", "--all"]).stdout) as { equal: boolean; differences: unknown[] };
    expect(json.equal).toBe(true);
    expect(json.differences.length).toBeGreaterThan(10);
    const error = runCli(["diff", a, join(tree, "nope")]);
    expect(error.status).toBe(2);
    expect(error.stderr).toBe(`config-tracker diff: ${join(tree, "nope")}: no such folder\n`);
    expect(runCli(["diff", a]).status).toBe(2); // usage
  });

  it("compare and ls: a --metrics name no run has is a warning naming what they have, not a silent empty column", () => {
    const compare = runCli(["compare", tree, "--metrics", "val_loss,nonexist"]);
    expect(compare.status, compare.stderr).toBe(0);
    expect(compare.stderr).toMatch(/^config-tracker compare: warning: --metrics nonexist: no run has this metric \(they have best_val_loss, .*val_loss.*\); its column is empty\n$/);
    const ls = runCli(["ls", tree, "--metrics", "nonexist"]);
    expect(ls.stderr).toMatch(/^config-tracker ls: warning: --metrics nonexist: no run has this metric/);
    expect(runCli(["compare", tree, "--metrics", "val_loss"]).stderr).toBe("");
  });

  it("compare: the table, and --html writes the page; an unwritable target is named", () => {
    const out = join(tempDir(), "report.html");
    const result = runCli(["compare", join(tree, "sgd_lr0.05"), join(tree, "group"), "--html", out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toMatch(/^RUN +STATUS +lr +val_loss +best_val_loss +loss +GPU +GIT$/);
    expect(result.stderr).toMatch(new RegExp(`^wrote ${out} \\(\\d+ KiB, 2 runs\\)\\n$`));
    expect(readFileSync(out, "utf8")).toMatch(/^<!DOCTYPE html>/);
    const blocked = runCli(["compare", tree, "--html", join(tree, "nope", "r.html")]);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toMatch(new RegExp(`^config-tracker compare: ${join(tree, "nope", "r.html")}: ENOENT`));
    const none = runCli(["compare", join(fixtures, "..", "pickles")]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^config-tracker compare: no runs under /);
  });
});

describe("a run recorded by config-tracker run on a machine without GPUs", () => {
  it("compare --html charts its CPU and memory samples from system.jsonl", async () => {
    const root = join(tempDir("ct-look-cpu-"), "runs");
    const busy = `const end = Date.now() + 700; let step = 0; while (Date.now() < end) if (++step % 5e6 === 0) console.log(JSON.stringify({ step, loss: 1e7 / step }));`;
    const quiet = { CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1", CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1" };
    const recorded = runCli(["run", "--dir", join(root, "cpu_only"), "--interval", "0.05", "--", process.execPath, "-e", busy], quiet);
    expect(recorded.status, recorded.stderr).toBe(0);
    const samples = readJsonLines(join(root, "cpu_only", "system.jsonl")) as Array<{
      gpus: unknown[];
      process_tree: { cpu_percent: number | null; rss_bytes: number | null };
      host: { memory_total_bytes: number; memory_available_bytes: number };
    }>;
    expect(samples.length).toBeGreaterThan(3);
    expect(samples.every((sample) => sample.gpus.length === 0)).toBe(true);
    const page = join(root, "..", "report.html");
    const compared = runCli(["compare", root, "--html", page], quiet);
    expect(compared.status, compared.stderr).toBe(0);
    const html = readFileSync(page, "utf8");
    expect(html).toContain("No run has GPU samples (system.jsonl).");
    const data = JSON.parse(html.match(/id="report-data">(.*?)<\/script>/s)![1]!) as {
      charts: Array<{ title: string; unit?: string; x: number[]; series: Array<{ label: string; values: Array<number | null> }> }>;
    };
    const overTime = data.charts.filter((chart) => chart.x.length > 0 && chart.title !== "loss");
    expect(overTime.map((chart) => [chart.title, chart.unit, chart.series.map((series) => series.label)])).toEqual([
      ["CPU of the process tree", "%", ["cpu_only"]],
      ["Memory of the process tree (RSS)", " GiB", ["cpu_only"]],
      ["Host memory in use", " GiB", ["cpu_only"]],
    ]);
    const [cpu, rss, host] = overTime as [(typeof overTime)[number], (typeof overTime)[number], (typeof overTime)[number]];
    const round = (value: number) => Number(value.toPrecision(6));
    const sampled = samples.filter((sample) => sample.process_tree.cpu_percent !== null);
    expect(cpu.series[0]!.values).toEqual(sampled.map((sample) => round(sample.process_tree.cpu_percent as number)));
    expect(Math.max(...(cpu.series[0]!.values as number[]))).toBeGreaterThan(0);
    expect(rss.series[0]!.values).toEqual(sampled.map((sample) => round((sample.process_tree.rss_bytes as number) / 2 ** 30)));
    expect(host.series[0]!.values).toEqual(samples.map((sample) => round((sample.host.memory_total_bytes - sample.host.memory_available_bytes) / 2 ** 30)));
  });
});

describe("show, as a user reads it", () => {
  it("a failed run: its status in one phrase, its node counted in words, a corrupt results.json named as such", () => {
    const dir = join(tempDir("ct-look-show-"), "runs", "failed");
    const quiet = { CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1", CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1" };
    const child = `console.log(JSON.stringify({ step: 1, loss: 2 })); process.exit(3);`;
    expect(runCli(["run", "--dir", dir, "--", process.execPath, "-e", child], quiet).status).toBe(3);
    const page = () => runCli(["show", dir], quiet).stdout.split("\n");
    const host = JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).host as string;
    const shown = page();
    expect(shown).toContain("status      failed (exit 3) at step 1: the command exited with code 3");
    expect(shown).toContain("metrics     final (results.json)");
    expect(shown).toContain("nodes       1 node");
    expect(shown).toContain(`  node 0  ${host}  failed (exit 3)  0 GPUs`);
    writeFileSync(join(dir, "results.json"), '{"final_metrics": {"loss": 2');
    const corrupt = page();
    expect(corrupt).toContain("metrics     latest logged (results.json could not be read: see the warning)");
    expect(corrupt.find((text) => text.startsWith("warning"))).toMatch(/^warning {5}.*results\.json: not valid JSON/);
  });
});

describe("a run recorded by config-tracker run, GPUs sampled from the stand-in NVML", () => {
  const SCENARIO = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0 util=97:23 mem_used=12000000000 power=650 power_limit=700 temp=61 sm_clock=1980 gpm=1 gpm_sm=96.6 gpm_occupancy=14.3 gpm_tensor=93.7 gpm_dram=16.1
`;
  let dir = "";
  beforeAll(() => {
    dir = join(tempDir("ct-look-run-"), "runs", "sampled");
    const child = `for (let step = 1; step <= 6; step++) { await new Promise((r) => setTimeout(r, 80)); console.log(JSON.stringify({ step, loss: 3 / step })); }`;
    const result = runCli(["run", "--dir", dir, "--interval", "0.05", "--set", "lr=0.001", "--", process.execPath, "--input-type=module", "-e", child], {
      CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
      FAKE_NVML_CONFIG: writeScenario(SCENARIO),
      CONFIG_TRACKER_DISABLE_GIT: "1",
    });
    expect(result.status, result.stderr).toBe(0);
  });

  it("show has the GPUs, their summary and the command; ls the GPU column", () => {
    const shown = runCli(["show", dir]);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/\ngpus {8}NVIDIA H100 80GB HBM3 x1, driver 580\.65\.06, CUDA 13\.0\n/);
    expect(shown.stdout).toMatch(/\n {2}gpu 0 NVIDIA H100 80GB HBM3: util 97% mean, 97% max, SM active 96\.6% mean, 96\.6% max, .*power 650 W mean, 650 W max\n/);
    expect(shown.stdout).toMatch(/\ncommand {5}.*node --input-type=module -e /);
    expect(shown.stdout).toMatch(/\nstatus {6}finished \(exit 0\) at step 6\n/);
    const listed = runCli(["ls", join(dir, "..")]);
    expect(listed.stdout.split("\n")[1]).toMatch(/^sampled +finished .* H100 80GB HBM3 x1 /);
  });

  it("the report charts the GPU figures over time from system.jsonl", async () => {
    const run = await loadRun(dir);
    const samples = await collect(run.system());
    expect(samples.length).toBeGreaterThan(3);
    const html = await renderReport([run]);
    const titles = [...html.matchAll(/<figure class="chart" data-metric="([^"]+)"/g)].map((match) => match[1]);
    expect(titles).toEqual([
      "loss",
      "GPU utilisation (kernel running)",
      "SM active (GPM)",
      "GPU memory used",
      "GPU power",
      "GPU temperature",
      "CPU of the process tree",
      "Memory of the process tree (RSS)",
      "Host memory in use",
    ]);
    const data = JSON.parse(html.match(/id="report-data">(.*?)<\/script>/s)![1]!) as {
      charts: Array<{ title: string; x: number[]; series: Array<{ label: string; values: Array<number | null> }> }>;
    };
    const power = data.charts.find((chart) => chart.title === "GPU power")!;
    expect(power.series.map((series) => series.label)).toEqual(["sampled gpu0"]);
    expect(power.x.length).toBe(samples.length);
    expect(new Set(power.series[0]!.values)).toEqual(new Set([650]));
  });
});
