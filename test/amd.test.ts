/**
 * AMD GPUs through the built CLI and the library: the stand-in ROCm SMI (test/support/
 * fake_rocm_smi.c, compiled against Debian's rocm_smi.h) and libamdhip64, and Debian's real
 * librocm_smi64 on this host, which has no amdgpu driver. Each case in its own process (ROCm SMI is
 * started once per process).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import type { HardwareInfo } from "../src/schema.js";
import { hardwareInfoSchema } from "../src/schema.js";
import { readJsonLines, runCli, runScript, spawnCli, tempDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");
const distHardware = JSON.stringify(join(import.meta.dirname, "..", "dist", "hardware.js"));
const distSampler = JSON.stringify(join(import.meta.dirname, "..", "dist", "system", "sampler.js"));
const DEBIAN_ROCM_SMI = "/usr/lib/librocm_smi64.so.1"; // librocm-smi64-1 (5.2.3)
const NOISE = /Failed to open drm|Exception caught|stand-in output/;

const MI300X_A = "GPU-8a3c4f2e11d09b27";
const MI300X_B = "GPU-5f10b7a9c2e3d481";
const TWO_MI300X = `version 7.1.0
driver 6.8.5
gpu name="AMD Instinct MI300X" unique_id=0x8a3c4f2e11d09b27 bdf=0xc100 vram=205822885888 serial=692401000123 vbios=113-M3000100-102 partition=SPX busy=40..90 vram_used=4000000000 socket_power=640.5 power_cap=750 temp_junction=64 sclk=800,2100@1 mclk=900,1300@1
gpu name="AMD Instinct MI300X" unique_id=0x5f10b7a9c2e3d481 bdf=0xe100 vram=205822885888 serial=692401000456 vbios=113-M3000100-102 partition=SPX busy=0 vram_used=0
`;
const TWO_H100 = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-9e8d35e3-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-e429a63e-c61c-4795-b757-5132caeb8e70 memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0
`;

const noPython = tempDir("ct-nopython-");

/** The environment of a CLI run against the stand-in ROCm SMI (and no NVML). */
function amdEnv(scenario: string, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: noPython,
    CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1",
    CONFIG_TRACKER_ROCM_SMI_LIBRARY: stubs.rocmSmi,
    CONFIG_TRACKER_HIP_LIBRARY: stubs.hip,
    FAKE_RSMI_CONFIG: writeScenario(scenario),
    ...env,
  };
}

function hardware(env: NodeJS.ProcessEnv): HardwareInfo {
  const result = runCli(["hardware", "--json"], env);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const info = JSON.parse(result.stdout) as HardwareInfo;
  expect(hardwareInfoSchema.safeParse(info).success).toBe(true);
  return info;
}

describe("hardware on an AMD host", () => {
  it("reports every field ROCm SMI gives, the HIP runtime's version, and no CUDA", () => {
    const log = join(tempDir(), "hip.log");
    const info = hardware(amdEnv(TWO_MI300X, { FAKE_HIP_LOG: log }));
    expect(info).toMatchObject({
      gpu_available: true,
      gpu_count: 2,
      host_gpu_count: 2,
      gpu_vendor: "amd",
      gpu_model: "AMD Instinct MI300X",
      driver_version: "6.8.5",
      rocm_version: "6.2.60200",
      cuda_version: null,
      gpu_unavailable_reason: null,
    });
    expect(info.gpus[1]).toEqual({
      index: 1,
      nvml_index: 1,
      vendor: "amd",
      name: "AMD Instinct MI300X",
      uuid: MI300X_B,
      memory_total_bytes: 205822885888,
      compute_capability: null,
      pci_bus_id: "0000:e1:00.0",
      serial: "692401000456",
      vbios_version: "113-M3000100-102",
      mig_mode: null,
      mig_parent_uuid: null,
      error: null,
    });
    // The version came from libamdhip64's file name: HIP itself was never started.
    expect(existsSync(log)).toBe(false);
  });

  it("prints a readable summary with HIP's ordinals", () => {
    const result = runCli(["hardware"], amdEnv(TWO_MI300X, { ROCR_VISIBLE_DEVICES: "1,0" }));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2 usable of 2 on this host (ROCR_VISIBLE_DEVICES="1,0")');
    expect(result.stdout).toContain("  hip:0         AMD Instinct MI300X  191.7 GiB, 0000:e1:00.0");
    expect(result.stdout).toContain("driver          6.8.5 (HIP 6.2.60200)");
  });

  it("an older library without the newer entry points still lists every GPU", () => {
    const info = hardware(amdEnv(TWO_MI300X, { CONFIG_TRACKER_ROCM_SMI_LIBRARY: stubs.rocmSmiOld }));
    expect(info.gpus.map((gpu) => [gpu.name, gpu.uuid, gpu.serial])).toEqual([
      ["AMD Instinct MI300X", MI300X_A, "692401000123"],
      ["AMD Instinct MI300X", MI300X_B, "692401000456"],
    ]);
  });

  it("a host with both vendors lists both, each with its own ordinals", () => {
    const info = hardware({
      ...amdEnv(TWO_MI300X),
      CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
      FAKE_NVML_CONFIG: writeScenario(TWO_H100),
    });
    expect(info).toMatchObject({
      gpu_count: 4,
      host_gpu_count: 4,
      gpu_vendor: "nvidia+amd",
      gpu_model: "NVIDIA H100 80GB HBM3",
      driver_version: "580.65.06",
      cuda_version: "13.0",
      rocm_version: "6.2.60200",
    });
    expect(info.gpus.map((gpu) => `${gpu.vendor}:${gpu.index}`)).toEqual(["nvidia:0", "nvidia:1", "amd:0", "amd:1"]);
  });

  it("init failures are the reason, with the library's code", () => {
    const info = hardware(amdEnv("init 4\n"));
    expect(info).toMatchObject({
      gpu_available: false,
      gpu_unavailable_code: "ROCM_SMI_PERMISSION",
      gpu_unavailable_reason: "no permission to use the AMD GPU driver (check access to /dev/kfd and /dev/dri)",
    });
  });
});

describe("ROCR_VISIBLE_DEVICES, then HIP_VISIBLE_DEVICES or CUDA_VISIBLE_DEVICES (ROCm's GPU isolation page)", () => {
  const uuidsFor = (env: NodeJS.ProcessEnv) =>
    hardware(amdEnv(TWO_MI300X, env)).gpus.map((gpu) => [gpu.index, gpu.uuid]);

  it.each([
    [{ ROCR_VISIBLE_DEVICES: "1" }, [[0, MI300X_B]]],
    [{ ROCR_VISIBLE_DEVICES: "0,GPU-5F10B7A9C2E3D481" }, [[0, MI300X_A], [1, MI300X_B]]],
    [{ HIP_VISIBLE_DEVICES: "1" }, [[0, MI300X_B]]],
    [{ CUDA_VISIBLE_DEVICES: "1" }, [[0, MI300X_B]]],
    [{ CUDA_VISIBLE_DEVICES: "0", HIP_VISIBLE_DEVICES: "1" }, [[0, MI300X_B]]],
    [{ ROCR_VISIBLE_DEVICES: "1,0", HIP_VISIBLE_DEVICES: "1" }, [[0, MI300X_A]]],
    [{ HIP_VISIBLE_DEVICES: "GPU-8a3c" }, [[0, MI300X_A]]],
  ])("%j", (env, expected) => {
    expect(uuidsFor(env)).toEqual(expected);
  });

  it("records the variables and says why when none is left", () => {
    const info = hardware(amdEnv(TWO_MI300X, { ROCR_VISIBLE_DEVICES: "", HIP_VISIBLE_DEVICES: "0" }));
    expect(info).toMatchObject({ gpu_available: false, rocr_visible_devices: "", hip_visible_devices: "0" });
    expect(info.gpu_unavailable_reason).toBe(
      'ROCR_VISIBLE_DEVICES="" HIP_VISIBLE_DEVICES="0" leaves none of the 2 AMD GPUs to this process',
    );
  });
});

describe("a host without an AMD GPU stays quiet", () => {
  it("Debian's real librocm_smi64 named by the override: started, fails, prints nothing", () => {
    for (const args of [["hardware", "--json"], ["hardware"]]) {
      const result = runCli(args, {
        PATH: noPython,
        CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1",
        CONFIG_TRACKER_ROCM_SMI_LIBRARY: DEBIAN_ROCM_SMI,
      });
      expect(result.status).toBe(0);
      expect(result.stderr).toBe(""); // not "Failed to open drm root directory ..." nor "Exception caught: rsmi_init."
      expect(result.stdout).toContain("ROCm SMI could not start (RSMI_STATUS_INIT_ERROR): is the amdgpu driver loaded?");
    }
  });

  it.skipIf(existsSync("/dev/kfd") || existsSync("/sys/class/kfd"))(
    "Debian's real librocm_smi64 found the default way: loaded, not started",
    async () => {
      const result = await runScript(
        `const { getHardwareInfo, probeGpus } = await import(${distHardware});
         const info = await getHardwareInfo();
         const amd = (await probeGpus()).vendors.find((vendor) => vendor.vendor === "amd");
         console.log(JSON.stringify({ info, amd }));`,
        { env: { PATH: noPython, CONFIG_TRACKER_ROCM_SMI_LIBRARY: "" } },
      );
      expect(result.stderr).toBe("");
      const { info, amd } = JSON.parse(result.stdout);
      expect(amd).toMatchObject({
        library_path: "librocm_smi64.so.1",
        library_loaded: true,
        init_result: null,
        unavailable_code: "AMD_DRIVER_NOT_LOADED",
      });
      expect(info.gpu_unavailable_reason).toBe(
        "/nonexistent/libnvidia-ml.so.1 not found; no AMD GPU driver is loaded (neither /dev/kfd nor /sys/class/kfd exists)",
      );
    },
  );

  it("what the JS thread writes meanwhile still arrives, and the library's output does not", async () => {
    // The stand-in writes Debian's complaints, sleeps 400 ms, writes them again; the JS thread
    // writes numbered lines to stderr the whole time.
    const result = await runScript(
      `const { getHardwareInfo } = await import(${distHardware});
       const pending = getHardwareInfo();
       const end = Date.now() + 800;
       let lines = 0;
       while (Date.now() < end) {
         process.stderr.write("js line " + lines++ + "\\n");
         const pause = Date.now() + 1;
         while (Date.now() < pause);
       }
       const info = await pending;
       console.log(JSON.stringify({ lines, gpus: info.gpu_count }));`,
      { env: amdEnv(`init_noise 1\ninit_delay_ms 400\n${TWO_MI300X}`) },
    );
    expect(result.stderr).not.toMatch(NOISE);
    const { lines, gpus } = JSON.parse(result.stdout); // stdout is the JSON alone
    expect(gpus).toBe(2);
    expect(lines).toBeGreaterThan(100);
    const seen = result.stderr.split("\n").filter((line) => line.startsWith("js line "));
    expect(seen).toEqual(Array.from({ length: lines }, (_, i) => `js line ${i}`));
  });

  it("config-tracker run: the wrapper adds nothing to the command's output", async () => {
    const dir = join(tempDir(), "exp");
    const result = await spawnCli(["run", "--dir", dir, "--interval", "0.05", "--", process.execPath, "-e", "setTimeout(() => {}, 300)"], {
      cwd: tempDir(),
      env: { CONFIG_TRACKER_ROCM_SMI_LIBRARY: DEBIAN_ROCM_SMI },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(NOISE);
    expect(result.stdout).not.toMatch(NOISE);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config.hardware.gpu_unavailable_code).toBe("ROCM_SMI_INIT_ERROR");
  });
});

describe("torch on ROCm", () => {
  it.skipIf(!existsSync("/usr/bin/python3"))("reports torch.version.hip from version.py", () => {
    const dir = tempDir("ct-python-");
    const site = join(dir, "site");
    mkdirSync(join(site, "torch"), { recursive: true });
    writeFileSync(join(site, "torch", "__init__.py"), "raise SystemExit('torch was imported')\n");
    // As a ROCm wheel writes it (torch 2.5.1+rocm6.2).
    writeFileSync(
      join(site, "torch", "version.py"),
      "from typing import Optional\n__version__ = '2.5.1+rocm6.2'\ndebug = False\ncuda: Optional[str] = None\n" +
        "git_version = 'a8d6afb511a69687bbb2b7e88a3cf67917e1697e'\nhip: Optional[str] = '6.2.41133-dd7f95766'\n",
    );
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin", "python3"), `#!/bin/sh\nPYTHONPATH=${site} exec /usr/bin/python3 "$@"\n`);
    chmodSync(join(dir, "bin", "python3"), 0o755);
    const env = amdEnv(TWO_MI300X, { PATH: join(dir, "bin"), CONFIG_TRACKER_CACHE_DIR: tempDir() });
    const info = hardware(env);
    expect(info).toMatchObject({ torch_version: "2.5.1+rocm6.2", torch_cuda_version: null, torch_hip_version: "6.2.41133-dd7f95766" });
    expect(runCli(["hardware"], env).stdout).toContain("torch           2.5.1+rocm6.2 (ROCm, HIP 6.2.41133-dd7f95766)");
  });
});

describe("sampling AMD GPUs", () => {
  it("startSampler: ROCm SMI's readings in the sample's units", async () => {
    const processes = join(tempDir(), "processes.txt");
    const result = await runScript(
      `import { writeFileSync } from "node:fs";
       writeFileSync(${JSON.stringify(processes)}, process.pid + " 0 3221225472\\n4242 0 1000\\n");
       const { startSampler } = await import(${distSampler});
       const sampler = startSampler({ intervalMs: 50, pids: [process.pid], env: { HIP_VISIBLE_DEVICES: "0" } });
       await new Promise((r) => setTimeout(r, 330));
       const samples = await sampler.stop();
       console.log(JSON.stringify({ samples, status: sampler.status() }));`,
      { env: { ...amdEnv(TWO_MI300X), FAKE_RSMI_PROCESSES: processes } },
    );
    expect(result.stderr).toBe("");
    const { samples, status } = JSON.parse(result.stdout);
    expect(status).toMatchObject({ backend: "amd", gpu_unavailable_reason: null });
    const gpu = samples[samples.length - 1].gpus;
    expect(gpu).toHaveLength(1); // HIP_VISIBLE_DEVICES=0
    expect(gpu[0]).toMatchObject({
      vendor: "amd",
      index: 0,
      uuid: MI300X_A,
      memory_used_bytes: 4000000000,
      memory_total_bytes: 205822885888,
      power_watts: 640.5,
      power_limit_watts: 750,
      temperature_c: 64,
      temperature_sensor: "junction",
      sm_clock_mhz: 2100,
      memory_clock_mhz: 1300,
      tree_memory_bytes: 3221225472,
      sm_active_percent: null,
      lost: false,
    });
    expect(gpu[0].processes).toEqual([
      { pid: expect.any(Number), used_bytes: 3221225472, in_tree: true },
      { pid: 4242, used_bytes: 1000, in_tree: false },
    ]);
  });

  it("config-tracker run: system.jsonl, results' system summary and MFU against the MI300X's peak", async () => {
    const dir = join(tempDir(), "exp");
    const processes = join(tempDir(), "processes.txt");
    const child = join(tempDir("ct-child-"), "train.mjs");
    // The child "creates its HIP context": ROCm SMI lists it with 10 GiB on GPU 0.
    writeFileSync(
      child,
      `import { writeFileSync, renameSync } from "node:fs";
       writeFileSync(${JSON.stringify(processes)} + ".tmp", process.pid + " 0 10737418240\\n");
       renameSync(${JSON.stringify(processes)} + ".tmp", ${JSON.stringify(processes)});
       for (let step = 1; step <= 8; step++) {
         await new Promise((r) => setTimeout(r, 100));
         console.log(JSON.stringify({ step, loss: 3 / step, tokens: 4096 }));
       }`,
    );
    const result = await spawnCli(
      ["run", "--dir", dir, "--interval", "0.1", "--set", "model.num_parameters=1000000000", "--", process.execPath, child],
      { cwd: tempDir(), env: { ...amdEnv(TWO_MI300X), FAKE_RSMI_PROCESSES: processes, ROCR_VISIBLE_DEVICES: "0" } },
    );
    expect(result.code, result.stderr).toBe(0);
    const samples = readJsonLines(join(dir, "system.jsonl"));
    expect(samples.length).toBeGreaterThan(3);
    const gpus = (samples as Array<{ gpus: Array<Record<string, unknown>> }>).map((sample) => sample.gpus);
    for (const sample of gpus) {
      expect(sample).toHaveLength(1);
      expect(sample[0]).toMatchObject({ vendor: "amd", name: "AMD Instinct MI300X" });
    }
    // While the child lives, its 10 GiB are the tree's (a sample taken after it exited has none).
    expect(gpus.map((sample) => sample[0]?.tree_memory_bytes)).toContain(10737418240);
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
    expect(results.system.gpus[0]).toMatchObject({
      vendor: "amd",
      name: "AMD Instinct MI300X",
      temperature_sensor: "junction",
      tree_memory_peak_bytes: 10737418240,
      power_watts: { mean: 640.5, max: 640.5 },
      memory_clock_mhz: { mean: 1300, max: 1300 },
    });
    expect(results.system.gpus[0].utilization_gpu_percent.max).toBeGreaterThan(results.system.gpus[0].utilization_gpu_percent.mean - 1);
    expect(results.throughput).toMatchObject({ gpu_count: 1, peak_flops_per_second: 1307.4e12 });
    expect(results.throughput.peak_source[0]).toContain("AMD Instinct MI300X: 1307.4 TFLOPS");
    expect(results.throughput.mfu).toBeGreaterThan(0);
  });
});
