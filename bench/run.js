// npm run bench: measures what config-tracker does and compares it, in the same run, with what a
// user would otherwise do (Python + torch). Writes bench/results/latest.json and prints a table.
// Needs Debian's python3-torch for the comparisons (apt-get install python3-torch).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const results = { date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0]?.model.trim()}`, node: process.version, cases: {} };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function timeCommand(command, args, runs, env = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const child = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${child.stderr}`);
    times.push(elapsed);
  }
  return median(times);
}

const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"]).status === 0;

// 1. getHardwareInfo: first call, then the cached path.
{
  const script = `
    import { getHardwareInfo } from ${JSON.stringify(join(root, "dist", "index.js"))};
    let t = process.hrtime.bigint();
    await getHardwareInfo();
    const first = Number(process.hrtime.bigint() - t) / 1e6;
    const times = [];
    for (let i = 0; i < 2000; i++) { t = process.hrtime.bigint(); await getHardwareInfo(); times.push(Number(process.hrtime.bigint() - t) / 1e6); }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ first, median: times[1000], p99: times[1980] }));
  `;
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  const measured = JSON.parse(out.stdout);
  const python = hasTorch
    ? timeCommand(PYTHON, ["-c", "import torch, platform; torch.cuda.is_available(); torch.cuda.device_count(); torch.version.cuda; platform.platform()"], 5)
    : null;
  results.cases.hardware = {
    command: "node: getHardwareInfo() x2001 in one process; python: python3 -c 'import torch; torch.cuda.is_available() ...'",
    first_call_ms: measured.first,
    repeat_call_median_ms: measured.median,
    repeat_call_p99_ms: measured.p99,
    python_torch_query_ms: python,
    ratio_python_over_node_first: python === null ? null : python / measured.first,
  };
}

// 2. saveConfig: a cold script (import + first saveConfig, git on) against the Python
//    ConfigTracker's save_config script, both minus an empty script of their language (the
//    ratio is the target: >= 8x); and a warm saveConfig (a second call in the same process:
//    now a resumption, which reads config.json back, compares and rewrites it; target < 20 ms).
{
  const out = mkdtempSync(join(tmpdir(), "ct-bench-"));
  const saveScript = join(out, "save.mjs");
  writeFileSync(
    saveScript,
    `import { ConfigTracker } from ${JSON.stringify(join(root, "dist", "index.js"))};
     // A new experiment each run (a folder that exists already would be a resumption).
     const tracker = new ConfigTracker(process.argv[2] + "/run_" + process.pid);
     await tracker.saveConfig({ lr: 3e-4, batch_size: 64 });
     await tracker.close();`,
  );
  const emptyScript = join(out, "empty.mjs");
  writeFileSync(emptyScript, "");
  const runs = 15;
  const empty = timeCommand(process.execPath, [emptyScript], runs);
  const save = timeCommand(process.execPath, [saveScript, join(out, "node")], runs);
  // Inside one process: the first saveConfig (loads zod, probes hardware, asks git) and later
  // ones (each a resumption of the same config).
  const inProcess = () => {
    const script = `
      const { ConfigTracker } = await import(${JSON.stringify(join(root, "dist", "index.js"))});
      const tracker = new ConfigTracker(${JSON.stringify(join(out, "run_inproc"))} + process.pid);
      let t = performance.now(); await tracker.saveConfig({ lr: 3e-4 }); const first = performance.now() - t;
      const later = [];
      for (let i = 0; i < 5; i++) { t = performance.now(); await tracker.saveConfig({ lr: 3e-4 }); later.push(performance.now() - t); }
      later.sort((a, b) => a - b);
      await tracker.close();
      console.log(JSON.stringify({ first, warm: later[2] }));`;
    const samples = Array.from({ length: 9 }, () =>
      JSON.parse(spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" }).stdout),
    );
    return { first: median(samples.map((s) => s.first)), warm: median(samples.map((s) => s.warm)) };
  };
  const calls = inProcess();
  const pythonEmpty = hasTorch ? timeCommand(PYTHON, ["-c", "pass"], runs) : null;
  const python = hasTorch ? timeCommand(PYTHON, [join(here, "python_tracker.py"), join(out, "run_python")], 7) : null;
  results.cases.save_config = {
    command: "median of 15 runs: node save.mjs (import + saveConfig, git on) minus node empty.mjs; python: bench/python_tracker.py minus python3 -c pass",
    node_empty_script_ms: empty,
    node_save_config_script_ms: save,
    cold_save_config_ms: save - empty,
    first_save_config_call_ms: calls.first,
    warm_save_config_call_ms: calls.warm,
    python_empty_script_ms: pythonEmpty,
    python_tracker_script_ms: python,
    python_save_config_ms: python === null ? null : python - pythonEmpty,
    ratio_python_over_node_cold: python === null ? null : (python - pythonEmpty) / (save - empty),
    targets: "ratio_python_over_node_cold >= 8; warm_save_config_call_ms < 20",
  };
}

// 3. Live runs: logMetrics, readMetrics, a 10 MB config.
{
  const { benchRuns } = await import("./runs.js");
  results.cases.runs = benchRuns({ root });
}

// 4. The GPU sampler and `config-tracker run`, against the stand-in NVML.
{
  const { benchSampler } = await import("./sampler.js");
  results.cases.sampler = benchSampler({ root, python: hasTorch ? PYTHON : null });
}

{
  const { benchCheckpoints, benchManyTensors, checkZip64 } = await import("./checkpoints.js");
  results.cases.checkpoints = await benchCheckpoints({ root, python: hasTorch ? PYTHON : null });
  results.cases.checkpoint_100k_tensors = await benchManyTensors({ root, python: hasTorch ? PYTHON : null });
  // A real torch.save file over 4 GiB (~4.7 GiB of disk): opt in with `npm run bench -- --zip64`.
  if (process.argv.includes("--zip64") && hasTorch) results.cases.zip64 = await checkZip64({ root, python: PYTHON });
}

// 5. Looking at runs: ls over 300 runs, the compare page of 50 runs x 100,000 steps.
{
  const { benchLook } = await import("./look.js");
  results.cases.look = await benchLook({ root, python: hasTorch ? PYTHON : null });
}

// 6. CLI start-up against `node -e 0` (and nvidia-smi on a GPU host); install time, prebuilt
//    against from source.
{
  const { benchStartup, benchInstall } = await import("./startup.js");
  results.cases.startup = benchStartup({ root });
  results.cases.install = benchInstall({ root });
}

// 7. safetensors with a 100,000-tensor header against JSON.parse of it.
{
  const { benchSafetensors } = await import("./safetensors.js");
  results.cases.safetensors_100k_tensors = await benchSafetensors({ root });
}

// 8. The dashboard: 10,000 runs, 1,500 runs x 1,500 metrics, 50 runs x 100,000 steps, load and idle.
{
  const { benchUi } = await import("./ui.js");
  results.cases.ui = await benchUi({ dropCaches: process.argv.includes("--drop-caches") });
}

mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
