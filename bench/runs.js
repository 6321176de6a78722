// Live-run benchmarks (called by bench/run.js), each compared in the same run with what a user
// would otherwise do:
//  - 100,000 logMetrics calls of 5 values vs `await appendFile(path, JSON line)` per call (and
//    appendFileSync), both ending with every line on disk;
//  - reading back 1,000,000 lines (with a resumed run's 10,000-step overlap) with readMetrics:
//    time and RSS growth, in a fresh process, median of 3;
//  - how long a 10 MB config's saveConfig holds the event loop (longest gap between 1 ms timer
//    ticks), against JSON.stringify + writeFile of the same config.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function runNode(script, env = {}) {
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, CONFIG_TRACKER_DISABLE_GIT: "1", ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`bench script failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop());
}

export function benchRuns({ root }) {
  const index = JSON.stringify(join(root, "dist", "index.js"));
  const work = mkdtempSync(join(tmpdir(), "ct-bench-runs-"));
  try {
    // 1. logMetrics vs appendFile per call.
    const logRuns = Array.from({ length: 3 }, (_, round) =>
        runNode(`
          import { ConfigTracker } from ${index};
          import { appendFile } from "node:fs/promises";
          import { appendFileSync } from "node:fs";
          const dir = ${JSON.stringify(join(work, "log"))} + ${round};
          const N = 100000;
          const values = (i) => ({ train_loss: 2 + 1 / (i + 1), lr: 6e-4 * (1 - i / N), grad_norm: 0.9 + (i % 7) / 10, tokens: 4096, mfu: 0.41 });
          const tracker = new ConfigTracker(dir);
          let t = performance.now();
          for (let i = 0; i < N; i++) tracker.logMetrics(i, values(i));
          await tracker.flush();
          const ours = performance.now() - t;
          const line = (i) => JSON.stringify({ step: i, time: Date.now() / 1000, ...values(i) }) + "\\n";
          t = performance.now();
          for (let i = 0; i < N; i++) await appendFile(dir + "/append.jsonl", line(i));
          const appendAsync = performance.now() - t;
          t = performance.now();
          for (let i = 0; i < N; i++) appendFileSync(dir + "/append-sync.jsonl", line(i));
          const appendSync = performance.now() - t;
          console.log(JSON.stringify({ ours, appendAsync, appendSync }));`),
    );
    const logging = {
      ours: median(logRuns.map((run) => run.ours)),
      appendAsync: median(logRuns.map((run) => run.appendAsync)),
      appendSync: median(logRuns.map((run) => run.appendSync)),
    };

    // 2. readMetrics over 1,000,000 lines, in a fresh process each time.
    const logDir = join(work, "read");
    runNode(`
      import { ConfigTracker } from ${index};
      const tracker = new ConfigTracker(${JSON.stringify(logDir)});
      const values = (i, resumed) => ({ train_loss: (resumed ? 1.9 : 2) + 1 / (i + 1), lr: 6e-4 * (1 - i / 1e6), grad_norm: 0.9 + (i % 7) / 10, tokens: 4096, mfu: 0.41 });
      for (let i = 0; i < 990000; i++) tracker.logMetrics(i, values(i, false));
      for (let i = 980000; i < 990000; i++) tracker.logMetrics(i, values(i, true)); // a resumption re-runs 10,000 steps
      await tracker.flush();
      console.log("{}");`);
    const reads = Array.from({ length: 3 }, () =>
      runNode(`
        import { readMetrics } from ${index};
        const before = process.memoryUsage().rss;
        let peak = before;
        const t = performance.now();
        const stream = readMetrics(${JSON.stringify(join(logDir, "metrics.jsonl"))});
        let records = 0, last;
        for await (const record of stream) { records++; last = record; if ((records & 0x3fff) === 0) peak = Math.max(peak, process.memoryUsage().rss); }
        const ms = performance.now() - t;
        peak = Math.max(peak, process.memoryUsage().rss);
        console.log(JSON.stringify({ ms, records, lines: stream.stats.lines, superseded: stream.stats.superseded, last_step: last.step,
          rss_growth_mib: (peak - before) / 2 ** 20, max_rss_mib: process.resourceUsage().maxRSS / 1024 }));`),
    );

    // 3. A 10 MB config: the longest the event loop waits during saveConfig.
    const blocking = runNode(`
      import { ConfigTracker } from ${index};
      import { writeFile } from "node:fs/promises";
      const config = {
        vocab: Array.from({ length: 300000 }, (_, i) => "token_" + i),
        table: Array.from({ length: 3000 }, (_, i) => ({ id: i, w: Array.from({ length: 100 }, (_, j) => Math.sin(i * j)) })),
      };
      const bytes = JSON.stringify(config, null, 2).length;
      async function longestGap(work) {
        let longest = 0, last = performance.now();
        const timer = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now; }, 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const t = performance.now();
        await work();
        const total = performance.now() - t;
        await new Promise((resolve) => setTimeout(resolve, 20));
        clearInterval(timer);
        return { longest, total };
      }
      const ours = await longestGap(() => new ConfigTracker(${JSON.stringify(join(work, "big"))}).saveConfig(config));
      const plain = await longestGap(() => writeFile(${JSON.stringify(join(work, "big.json"))}, JSON.stringify(config, null, 2)));
      console.log(JSON.stringify({ bytes, ours, plain }));`);

    const read = {
      median_ms: median(reads.map((r) => r.ms)),
      runs_ms: reads.map((r) => Math.round(r.ms)),
      rss_growth_mib: Math.max(...reads.map((r) => r.rss_growth_mib)),
      max_rss_mib: Math.max(...reads.map((r) => r.max_rss_mib)),
      lines: reads[0].lines,
      records: reads[0].records,
      superseded: reads[0].superseded,
    };
    return {
      log_metrics: {
        command: "100,000 calls of 5 values, then every line on disk; median of 3 fresh processes",
        logMetrics_ms: logging.ours,
        appendFile_per_call_ms: logging.appendAsync,
        appendFileSync_per_call_ms: logging.appendSync,
        ratio_appendFile_over_logMetrics: logging.appendAsync / logging.ours,
        ratio_appendFileSync_over_logMetrics: logging.appendSync / logging.ours,
        target: "appendFile / logMetrics >= 20",
      },
      read_metrics: {
        command: "readMetrics over 1,000,000 lines (990,000 steps, 10,000 re-run by a resumption), fresh process, 3 runs",
        ...read,
        target: "< 2000 ms, < 100 MiB RSS growth",
      },
      big_config: {
        command: "saveConfig of a 10 MB config, longest gap between 1 ms timer ticks",
        json_bytes: blocking.bytes,
        save_config_longest_block_ms: blocking.ours.longest,
        save_config_total_ms: blocking.ours.total,
        stringify_and_write_longest_block_ms: blocking.plain.longest,
        stringify_and_write_total_ms: blocking.plain.total,
        target: "longest block ~100 ms or less",
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
