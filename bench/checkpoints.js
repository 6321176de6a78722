// Checkpoint inspection benchmarks (called by bench/run.js): the same 240-tensor structure at
// ~2 MiB and ~2 GiB; inspectCheckpoint vs torch.load(weights_only=True); peak memory.
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
