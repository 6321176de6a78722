// Looking at runs, called by bench/run.js, each side by side with the alternative:
//  - `config-tracker ls` over 300 runs (config, status, results, a 1,000-line metrics log each),
//    against the Python script a user would write (os.walk + json.load of the same files);
//  - `compare --html` over 50 runs x 100,000 steps: the time to write the page, its size, and in
//    headless Chromium the time until every chart is drawn and a redraw of all of them, against
//    the same page with every point kept (no decimation), for one metric's chart.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timed(command, args, runs, options = {}) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    last = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (last.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${last.stderr}`);
  }
  return { ms: median(times), all: times.map((t) => Math.round(t)), stdout: last.stdout, stderr: last.stderr };
}

const PYTHON_LS = `
import json, os, sys
rows = []
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    if "config.json" not in files:
        continue
    dirs[:] = []
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    status = results = None
    if "status.json" in files:
        with open(os.path.join(folder, "status.json")) as f:
            status = json.load(f)
    if "results.json" in files:
        with open(os.path.join(folder, "results.json")) as f:
            results = json.load(f)
    metrics = (results or {}).get("final_metrics", {})
    rows.append((config["experiment_id"], (status or {}).get("status"), config["timestamp"], config.get("git_hash"),
                 config["hardware"].get("gpu_model"), metrics.get("val_loss"), metrics.get("train_loss")))
for row in sorted(rows, key=lambda r: r[2]):
    print("  ".join(str(cell) for cell in row))
`;

export async function benchLook({ root, python }) {
  const cli = join(root, "dist", "cli.js");
  const index = JSON.stringify(join(root, "dist", "index.js"));
  const work = mkdtempSync(join(tmpdir(), "ct-bench-look-"));
  const out = {};
  try {
    // --- 300 runs for ls: one real run written by the tracker, copied with its values changed.
    const runs = join(work, "runs");
    const make = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { ConfigTracker } from ${index};
         const tracker = new ConfigTracker(${JSON.stringify(join(work, "template"))});
         await tracker.saveConfig({ lr: 3e-4, batch_size: 12, model: { n_layer: 6 } }, { dataset: { name: "shakespeare_char" } });
         for (let step = 0; step < 1000; step++) tracker.logMetrics(step, { train_loss: 4 / (step + 1), lr: 3e-4, tokens: 12288 });
         tracker.logMetrics(999, { val_loss: 1.47 });
         await tracker.saveResults();`,
      ],
      { encoding: "utf8", env: { ...process.env, CONFIG_TRACKER_DISABLE_GIT: "1" } },
    );
    if (make.status !== 0) throw new Error(make.stderr);
    for (let i = 0; i < 300; i++) {
      const dir = join(runs, `sweep${Math.floor(i / 100)}`, `run_${String(i).padStart(3, "0")}`);
      cpSync(join(work, "template"), dir, { recursive: true });
      const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      config.experiment_id = `run_${i}`;
      config.config.lr = 1e-4 * (1 + (i % 10));
      writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
    }
    const ls = timed(process.execPath, [cli, "ls", runs], 5);
    const lsJson = timed(process.execPath, [cli, "ls", runs, "--json"], 5);
    const emptyNode = timed(process.execPath, ["-e", ""], 5);
    const pythonLs = python ? timed(python, ["-c", PYTHON_LS, runs], 5) : null;
    const pythonEmpty = python ? timed(python, ["-c", "pass"], 5) : null;
    out.ls = {
      command: "median of 5: node dist/cli.js ls <300 runs, 3 folders deep, each config/status/results + 1,000-line metrics.jsonl>; python: os.walk + json.load of the same files, printing a row each",
      runs: 300,
      lines_printed: ls.stdout.trim().split("\n").length - 1,
      ls_ms: ls.ms,
      ls_json_ms: lsJson.ms,
      node_empty_ms: emptyNode.ms,
      python_script_ms: pythonLs?.ms ?? null,
      python_empty_ms: pythonEmpty?.ms ?? null,
      ratio_ls_over_python: pythonLs ? ls.ms / pythonLs.ms : null,
      target: "ls_ms < 1000",
    };

    // --- 50 runs x 100,000 steps for the report.
    const big = join(work, "big");
    const write = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { mkdirSync, writeFileSync, cpSync, readFileSync } from "node:fs";
         import { join } from "node:path";
         const template = ${JSON.stringify(join(work, "template"))};
         for (let r = 0; r < 50; r++) {
           const dir = join(${JSON.stringify(big)}, "lr_" + r);
           mkdirSync(dir, { recursive: true });
           const config = JSON.parse(readFileSync(join(template, "config.json"), "utf8"));
           config.experiment_id = "lr_" + r; config.config.lr = 1e-4 * (1 + r);
           writeFileSync(join(dir, "config.json"), JSON.stringify(config));
           cpSync(join(template, "results.json"), join(dir, "results.json"));
           cpSync(join(template, "status.json"), join(dir, "status.json"));
           const lines = [];
           let seed = r + 1;
           for (let step = 0; step < 100000; step++) {
             seed = (seed * 1103515245 + 12345) % 2147483648;
             const noise = seed / 2147483648 - 0.5;
             const train = 4 * Math.exp(-step * (1 + r) / 200000) + 1 + 0.1 * noise;
             lines.push(step % 500 === 0
               ? JSON.stringify({ step, time: 1764300000 + step * 0.05, train_loss: train, lr: 3e-4, val_loss: train + 0.3 })
               : JSON.stringify({ step, time: 1764300000 + step * 0.05, train_loss: train, lr: 3e-4 }));
           }
           writeFileSync(join(dir, "metrics.jsonl"), lines.join("\\n") + "\\n");
         }`,
      ],
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
    );
    if (write.status !== 0) throw new Error(write.stderr);
    const report = join(work, "report.html");
    const compare = timed(process.execPath, [cli, "compare", big, "--html", report], 3);
    const rawScript = join(work, "raw.mjs");
    const rawPage = join(work, "raw.html");
    const oneChart = join(work, "one-chart.html");
    writeFileSync(
      rawScript,
      `import { loadRunsFrom, renderReport } from ${index};
       import { writeFileSync } from "node:fs";
       const runs = await loadRunsFrom([${JSON.stringify(big)}]);
       writeFileSync(${JSON.stringify(oneChart)}, await renderReport(runs, { chartMetrics: ["train_loss"] }));
       writeFileSync(${JSON.stringify(rawPage)}, await renderReport(runs, { chartMetrics: ["train_loss"], maxPoints: 200000 }));`,
    );
    const raw = spawnSync(process.execPath, [rawScript], { encoding: "utf8" });
    if (raw.status !== 0) throw new Error(raw.stderr);

    const { findChromium, launchChromium } = await import("../test/support/chromium.js");
    const chromium = findChromium();
    const inBrowser = async (page, repeats) => {
      const loads = [];
      const draws = [];
      const redraws = [];
      let problems = [];
      for (let i = 0; i < repeats; i++) {
        const browser = await launchChromium({ path: chromium.path, width: 1400, height: 1000 });
        try {
          loads.push(await browser.open(pathToFileURL(page).href));
          // A zoom on every chart: uPlot rebuilds the paths and redraws in a microtask, so the
          // time is taken after the next task.
          const measured = await browser.evaluate(`(async () => {
            if (!window.report) return { drawMs: null, redrawMs: null, charts: 0 }; // the blank page
            const t = performance.now();
            for (const u of window.report.charts) u.setScale("x", { min: u.data[0][0], max: u.data[0][Math.floor(u.data[0].length / 2)] });
            await new Promise((resolve) => setTimeout(resolve, 0));
            const zoom = performance.now() - t;
            const t2 = performance.now();
            for (const u of window.report.charts) u.setScale("x", { min: u.data[0][0], max: u.data[0][u.data[0].length - 1] });
            await new Promise((resolve) => setTimeout(resolve, 0));
            return { drawMs: window.report.drawMs, redrawMs: (zoom + performance.now() - t2) / 2, charts: window.report.charts.length };
          })()`);
          draws.push(measured.drawMs);
          redraws.push(measured.redrawMs);
          problems = browser.problems;
        } finally {
          await browser.close();
        }
      }
      return {
        load_to_drawn_ms: median(loads),
        charts_draw_ms: draws[0] === null ? null : median(draws),
        zoom_all_charts_ms: redraws[0] === null ? null : median(redraws),
        console_problems: problems.length,
      };
    };
    const blank = join(work, "blank.html");
    writeFileSync(blank, "<!DOCTYPE html><title>blank</title><p>blank");
    out.report = {
      blank_page_chromium: chromium.path ? await inBrowser(blank, 3) : null,
      command:
        "median of 3: node dist/cli.js compare <50 runs x 100,000 steps> --html report.html; Chromium: median of 3 fresh browsers, file:// navigation to the load event, window.report.drawMs (script start to every chart drawn), then a zoom of every chart's x range (paths rebuilt, redrawn; mean of zoom in and out)",
      runs: 50,
      steps_per_run: 100000,
      metrics_lines_total: 5000000,
      compare_html_ms: compare.ms,
      page_bytes: statSync(report).size,
      chromium: chromium.path ? await inBrowser(report, 3) : { skipped: chromium.reason },
      one_chart_decimated_bytes: statSync(oneChart).size,
      one_chart_decimated_chromium: chromium.path ? await inBrowser(oneChart, 3) : null,
      one_chart_every_point_bytes: statSync(rawPage).size,
      one_chart_every_point_chromium: chromium.path ? await inBrowser(rawPage, 1) : null,
    };
    const every = out.report.one_chart_every_point_chromium;
    const decimated = out.report.one_chart_decimated_chromium;
    if (every && decimated) {
      out.report.ratio_every_point_over_decimated_load = every.load_to_drawn_ms / decimated.load_to_drawn_ms;
      out.report.ratio_every_point_over_decimated_draw = every.charts_draw_ms / decimated.charts_draw_ms;
      out.report.ratio_every_point_over_decimated_zoom = every.zoom_all_charts_ms / decimated.zoom_all_charts_ms;
      out.report.ratio_every_point_over_decimated_bytes = out.report.one_chart_every_point_bytes / out.report.one_chart_decimated_bytes;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

// Alone: node bench/look.js
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(import.meta.dirname, "..");
  const python = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  const result = await benchLook({ root, python: spawnSync(python, ["-c", "pass"]).status === 0 ? python : null });
  console.log(JSON.stringify(result, null, 2));
}
