/**
 * startSampler from TypeScript, against the stand-in NVML (each case in a child process: NVML
 * and the scenario are per process).
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import { startSampler } from "../src/system/sampler.js";
import { runScript, tempDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");

describe("startSampler", () => {
  it("samples GPUs, the watched tree and the host every interval; stop() returns the rest", async () => {
    const processes = join(tempDir(), "processes.txt");
    const result = await runScript(
      `import { writeFileSync } from "node:fs";
       writeFileSync(${JSON.stringify(processes)}, process.pid + " 3221225472 0\\n");
       const { startSampler } = await import(${JSON.stringify(join(import.meta.dirname, "..", "dist", "system", "sampler.js"))});
       const sampler = startSampler({ intervalMs: 50, pids: [process.pid], env: { CUDA_VISIBLE_DEVICES: "0" } });
       await new Promise((r) => setTimeout(r, 330));
       const first = sampler.read();
       const rest = await sampler.stop();
       console.log(JSON.stringify({ first, rest, status: sampler.status(), again: await sampler.stop(), after: sampler.read() }));`,
      {
        env: {
          CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
          FAKE_NVML_PROCESSES: processes,
          FAKE_NVML_CONFIG: writeScenario(`driver 580
gpu name="NVIDIA H200" uuid=GPU-cccccccc-0000-0000-0000-000000000000 memory=150754820096 cc=9.0 bus=0 mig=0 util=88:31 power=512.5 power_limit=700 temp=55 sm_clock=1980 reasons=0x0 gpm=1 gpm_sm=90 gpm_occupancy=20 gpm_tensor=80 gpm_dram=30
gpu name="NVIDIA H200" uuid=GPU-dddddddd-0000-0000-0000-000000000000 memory=150754820096 cc=9.0 bus=1 mig=0
`),
        },
      },
    );
    expect(result.stderr).toBe("");
    const { first, rest, status, again, after } = JSON.parse(result.stdout);
    expect(first.length).toBeGreaterThanOrEqual(4);
    expect(status).toMatchObject({ opened: true, backend: "nvidia", gpu_unavailable_reason: null, dropped: 0 });
    expect(status.samples).toBe(first.length + rest.length);
    expect(again).toEqual(rest); // stop() twice: the same answer
    expect(after).toEqual([]);
    const sample = first[first.length - 1];
    expect(sample.gpus).toHaveLength(1); // CUDA_VISIBLE_DEVICES=0 of the watched process
    expect(sample.gpus[0]).toMatchObject({
      index: 0,
      name: "NVIDIA H200",
      utilization_gpu_percent: 88,
      utilization_memory_percent: 31,
      power_watts: 512.5,
      power_limit_watts: 700,
      temperature_c: 55,
      sm_clock_mhz: 1980,
      clock_event_reason_names: [],
      tree_memory_bytes: 3221225472,
      sm_active_percent: 90,
      dram_bandwidth_percent: 30,
      activity_unavailable_reason: null,
      lost: false,
    });
    expect(sample.process_tree.pids.length).toBe(1);
    expect(sample.process_tree.rss_bytes).toBeGreaterThan(0);
    expect(sample.host.memory_total_bytes).toBeGreaterThan(0);
  });

  it("checks its options", () => {
    expect(() => startSampler({ intervalMs: 1 })).toThrow(/intervalMs/);
    expect(() => startSampler({ pids: [-1] })).toThrow(/pids/);
  });
});

describe("ConfigTracker.sampleSystem", () => {
  it("writes system.jsonl for a process the program supervises, and results.json gets the summary", async () => {
    const dir = join(tempDir(), "exp");
    const result = await runScript(
      `import { spawn } from "node:child_process";
       const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
       await tracker.saveConfig({ lr: 1 });
       const child = spawn(process.execPath, ["-e", "const end = Date.now() + 400; while (Date.now() < end);"]);
       tracker.sampleSystem({ pids: [child.pid], intervalMs: 50 });
       await new Promise((r) => child.on("exit", r));
       const results = await tracker.saveResults();
       console.log(JSON.stringify(results.system));`,
    );
    expect(result.stderr).toBe("");
    const system = JSON.parse(result.stdout);
    expect(system.samples).toBeGreaterThanOrEqual(4);
    expect(system.gpu_unavailable_reason).toBe("/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found");
    // The busy child's CPU was sampled, and is plausible: how much of a core it got depends on
    // what else the machine runs, so no more is asserted than that it got some, on one thread.
    const { cpu_percent: cpu } = system.process_tree["0"];
    expect(cpu.max).toBeGreaterThan(0);
    expect(cpu.max).toBeLessThanOrEqual(100 * availableParallelism());
    expect(cpu.mean).toBeGreaterThan(0);
    expect(cpu.mean).toBeLessThanOrEqual(cpu.max);
    const { readJsonLines } = await import("./support/helpers.js");
    const samples = readJsonLines(join(dir, "system.jsonl")) as Array<{ process_tree: { cpu_percent: number | null } }>;
    expect(samples.length).toBe(system.samples);
    for (const sample of samples) expect(sample.process_tree.cpu_percent ?? 0).toBeGreaterThanOrEqual(0);
  });
});
