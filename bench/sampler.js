// Sampler and wrapper benchmarks (called by bench/run.js), against the stand-in NVML (two H100s
// with every figure and GPM), each compared in the same run with what a user would otherwise do:
//  - the native sampler at 1 s, in a Node process that does nothing else: its CPU time over the
//    window, as % of one core, against an idle Node process; the nvidia-smi way (a fresh process
//    that opens NVML and reads every GPU, once a second: bench/nvml_query.c); the pynvml way (a
//    Python loop of ctypes calls: bench/nvml_poll.py);
//  - `config-tracker run` around a ~30 s CPU-bound child: wall time against the child alone.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCENARIO = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0 util=97:23 mem_used=12000000000 power=650 power_limit=700 temp=61 sm_clock=1980 reasons=0x4 gpm=1 gpm_sm=96.6 gpm_occupancy=14.3 gpm_tensor=93.7 gpm_dram=16.1
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-bbbbbbbb-c61c-4795-b757-5132caeb8e70 memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0 util=95:20 mem_used=11000000000 power=640 power_limit=700 temp=60 sm_clock=1980 reasons=0x4 gpm=1 gpm_sm=95 gpm_occupancy=14 gpm_tensor=92 gpm_dram=16
`;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function benchSampler({ root, python, windowSeconds = 20, wrapper = true }) {
  const work = mkdtempSync(join(tmpdir(), "ct-bench-sampler-"));
  try {
    const nvml = join(work, "libnvidia-ml.so.1");
    execFileSync("cc", ["-shared", "-fPIC", "-O1", "-o", nvml, join(root, "test", "support", "fake_nvml.c")]);
    const query = join(work, "nvml_query");
    execFileSync("cc", ["-O1", "-o", query, join(root, "bench", "nvml_query.c"), "-ldl"]);
    const scenario = join(work, "scenario.txt");
    writeFileSync(scenario, SCENARIO);
    const env = { ...process.env, CONFIG_TRACKER_NVML_LIBRARY: nvml, FAKE_NVML_CONFIG: scenario, CONFIG_TRACKER_DISABLE_GIT: "1" };
    const index = JSON.stringify(join(root, "dist", "index.js"));

    // CPU time of a Node process over the window: idle, and with the sampler at 1 s.
    const nodeCpu = (withSampler) => {
      const script = `
        import { startSampler } from ${index};
        ${withSampler ? "" : "void startSampler;"}
        const sampler = ${withSampler} ? startSampler({ intervalMs: 1000, pids: [process.pid] }) : null;
        await new Promise((r) => setTimeout(r, 200));
        const before = process.cpuUsage();
        let samples = 0;
        const end = Date.now() + ${windowSeconds * 1000};
        while (Date.now() < end) { await new Promise((r) => setTimeout(r, 1000)); samples += sampler ? sampler.read().length : 0; }
        const used = process.cpuUsage(before);
        if (sampler) samples += (await sampler.stop()).length;
        console.log(JSON.stringify({ cpu_ms: (used.user + used.system) / 1000, samples }));`;
      const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
      if (out.status !== 0) throw new Error(out.stderr);
      return JSON.parse(out.stdout);
    };
    const idle = nodeCpu(false);
    const sampled = nodeCpu(true);
    const samplerCpuMs = Math.max(0, sampled.cpu_ms - idle.cpu_ms);

    // nvidia-smi's way: a new process once a second (bash's `times` gives the children's CPU).
    const loop = spawnSync(
      "bash",
      ["-c", `for i in $(seq ${windowSeconds}); do "${query}" "${nvml}" >/dev/null; sleep 1; done; times`],
      { env, encoding: "utf8" },
    );
    const times = loop.stdout.trim().split("\n").pop() ?? "";
    const toSeconds = (text) => {
      const match = /(\d+)m([\d.]+)s/.exec(text);
      return match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
    };
    const [childUser, childSystem] = times.split(/\s+/).map(toSeconds);
    const processPerSecondCpuMs = (childUser + childSystem) * 1000;

    // pynvml's way: a Python loop of ctypes calls, once a second.
    let pythonCpuMs = null;
    if (python !== null) {
      const out = spawnSync(python, [join(root, "bench", "nvml_poll.py"), nvml, String(windowSeconds), "1"], { env, encoding: "utf8" });
      if (out.status === 0) pythonCpuMs = Number(out.stdout.trim().split(/\s+/)[0]) * 1000;
    }
    const percent = (ms) => (ms === null ? null : (ms / (windowSeconds * 1000)) * 100);

    const samplerResult = {
      command: `stand-in NVML, 2 H100s with GPM; ${windowSeconds} s windows, sampling every 1 s`,
      samples: sampled.samples,
      idle_node_cpu_ms: idle.cpu_ms,
      sampler_node_cpu_ms: sampled.cpu_ms,
      sampler_cpu_ms: samplerCpuMs,
      sampler_percent_of_one_core: percent(samplerCpuMs),
      nvidia_smi_way_cpu_ms: processPerSecondCpuMs,
      nvidia_smi_way_percent_of_one_core: percent(processPerSecondCpuMs),
      pynvml_way_cpu_ms: pythonCpuMs,
      pynvml_way_percent_of_one_core: percent(pythonCpuMs),
      ratio_nvidia_smi_way_over_sampler: samplerCpuMs > 0 ? processPerSecondCpuMs / samplerCpuMs : null,
      target: "sampler < 0.5% of one core",
    };
    if (!wrapper) return { sampler: samplerResult };

    // The wrapper around a CPU-bound child of ~30 s: end-to-end wall time, and the child's own.
    const child = join(work, "busy.mjs");
    writeFileSync(
      child,
      `const target = Number(process.argv[2]);
       const started = performance.now(); let x = 0;
       for (let i = 0; i < target; i++) { x = (x * 1103515245 + 12345) % 2147483648; }
       console.log(JSON.stringify({ step: 1, busy_ms: performance.now() - started, x }));`,
    );
    // Calibrate the loop to ~30 s on this machine.
    const probe = spawnSync(process.execPath, [child, "100000000"], { encoding: "utf8" });
    const perIteration = JSON.parse(probe.stdout).busy_ms / 1e8;
    const iterations = String(Math.round(30000 / perIteration));
    const timeIt = (command, args) => {
      const started = process.hrtime.bigint();
      const out = spawnSync(command, args, { env, encoding: "utf8", cwd: work });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (out.status !== 0) throw new Error(out.stderr);
      const line = out.stdout.trim().split("\n").find((text) => text.includes("busy_ms"));
      return { wall_ms: wall, busy_ms: JSON.parse(line).busy_ms };
    };
    const alone = [];
    const wrapped = [];
    const wrap = (round) =>
      timeIt(process.execPath, [join(root, "dist", "cli.js"), "run", "--dir", join(work, `run${round}`), "--", process.execPath, child, iterations]);
    // Interleaved (A B B A A B): a slow spell of the shared machine hits both sides alike.
    for (let round = 0; round < 3; round++) {
      if (round % 2 === 0) {
        alone.push(timeIt(process.execPath, [child, iterations]));
        wrapped.push(wrap(round));
      } else {
        wrapped.push(wrap(round));
        alone.push(timeIt(process.execPath, [child, iterations]));
      }
    }
    // The fixed cost of a run (start: config, hardware, git; end: results), around `true`.
    const fixed = [];
    for (let round = 0; round < 5; round++) {
      const started = process.hrtime.bigint();
      spawnSync(process.execPath, [join(root, "dist", "cli.js"), "run", "--dir", join(work, `true${round}`), "--", "true"], { env });
      const wrappedTrue = Number(process.hrtime.bigint() - started) / 1e6;
      const bare = process.hrtime.bigint();
      spawnSync("true", [], { env });
      fixed.push(wrappedTrue - Number(process.hrtime.bigint() - bare) / 1e6);
    }
    const aloneWall = median(alone.map((r) => r.wall_ms));
    const wrappedWall = median(wrapped.map((r) => r.wall_ms));
    const aloneBusy = median(alone.map((r) => r.busy_ms));
    const wrappedBusy = median(wrapped.map((r) => r.busy_ms));

    return {
      sampler: samplerResult,
      wrapper: {
        command: "config-tracker run (1 s sampling, stand-in NVML) around a CPU-bound node loop of ~30 s; median of 3, interleaved",
        runs_alone_wall_ms: alone.map((r) => Math.round(r.wall_ms)),
        runs_wrapped_wall_ms: wrapped.map((r) => Math.round(r.wall_ms)),
        fixed_cost_ms: median(fixed),
        child_alone_wall_ms: aloneWall,
        child_wrapped_wall_ms: wrappedWall,
        added_wall_percent: ((wrappedWall - aloneWall) / aloneWall) * 100,
        child_alone_busy_ms: aloneBusy,
        child_wrapped_busy_ms: wrappedBusy,
        child_slowdown_percent: ((wrappedBusy - aloneBusy) / aloneBusy) * 100,
        target: "< 1% added to the wall time",
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
