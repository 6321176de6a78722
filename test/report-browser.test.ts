/**
 * The compare page in a real browser: Debian's headless Chromium opens the file (no network),
 * and the test checks there are no console errors or exceptions, one chart per metric (and per
 * GPU figure) with ink on its canvas, and every run's name on the page. UPDATE_SCREENSHOT=1
 * writes docs/compare-report.png from the same page.
 */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, inject, it } from "vitest";

import { loadRunsFrom } from "../src/views/compare-table.js";
import { renderReport } from "../src/views/report.js";
import { chartInk, findChromium, launchChromium } from "./support/chromium.js";
import { repoRoot, runCli, runScript, tempDir, writeScenario } from "./support/helpers.js";

const chromium = findChromium();
const tree = join(import.meta.dirname, "fixtures", "runs", "tree");
const stubs = inject("stubs");
// Two GPUs whose figures ramp over the sampler's first calls (the stand-in NVML's A..B values).
const TWO_GPUS = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0 util=10..97:5..40 mem_used=2000000000..60000000000 power=120..650 power_limit=700 temp=35..71 sm_clock=1980 gpm=1 gpm_sm=5..96.6 gpm_occupancy=14.3 gpm_tensor=93.7 gpm_dram=16.1
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-bbbbbbbb-c61c-4795-b757-5132caeb8e70 memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0 util=5..90:5..30 mem_used=2000000000..50000000000 power=100..600 power_limit=700 temp=33..66 sm_clock=1980 gpm=1 gpm_sm=3..90
`;

describe.skipIf(chromium.path === null)(`the HTML report in headless Chromium${chromium.reason ? ` (skipped: ${chromium.reason})` : ""}`, () => {
  it("draws every chart without errors and names every run", async () => {
    // The torch-trained fixtures plus a small sweep written by this package's tracker.
    const root = join(tempDir("ct-report-"), "runs");
    cpSync(tree, join(root, "torch"), { recursive: true });
    const written = await runScript(`
      for (const lr of [0.001, 0.0003, 0.0001]) {
        const tracker = new ct.ConfigTracker(${JSON.stringify(root)} + "/sweep/lr_" + lr);
        await tracker.saveConfig({ lr, batch_size: 12 });
        for (let step = 0; step <= 3000; step++) {
          tracker.logMetrics(step, { train_loss: 4 * Math.exp(-step * lr * 2) + 1 + 0.05 * Math.sin(step), lr });
          if (step % 250 === 0) tracker.logMetrics(step, { val_loss: 4 * Math.exp(-step * lr * 2) + 1.3 });
        }
        await tracker.saveResults();
      }
    `);
    expect(written.code, written.stderr).toBe(0);
    // A run recorded by config-tracker run, its GPUs sampled from the stand-in NVML.
    const child = `for (let step = 1; step <= 12; step++) { await new Promise((r) => setTimeout(r, 60)); console.log(JSON.stringify({ step, train_loss: 5 / step })); }`;
    const recorded = runCli(["run", "--dir", join(root, "gpu_run"), "--interval", "0.05", "--set", "lr=0.002", "--", process.execPath, "--input-type=module", "-e", child], {
      CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
      FAKE_NVML_CONFIG: writeScenario(TWO_GPUS),
      CONFIG_TRACKER_DISABLE_GIT: "1",
    });
    expect(recorded.status, recorded.stderr).toBe(0);
    const runs = await loadRunsFrom([root]);
    expect(runs).toHaveLength(6);
    const html = await renderReport(runs, { title: "config-tracker: a learning-rate sweep and two torch runs" });
    const page = join(tempDir("ct-report-"), "report.html");
    writeFileSync(page, html);
    const expectedCharts = [...html.matchAll(/<figure class="chart" data-metric="([^"]+)"/g)].map((match) => match[1]);
    expect(expectedCharts).toEqual([
      "val_loss",
      "loss",
      "train_loss",
      "lr",
      "GPU utilisation (kernel running)",
      "SM active (GPM)",
      "GPU memory used",
      "GPU power",
      "GPU temperature",
      "CPU of the process tree",
      "Memory of the process tree (RSS)",
      "Host memory in use",
    ]);

    const browser = await launchChromium({ path: chromium.path as string, width: 1400, height: 1000 });
    try {
      await browser.open(pathToFileURL(page).href);
      const seen = (await browser.evaluate(`(() => ({
        ready: typeof window.report === "object" && window.report.charts.length,
        drawMs: window.report.drawMs,
        charts: ${chartInk()},
        text: document.body.innerText,
      }))()`)) as { ready: number; drawMs: number | null; charts: Array<{ metric: string; width: number; inked: number; colours: number }>; text: string };
      expect(browser.problems).toEqual([]);
      expect(seen.ready).toBe(expectedCharts.length);
      expect(seen.drawMs).toBeGreaterThan(0); // every chart's draw hook ran
      expect(seen.charts.map((chart) => chart.metric)).toEqual(expectedCharts);
      for (const chart of seen.charts) {
        expect(chart.width, chart.metric).toBeGreaterThan(300);
        // Grid and axes alone ink a few thousand pixels in grey; the runs' lines add colours.
        expect(chart.inked, chart.metric).toBeGreaterThan(5000);
        expect(chart.colours, chart.metric).toBeGreaterThan(4);
      }
      for (const run of runs) expect(seen.text).toContain(run.name);
      expect(seen.text).toContain("gpu_run gpu1"); // each GPU its own series
      // Zoom and resize work and stay quiet.
      await browser.evaluate(`(() => { const u = window.report.charts[1]; u.setScale("x", { min: 100, max: 600 }); u.setSize({ width: 700, height: 300 }); })()`);
      expect(browser.problems).toEqual([]);
      if (process.env.UPDATE_SCREENSHOT === "1") {
        await browser.evaluate(`(() => { const u = window.report.charts[1]; u.setScale("x", { min: 0, max: 3000 }); u.setSize({ width: u.root.parentNode.clientWidth, height: 300 }); })()`);
        mkdirSync(join(repoRoot, "docs"), { recursive: true });
        writeFileSync(join(repoRoot, "docs", "compare-report.png"), await browser.screenshot());
      }
    } finally {
      await browser.close();
    }
  });
});
