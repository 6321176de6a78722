/**
 * The dashboard as a user sees it: `config-tracker ui` started from the built CLI, its page in
 * Debian's headless Chromium over the DevTools protocol (no network). The table with its filter
 * and sort in the URL, charts with ink on their canvases, a run's page, a diff, notes saved from
 * the page and read back by Python, a live run's row and log growing, and runs whose names,
 * config, metrics, logs and notes are markup, script closers, U+2028 and bidi marks: shown as
 * text, with no script run and no element made from them. No console errors anywhere.
 * UPDATE_SCREENSHOT=1 writes docs/ui-table.png and docs/ui-run.png from the same pages.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chartInk, findChromium, launchChromium, type ChromiumPage } from "./support/chromium.js";
import { repoRoot, runScript, tempDir } from "./support/helpers.js";
import { startUi, writeRuns, type RunningUi } from "./support/ui.js";

const chromium = findChromium();

const HOSTILE_NAME = "<img src=x onerror=window.__xss=1>";
const BIDI_NAME = "evil\u202egnp.exe";
const HOSTILE_KEY = "</script><script>window.__xss=2</script>";
/** How the table names that config key (config.json's path notation). */
const HOSTILE_PATH = `[${JSON.stringify(HOSTILE_KEY)}]`;
const HOSTILE_VALUE = "<img src=x onerror=window.__xss=3> line\u2028separator";
const HOSTILE_METRIC = "<svg onload=window.__xss=4>";
const HOSTILE_LOG = "<script>window.__xss=5</script> \u001b[2J\u001b]0;title\u0007done \u202eright-to-left";
const HOSTILE_NOTE = "<img src=x onerror=window.__xss=6>";

describe.skipIf(chromium.path === null)(`the dashboard in headless Chromium${chromium.reason ? ` (skipped: ${chromium.reason})` : ""}`, () => {
  let root: string;
  let ui: RunningUi;
  let browser: ChromiumPage;
  const liveDir = () => join(root, "live_run");

  /** Polls an expression in the page until it is truthy; resolves to its value. */
  async function until<T>(expression: string, timeoutMs = 15_000): Promise<T> {
    const started = Date.now();
    for (;;) {
      // An element not there yet reads as "not yet".
      const value = (await browser.evaluate(`(() => { try { return ${expression}; } catch { return null; } })()`)) as T;
      if (value) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function open(query: string): Promise<void> {
    await browser.open(`${ui.url}${query}`);
    await browser.evaluate("window.dashboard.ready");
  }

  const shownRuns = () => browser.evaluate(`window.dashboard.table.shown().map((row) => row.name)`) as Promise<string[]>;

  beforeAll(async () => {
    root = join(tempDir("ct-ui-browser-"), "runs");
    await writeRuns(root);
    // Runs whose every string is hostile, written by the tracker (the names as folder names).
    const hostile = await runScript(`
      for (const name of [${JSON.stringify(HOSTILE_NAME)}, ${JSON.stringify(BIDI_NAME)}]) {
        const tracker = new ct.ConfigTracker(${JSON.stringify(root)} + "/hostile/" + name);
        await tracker.saveConfig({ [${JSON.stringify(HOSTILE_KEY)}]: ${JSON.stringify(HOSTILE_VALUE)}, lr: 0.5 }, { dataset: { name: ${JSON.stringify(HOSTILE_VALUE)} } });
        for (let step = 0; step < 20; step++) tracker.logMetrics(step, { [${JSON.stringify(HOSTILE_METRIC)}]: step, loss: 1 / (step + 1) });
        await tracker.saveResults();
      }
    `);
    expect(hostile.code, hostile.stderr).toBe(0);
    const hostileDir = join(root, "hostile", HOSTILE_NAME);
    writeFileSync(join(hostileDir, "output.log"), `${HOSTILE_LOG}\n`);
    writeFileSync(join(hostileDir, "notes.json"), JSON.stringify({ note: HOSTILE_NOTE, tags: ["<b>tag</b>"] }));
    // A run still going: its heartbeat is this test's process.
    const live = await runScript(`
      const tracker = new ct.ConfigTracker(${JSON.stringify(join(root, "live_run"))});
      await tracker.saveConfig({ lr: 0.2, batch_size: 12 });
      for (let step = 0; step < 10; step++) tracker.logMetrics(step, { train_loss: 3 - step / 10 });
      await tracker.flush();
    `);
    expect(live.code, live.stderr).toBe(0);
    const status = JSON.parse(readFileSync(join(liveDir(), "status.json"), "utf8"));
    writeFileSync(join(liveDir(), "status.json"), JSON.stringify({ ...status, status: "running", ended_at: null, exit_code: undefined, pid: process.pid, updated_at: new Date().toISOString() }));
    writeFileSync(join(liveDir(), "output.log"), "step 0 loss 3.0\n");
    ui = await startUi([root]);
    browser = await launchChromium({ path: chromium.path as string, width: 1400, height: 1000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it("shows every run, filters and sorts from the URL, and keeps them in the URL", async () => {
    await open("");
    // The table was asked for once, while the script loaded (the page's preload, used by its fetch).
    expect(await browser.evaluate(`performance.getEntriesByType("resource").filter((entry) => entry.name.endsWith("/api/table")).length`)).toBe(1);
    expect((await shownRuns()).sort()).toEqual(
      ["failed_run", "live_run", "sweep/lr_0.0001", "sweep/lr_0.0003", "sweep/lr_0.001", `hostile/${HOSTILE_NAME}`, `hostile/${BIDI_NAME}`].sort(),
    );
    // Grouped by sweep folder, foldable.
    expect(await browser.evaluate(`[...document.querySelectorAll(".row.group .group-name")].map((e) => e.textContent)`)).toEqual(
      expect.arrayContaining(["sweep", "hostile", "(top level)"]),
    );
    await open(`?filter=${encodeURIComponent("config.lr>=3e-4 sweep")}&sort=-m:val_loss`);
    expect(await shownRuns()).toEqual(["sweep/lr_0.0003", "sweep/lr_0.001"]);
    expect(await browser.evaluate(`document.querySelector("input.filter").value`)).toBe("config.lr>=3e-4 sweep");
    // Typing a filter: the rows and the URL follow.
    await browser.evaluate(`(() => { const input = document.querySelector("input.filter"); input.value = "status=failed|running"; input.dispatchEvent(new Event("input")); })()`);
    await until(`location.search.includes("filter=status")`);
    expect((await shownRuns()).sort()).toEqual(["failed_run", "live_run"]);
    // A header click sorts, and says so in the URL.
    await open("?filter=sweep");
    await browser.evaluate(`document.querySelector('.cell.head[data-column="m:val_loss"]').click()`);
    expect(await browser.evaluate("location.search")).toContain("sort=m%3Aval_loss");
    expect(await shownRuns()).toEqual(["sweep/lr_0.001", "sweep/lr_0.0003", "sweep/lr_0.0001"]);
    expect(browser.problems).toEqual([]);
  });

  it("draws the charts of the selected runs, metrics and their smoothing", async () => {
    await open(`?runs=${encodeURIComponent("sweep/lr_0.001")}&runs=${encodeURIComponent("sweep/lr_0.0003")}&smooth=0.6`);
    await until(`document.querySelectorAll(".charts-panel figure.chart").length >= 3`);
    const charts = (await browser.evaluate(chartInk(".table-view"))) as Array<{ metric: string; inked: number; colours: number }>;
    expect(charts.map((chart) => chart.metric)).toEqual(["lr", "train_loss", "val_loss"]);
    for (const chart of charts) {
      expect(chart.inked, chart.metric).toBeGreaterThan(3000);
      expect(chart.colours, chart.metric).toBeGreaterThan(3);
    }
    // The selection is in the URL and the table.
    expect(await browser.evaluate(`document.querySelectorAll(".row.run.selected").length`)).toBe(2);
    expect(browser.problems).toEqual([]);
    if (process.env.UPDATE_SCREENSHOT === "1") {
      await open(`?filter=sweep&runs=${encodeURIComponent("sweep/lr_0.001")}&runs=${encodeURIComponent("sweep/lr_0.0003")}&runs=${encodeURIComponent("sweep/lr_0.0001")}&sort=m:val_loss`);
      await until(`document.querySelectorAll(".table-view figure.chart").length >= 3`);
      mkdirSync(join(repoRoot, "docs"), { recursive: true });
      writeFileSync(join(repoRoot, "docs", "ui-table.png"), await browser.screenshot());
    }
  });

  it("shows a run's page: config tree, checkpoints with the best marked, results, log; and a diff", async () => {
    await open(`?view=run&run=${encodeURIComponent("sweep/lr_0.001")}`);
    await until(`document.querySelector('.run-section[data-section="config"]')`);
    const text = (await browser.evaluate(`document.querySelector(".run-page").innerText`)) as string;
    expect(text).toContain("sweep/lr_0.001");
    expect(text).toContain("betas");
    expect(text).toContain("shakespeare_char");
    expect(text).toMatch(/★ best/);
    expect(text).toContain("best_val_loss");
    await until(`document.querySelectorAll(".run-page figure.chart").length >= 3`);
    if (process.env.UPDATE_SCREENSHOT === "1") writeFileSync(join(repoRoot, "docs", "ui-run.png"), await browser.screenshot());
    await open(`?view=diff&a=${encodeURIComponent("sweep/lr_0.001")}&b=${encodeURIComponent("sweep/lr_0.0003")}`);
    await until(`document.querySelector("table.diff")`);
    const rows = (await browser.evaluate(`[...document.querySelectorAll("table.diff tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent))`)) as string[][];
    expect(rows).toContainEqual(["~", "config.lr", "0.001", "3e-4"]);
    expect(browser.problems).toEqual([]);
  });

  it("saves notes and tags from the page into notes.json, which Python reads back", async () => {
    const name = "sweep/lr_0.0003";
    await open(`?view=run&run=${encodeURIComponent(name)}`);
    await until(`document.querySelector("textarea.note-text")`);
    await browser.evaluate(`(() => {
      document.querySelector("textarea.note-text").value = "diverged after warmup?";
      document.querySelector("input.tags-input").value = "baseline, keep";
      document.querySelector("button.save-notes").click();
    })()`);
    await until(`document.querySelector(".notes .saved").textContent.startsWith("saved")`);
    const python = spawnSync("/usr/bin/python3", ["-c", "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([d['note'], d['tags']]))", join(root, name, "notes.json")], { encoding: "utf8" });
    expect(python.status, python.stderr).toBe(0);
    expect(JSON.parse(python.stdout)).toEqual(["diverged after warmup?", ["baseline", "keep"]]);
    // Filterable at once.
    await open("?filter=tag%3Dkeep");
    await until(`window.dashboard.table.shown().length === 1`);
    expect(await shownRuns()).toEqual([name]);
    expect(browser.problems).toEqual([]);
  });

  it("a live run: its row and its log grow as it writes", async () => {
    await open("?filter=live_run&cols=m:train_loss");
    expect(await until(`document.querySelector('.row.run .status').textContent`)).toBe("running");
    appendFileSync(join(liveDir(), "metrics.jsonl"), `{"step": 10, "time": ${Date.now() / 1000}, "train_loss": 0.125}\n`);
    await until(`[...document.querySelectorAll(".row.run .cell.num")].some((cell) => cell.textContent === "0.125")`, 10_000);
    await open(`?view=run&run=live_run`);
    await until(`document.querySelector("pre.log").textContent.includes("step 0 loss 3.0")`);
    appendFileSync(join(liveDir(), "output.log"), "step 10 loss 0.125\n");
    await until(`document.querySelector("pre.log").textContent.includes("step 10 loss 0.125")`, 10_000);
    expect(browser.problems).toEqual([]);
  });

  it("renders every string a run provides as text: no script runs, no element is made from it", async () => {
    const hostile = `hostile/${HOSTILE_NAME}`;
    await open(`?runs=${encodeURIComponent(hostile)}&runs=${encodeURIComponent(`hostile/${BIDI_NAME}`)}&cols=${encodeURIComponent(`c:${HOSTILE_PATH}`)}&cols=${encodeURIComponent(`m:${HOSTILE_METRIC}`)}`);
    await until(`document.querySelectorAll(".charts-panel figure.chart").length >= 2`);
    const table = (await browser.evaluate(`(() => ({
      names: [...document.querySelectorAll(".row.run .cell.name a")].map((a) => a.textContent),
      heads: [...document.querySelectorAll(".cell.head")].map((e) => e.textContent),
      cells: [...document.querySelectorAll(".row.run .cell")].map((e) => e.textContent),
      legends: [...document.querySelectorAll(".u-legend .u-label")].map((e) => e.textContent),
      charts: [...document.querySelectorAll("figure.chart figcaption")].map((e) => e.textContent),
    }))()`)) as Record<string, string[]>;
    expect(table.names).toEqual(expect.arrayContaining([HOSTILE_NAME, BIDI_NAME]));
    expect(table.heads).toContain(HOSTILE_PATH);
    expect(table.heads).toContain(HOSTILE_METRIC);
    expect(table.cells).toContain(HOSTILE_VALUE);
    expect(table.legends).toContain(hostile);
    expect(table.charts!.some((caption) => caption.startsWith(HOSTILE_METRIC))).toBe(true);
    await open(`?view=run&run=${encodeURIComponent(hostile)}`);
    await until(`document.querySelector("pre.log").textContent.includes("done")`);
    const page = (await browser.evaluate(`(() => ({
      title: document.querySelector(".run-head h2").textContent,
      log: document.querySelector("pre.log").textContent,
      note: document.querySelector("textarea.note-text").value,
      text: document.querySelector(".run-page").textContent,
    }))()`)) as Record<string, string>;
    expect(page.title).toBe(hostile);
    // Terminal escapes are gone; the bidi override is shown as an escape; the markup as text.
    expect(page.log).toContain("<script>window.__xss=5</script> done \\u202eright-to-left");
    expect(page.log).not.toContain("\u001b");
    expect(page.note).toBe(HOSTILE_NOTE);
    expect(page.text).toContain(HOSTILE_KEY);
    expect(page.text).toContain(HOSTILE_VALUE);
    await open(`?view=diff&a=${encodeURIComponent(hostile)}&b=${encodeURIComponent("sweep/lr_0.001")}`);
    await until(`document.querySelector("table.diff")`);
    expect(await browser.evaluate(`document.querySelector("table.diff").textContent.includes(${JSON.stringify(HOSTILE_VALUE)})`)).toBe(true);
    // Nothing ran, nothing was made.
    expect(await browser.evaluate("window.__xss")).toBeUndefined();
    expect(await browser.evaluate(`document.querySelectorAll("img, svg, script:not([src]), iframe, object").length`)).toBe(0);
    expect(browser.problems).toEqual([]);
  });
});
