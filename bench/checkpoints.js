// Checkpoint inspection benchmarks (called by bench/run.js): the same 240-tensor structure at
// ~2 MiB and ~2 GiB; inspectCheckpoint vs torch.load(weights_only=True); peak memory. And a
// 100,000-tensor torch.save file against the pure-JavaScript route (yauzl + pickleparser,
// bench/pure_js_route.js), with peak memory.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchCheckpoints({ root, python }) {
  const dir = process.env.BENCH_CHECKPOINT_DIR ?? join(tmpdir(), "config-tracker-bench");
  const small = join(dir, "small_2MiB.pt");
  const large = join(dir, "large_2GiB.pt");
  if (!existsSync(small) || !existsSync(large)) {
    if (python === null) return { skipped: "needs python3 with torch to write the checkpoints" };
    const made = spawnSync(python, [join(root, "bench", "make_checkpoints.py"), dir], { stdio: "inherit" });
    if (made.status !== 0) throw new Error("make_checkpoints.py failed");
  }
  const index = JSON.stringify(join(root, "dist", "checkpoint.js"));

  // Time: in one process, 3 warm-ups then the median of 25 runs per file.
  const timing = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { inspectCheckpointRaw } from ${index};
       const out = {};
       for (const [label, path] of [["small", ${JSON.stringify(small)}], ["large", ${JSON.stringify(large)}]]) {
         for (let i = 0; i < 3; i++) await inspectCheckpointRaw(path);
         const times = [];
         let info;
         for (let i = 0; i < 25; i++) { const t = performance.now(); info = await inspectCheckpointRaw(path); times.push(performance.now() - t); }
         times.sort((a, b) => a - b);
         out[label] = { median_ms: times[12], bytes_read: info.bytes_read, num_parameters: info.num_parameters, num_tensors: info.num_tensors };
       }
       console.log(JSON.stringify(out));`,
    ],
    { encoding: "utf8" },
  );
  if (timing.status !== 0) throw new Error(timing.stderr);
  const times = JSON.parse(timing.stdout);

  // Peak memory: the growth of maxRSS over an idle process that has already loaded the addon.
  const memory = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { inspectCheckpointRaw, inspectCheckpoint } from ${index};
       await inspectCheckpoint(${JSON.stringify(small)}).catch(() => {});
       globalThis.gc?.();
       const idle = process.resourceUsage().maxRSS;
       await inspectCheckpointRaw(${JSON.stringify(large)});
       console.log(JSON.stringify({ idle_kib: idle, peak_kib: process.resourceUsage().maxRSS }));`,
    ],
    { encoding: "utf8" },
  );
  const rss = JSON.parse(memory.stdout);

  let torchLoad = null;
  let torchVersion = null;
  if (python !== null) {
    const script = `
import time, torch, json
times = []
for _ in range(3):
    t = time.perf_counter(); sd = torch.load(${JSON.stringify(large)}, weights_only=True); times.append(time.perf_counter() - t); del sd
times.sort()
print(json.dumps({"median_ms": times[1] * 1000, "torch": torch.__version__}))`;
    const run = spawnSync(python, ["-c", script], { encoding: "utf8" });
    if (run.status === 0) {
      const parsed = JSON.parse(run.stdout);
      torchLoad = parsed.median_ms;
      torchVersion = parsed.torch;
    }
  }

  return {
    command: "npm run bench (bench/checkpoints.js); checkpoints from bench/make_checkpoints.py",
    small_file_bytes: statSync(small).size,
    large_file_bytes: statSync(large).size,
    tensors: times.large.num_tensors,
    small_inspect_median_ms: times.small.median_ms,
    large_inspect_median_ms: times.large.median_ms,
    ratio_large_over_small: times.large.median_ms / times.small.median_ms,
    large_bytes_read: times.large.bytes_read,
    torch_version: torchVersion,
    torch_load_weights_only_large_median_ms: torchLoad,
    ratio_torch_load_over_inspect: torchLoad === null ? null : torchLoad / times.large.median_ms,
    peak_rss_growth_mib: (rss.peak_kib - rss.idle_kib) / 1024,
    idle_rss_mib: rss.idle_kib / 1024,
  };
}

// Runs `body` (an ES module snippet that sets `result`) in a fresh Node process and returns its
// JSON, with the growth of maxRSS over the process after `setup` ran (package loaded, idle).
function inFreshNode(setup, body) {
  const run = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `${setup}
       const idle = process.resourceUsage().maxRSS;
       let result;
       ${body}
       console.log(JSON.stringify({ ...result, rss_growth_mib: (process.resourceUsage().maxRSS - idle) / 1024 }));`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

export async function benchManyTensors({ root, python }) {
  const dir = process.env.BENCH_CHECKPOINT_DIR ?? join(tmpdir(), "config-tracker-bench");
  const file = join(dir, "many_100k_tensors.pt");
  if (!existsSync(file)) {
    if (python === null) return { skipped: "needs python3 with torch to write the checkpoint" };
    const made = spawnSync(python, [join(root, "bench", "make_checkpoints.py"), dir], { stdio: "inherit" });
    if (made.status !== 0) throw new Error("make_checkpoints.py failed");
  }
  const path = JSON.stringify(file);
  const index = JSON.stringify(join(root, "dist", "checkpoint.js"));
  const pureJs = JSON.stringify(join(root, "bench", "pure_js_route.js"));
  // Time: this box is shared, so the two routes are measured in alternating rounds (a fresh
  // process each, one warm-up, then 3 timed runs), and CPU time is kept beside wall time (the
  // process's own CPU, all threads: what load from others does not inflate).
  const timed = (fn) => `
    await ${fn}(${path});
    const walls = [];
    const cpus = [];
    let out;
    for (let i = 0; i < 3; i++) {
      const c = process.cpuUsage();
      const t = performance.now();
      out = await ${fn}(${path});
      walls.push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpus.push((d.user + d.system) / 1000);
    }
    walls.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    result = { wall_ms: walls[1], cpu_ms: cpus[1], num_parameters: out.num_parameters, num_tensors: out.num_tensors, work_units: out.work_units };`;
  const rounds = { ours: [], theirs: [] };
  for (let round = 0; round < 5; round++) {
    rounds.ours.push(inFreshNode(`import { inspectCheckpointRaw } from ${index};`, timed("inspectCheckpointRaw")));
    rounds.theirs.push(inFreshNode(`import { countWithPureJs } from ${pureJs};`, timed("countWithPureJs")));
  }
  const ours = { ...rounds.ours[0], median_ms: median(rounds.ours.map((r) => r.wall_ms)), cpu_ms: median(rounds.ours.map((r) => r.cpu_ms)) };
  const theirs = { ...rounds.theirs[0], median_ms: median(rounds.theirs.map((r) => r.wall_ms)), cpu_ms: median(rounds.theirs.map((r) => r.cpu_ms)) };
  const ratios = rounds.ours.map((r, i) => rounds.theirs[i].wall_ms / r.wall_ms);
  // Peak memory: one inspection in a process that loaded the package and inspected a tiny file.
  const small = JSON.stringify(join(dir, "small_2MiB.pt"));
  const memory = inFreshNode(
    `import { inspectCheckpointRaw } from ${index}; await inspectCheckpointRaw(${small}); globalThis.gc?.();`,
    `await inspectCheckpointRaw(${path}); result = {};`,
  );
  const pureMemory = inFreshNode(`import { countWithPureJs } from ${pureJs};`, `await countWithPureJs(${path}); result = {};`);
  let torchLoad = null;
  if (python !== null) {
    const script = `
import time, torch, json
t = time.perf_counter(); sd = torch.load(${path}, weights_only=True); ms = (time.perf_counter() - t) * 1000
print(json.dumps({"ms": ms, "n": sum(v.numel() for v in sd.values())}))`;
    const run = spawnSync(python, ["-c", script], { encoding: "utf8" });
    if (run.status === 0) torchLoad = JSON.parse(run.stdout);
  }
  return {
    command: "npm run bench (bench/checkpoints.js benchManyTensors): 5 alternating rounds, fresh processes, median of 3 runs each; file from bench/make_checkpoints.py",
    file_bytes: statSync(file).size,
    tensors: ours.num_tensors,
    work_units: ours.work_units,
    counts_agree: ours.num_parameters === theirs.num_parameters && ours.num_tensors === theirs.num_tensors &&
      (torchLoad === null || torchLoad.n === ours.num_parameters),
    inspect_median_ms: ours.median_ms,
    pure_js_median_ms: theirs.median_ms,
    ratio_pure_js_over_inspect: theirs.median_ms / ours.median_ms,
    ratio_per_round: ratios,
    inspect_cpu_ms: ours.cpu_ms,
    pure_js_cpu_ms: theirs.cpu_ms,
    ratio_cpu_pure_js_over_inspect: theirs.cpu_ms / ours.cpu_ms,
    torch_load_weights_only_ms: torchLoad?.ms ?? null,
    inspect_peak_rss_growth_mib: memory.rss_growth_mib,
    pure_js_peak_rss_growth_mib: pureMemory.rss_growth_mib,
  };
}

export async function checkZip64({ root, python }) {
  const dir = process.env.BENCH_CHECKPOINT_DIR ?? join(tmpdir(), "config-tracker-bench");
  const made = spawnSync(python, [join(root, "bench", "make_zip64.py"), dir], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(made.stderr);
  const torch = JSON.parse(made.stdout);
  const { inspectCheckpointRaw } = await import(join(root, "dist", "checkpoint.js"));
  const started = performance.now();
  const info = await inspectCheckpointRaw(torch.path);
  return {
    command: "npm run bench -- --zip64 (bench/make_zip64.py writes it with torch.save)",
    file_bytes: torch.bytes,
    torch_num_parameters: torch.num_parameters,
    inspect_num_parameters: info.num_parameters,
    torch_num_tensors: torch.num_tensors,
    inspect_num_tensors: info.num_tensors,
    match: torch.num_parameters === info.num_parameters && torch.num_tensors === info.num_tensors,
    inspect_ms: performance.now() - started,
    bytes_read: info.bytes_read,
  };
}
