// safetensors: on a ~100,000-tensor file, inspectCheckpoint against what a
// Node user has without the package, JSON.parse of the header, in the same run: time (median of
// 15 after 3 warm-ups, one process) and peak RSS growth (each in a fresh process that has loaded
// the package and gone idle first). The file comes from bench/make_safetensors.py (no torch).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// In a child: `body` (an async function expression) run once, with the growth of maxRSS.
function peakGrowth(root, path, body) {
  const index = JSON.stringify(join(root, "dist", "checkpoint.js"));
  const script = `import { inspectCheckpoint } from ${index};
    import { openSync, readSync, closeSync } from "node:fs";
    const path = ${JSON.stringify(path)};
    await inspectCheckpoint(${JSON.stringify(join(root, "test", "fixtures", "checkpoints", "nanogpt.safetensors"))});
    globalThis.gc?.();
    const idle = process.resourceUsage().maxRSS;
    await (${body})();
    console.log(JSON.stringify({ idle_kib: idle, growth_mib: (process.resourceUsage().maxRSS - idle) / 1024 }));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const readHeaderAndParse = `() => {
  const fd = openSync(path, "r");
  const head = Buffer.alloc(8);
  readSync(fd, head, 0, 8, 0);
  const n = Number(head.readBigUInt64LE(0));
  const text = Buffer.alloc(n);
  readSync(fd, text, 0, n, 8);
  closeSync(fd);
  return JSON.parse(text.toString("utf8"));
}`;

export async function benchSafetensors({ root }) {
  const dir = process.env.BENCH_CHECKPOINT_DIR ?? join(tmpdir(), "config-tracker-bench");
  const python = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
  if (!existsSync(python)) return { skipped: "needs python3 to write the file" };
  const made = spawnSync(python, [join(root, "bench", "make_safetensors.py"), dir], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(made.stderr);
  const file = JSON.parse(made.stdout);

  const index = JSON.stringify(join(root, "dist", "checkpoint.js"));
  const timing = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { inspectCheckpointRaw } from ${index};
       import { openSync, readSync, closeSync } from "node:fs";
       const path = ${JSON.stringify(file.path)};
       const parse = ${readHeaderAndParse};
       const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
       const inspect = [], json = [];
       let info, parsed;
       for (let i = 0; i < 18; i++) {
         // Interleaved, so both see the same machine load.
         let t = performance.now();
         info = await inspectCheckpointRaw(path);
         if (i >= 3) inspect.push(performance.now() - t);
         t = performance.now();
         parsed = parse();
         if (i >= 3) json.push(performance.now() - t);
       }
       console.log(JSON.stringify({ inspect_ms: median(inspect), json_parse_ms: median(json), num_tensors: info.num_tensors,
         num_parameters: info.num_parameters, bytes_read: info.bytes_read, work_units: info.work_units,
         parsed_entries: Object.keys(parsed).length }));`,
    ],
    { encoding: "utf8" },
  );
  if (timing.status !== 0) throw new Error(timing.stderr);
  const times = JSON.parse(timing.stdout);
  const inspectRss = peakGrowth(root, file.path, "() => inspectCheckpoint(path)");
  const jsonRss = peakGrowth(root, file.path, readHeaderAndParse);
  return {
    command: "npm run bench (bench/safetensors.js); file from bench/make_safetensors.py",
    file_bytes: file.bytes,
    header_bytes: file.header_bytes,
    tensors: file.tensors,
    inspect_num_tensors: times.num_tensors,
    parameters_match: times.num_parameters === file.parameters && times.num_tensors === file.tensors,
    inspect_median_ms: times.inspect_ms,
    json_parse_header_median_ms: times.json_parse_ms,
    ratio_json_parse_over_inspect: times.json_parse_ms / times.inspect_ms,
    inspect_peak_rss_growth_mib: inspectRss.growth_mib,
    json_parse_peak_rss_growth_mib: jsonRss.growth_mib,
    idle_rss_mib: inspectRss.idle_kib / 1024,
    bytes_read: times.bytes_read,
    work_units: times.work_units,
    work_budget_margin: 2 ** 26 / times.work_units, // kInspectionWorkUnits (native/common/work_budget.h)
  };
}
