/**
 * getHardwareInfo / `config-tracker hardware` against the stand-in NVML, each case in its own
 * process (NVML is initialised once per process).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";

import type { HardwareInfo } from "../src/schema.js";
import { formatCudaVersion } from "../src/hardware.js";
import { hardwareInfoSchema } from "../src/schema.js";
import { parseTorchVersionFile } from "../src/torch-probe.js";
import { runCli, tempDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");

const H100_A = "GPU-9e8d35e3-a134-0fdd-0e01-23811fdbd293";
const H100_B = "GPU-e429a63e-c61c-4795-b757-5132caeb8e70";
const TWO_H100 = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=${H100_A} memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0
gpu name="NVIDIA H100 80GB HBM3" uuid=${H100_B} memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0
`;

let noPython: string;
beforeAll(() => {
  noPython = tempDir("ct-nopython-"); // a PATH with no python3: torch fields are null, quickly
});

function hardware(scenario: string, env: NodeJS.ProcessEnv = {}, library = stubs.nvml): HardwareInfo {
  const result = runCli(["hardware", "--json"], {
    PATH: noPython,
    CONFIG_TRACKER_NVML_LIBRARY: library,
    CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
    CONFIG_TRACKER_CUDA_LIBRARY: stubs.cuda,
    FAKE_NVML_CONFIG: writeScenario(scenario),
    ...env,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const info = JSON.parse(result.stdout) as HardwareInfo;
  expect(hardwareInfoSchema.safeParse(info).success).toBe(true);
  return info;
}

describe("two GPUs", () => {
  it("reports every field NVML gives", () => {
    const info = hardware(TWO_H100);
    expect(info).toMatchObject({
      gpu_available: true,
      gpu_count: 2,
      host_gpu_count: 2,
      gpu_model: "NVIDIA H100 80GB HBM3",
      cuda_version: "13.0",
      driver_version: "580.65.06",
      gpu_unavailable_reason: null,
      cuda_visible_devices: null,
    });
    expect(info.gpu_vendor).toBe("nvidia");
    expect(info.rocm_version).toBeNull();
    expect(info.gpus[1]).toEqual({
      index: 1,
      nvml_index: 1,
      vendor: "nvidia",
      name: "NVIDIA H100 80GB HBM3",
      uuid: H100_B,
      memory_total_bytes: 85520809984,
      compute_capability: "9.0",
      pci_bus_id: "00000000:2A:00.0",
      serial: null,
      vbios_version: null,
      mig_mode: false,
      mig_parent_uuid: null,
      error: null,
    });
  });

  it("prints a readable summary without --json", () => {
    const result = runCli(["hardware"], {
      PATH: noPython,
      CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
      CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
      FAKE_NVML_CONFIG: writeScenario(TWO_H100),
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("2 usable of 2 on this host");
    expect(result.stdout).toContain("cuda:1        NVIDIA H100 80GB HBM3  79.6 GiB, sm 9.0, 00000000:2A:00.0");
    expect(result.stdout).toContain("580.65.06 (CUDA 13.0)");
  });

  it("initialises NVML once per process however often it is asked", async () => {
    const log = join(tempDir(), "calls.log");
    const script = `
      import { getHardwareInfo } from ${JSON.stringify(join(import.meta.dirname, "..", "dist", "index.js"))};
      for (let i = 0; i < 5; i++) await getHardwareInfo();
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        PATH: noPython,
        CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
        CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
        FAKE_NVML_CONFIG: writeScenario(TWO_H100),
        FAKE_NVML_LOG: log,
      },
      encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    const calls = readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => line.split(" ")[1]);
    expect(calls.filter((name) => name === "nvmlInit_v2")).toHaveLength(1);
    expect(calls).not.toContain("nvmlInit"); // the _v2 entry point is preferred
    expect(calls.filter((name) => name === "nvmlDeviceGetName")).toHaveLength(2);
  });
});

describe("no usable GPU is a normal answer", () => {
  it.each([
    ["init 9", "NVML_DRIVER_NOT_LOADED", "NVIDIA driver not loaded"],
    ["init 18", "NVML_LIB_RM_VERSION_MISMATCH", "driver/library version mismatch: reboot or reload the nvidia kernel module"],
    ["init 4", "NVML_NO_PERMISSION", "no permission to use the NVIDIA driver (check access to /dev/nvidia*)"],
    ["driver 580.65.06\ncuda 13000", "NO_GPU", "no NVIDIA GPU found"],
  ])("%s", (scenario, code, reason) => {
    const info = hardware(scenario);
    expect(info).toMatchObject({
      gpu_available: false,
      gpu_count: 0,
      gpus: [],
      gpu_model: null,
      gpu_unavailable_code: code,
      gpu_unavailable_reason: reason,
    });
  });

  it("a missing library", () => {
    const info = hardware("", {}, "/nonexistent/libnvidia-ml.so.1");
    // Neither vendor's driver is there: both say why.
    expect(info.gpu_unavailable_reason).toBe("/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found");
    expect(info.gpu_unavailable_code).toBe("NVML_LIBRARY_NOT_FOUND");
    expect(info.driver_version).toBeNull();
  });

  it("exits 0 and says why in the readable summary", () => {
    const result = runCli(["hardware"], {
      PATH: noPython,
      CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1",
      CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("no gpu          /nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found");
  });

  it("a slow driver is waited for only so long", () => {
    const result = runCli(["hardware", "--json"], {
      PATH: noPython,
      CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
      CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
      FAKE_NVML_CONFIG: writeScenario(`init_delay_ms 60000\n${TWO_H100}`),
      CONFIG_TRACKER_NVML_TIMEOUT_MS: "300",
    });
    expect(result.status).toBe(0);
    const info = JSON.parse(result.stdout) as HardwareInfo;
    expect(info.gpu_unavailable_code).toBe("NVML_TIMEOUT");
    expect(info.gpu_unavailable_reason).toBe("NVML did not answer within 300 ms (still trying)");
  });
});

describe("an old driver's library", () => {
  it("falls back to unversioned symbols and nulls only what it lacks", () => {
    const info = hardware(TWO_H100, { FAKE_CUDA_VERSION: "11040" }, stubs.nvmlLegacy);
    expect(info.gpu_count).toBe(2);
    expect(info.cuda_version).toBe("11.4"); // from libcuda's cuDriverGetVersion, no cuInit
    expect(info.gpus[0]).toMatchObject({
      name: "NVIDIA H100 80GB HBM3",
      uuid: H100_A,
      memory_total_bytes: 85520809984,
      pci_bus_id: "0000:18:00.0",
      compute_capability: null,
      mig_mode: null,
    });
  });
});

describe("MIG", () => {
  const MIG_HOST = `driver 580.65.06
cuda 13000
gpu name="NVIDIA A100-SXM4-80GB" uuid=GPU-aaaa1111-0000-0000-0000-000000000000 memory=85899345920 cc=8.0 bus=00000000:07:00.0 mig=1
mig name="NVIDIA A100-SXM4-80GB MIG 3g.40gb" uuid=MIG-1111aaaa-5e5f-5b9c-b0f0-0c3a3b1b2c3d memory=42314694656
mig name="NVIDIA A100-SXM4-80GB MIG 1g.10gb" uuid=MIG-2222bbbb-7d7e-5f3a-9a1b-2b3c4d5e6f70 memory=10468982784
gpu name="NVIDIA A100-SXM4-80GB" uuid=GPU-bbbb2222-0000-0000-0000-000000000000 memory=85899345920 cc=8.0 bus=00000000:0F:00.0 mig=0
`;

  it("a GPU in MIG mode is used through its MIG devices", () => {
    const info = hardware(MIG_HOST);
    expect(info.host_gpu_count).toBe(2);
    expect(info.gpu_count).toBe(3);
    expect(info.gpus.map((gpu) => [gpu.index, gpu.uuid, gpu.mig_mode])).toEqual([
      [0, "MIG-1111aaaa-5e5f-5b9c-b0f0-0c3a3b1b2c3d", true],
      [1, "MIG-2222bbbb-7d7e-5f3a-9a1b-2b3c4d5e6f70", true],
      [2, "GPU-bbbb2222-0000-0000-0000-000000000000", false],
    ]);
    expect(info.gpus[1]).toMatchObject({
      name: "NVIDIA A100-SXM4-80GB MIG 1g.10gb",
      memory_total_bytes: 10468982784,
      compute_capability: "8.0",
      mig_parent_uuid: "GPU-aaaa1111-0000-0000-0000-000000000000",
      nvml_index: 0,
    });
  });

  it("CUDA_VISIBLE_DEVICES=MIG-<uuid prefix> selects one MIG device", () => {
    const info = hardware(MIG_HOST, { CUDA_VISIBLE_DEVICES: "MIG-2222bbbb" });
    expect(info.gpu_count).toBe(1);
    expect(info.gpus[0]).toMatchObject({ index: 0, uuid: "MIG-2222bbbb-7d7e-5f3a-9a1b-2b3c4d5e6f70" });
  });

  it("MIG mode with no MIG device created says so", () => {
    const info = hardware(
      `gpu name="NVIDIA H100 80GB HBM3" uuid=${H100_A} memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=1\n`,
    );
    expect(info.gpu_available).toBe(false);
    expect(info.host_gpu_count).toBe(1);
    expect(info.gpu_unavailable_reason).toBe("MIG mode is on but no MIG device has been created");
  });
});

describe("CUDA_VISIBLE_DEVICES (cases from PyTorch's parser tests)", () => {
  const uuidsFor = (value: string) =>
    hardware(TWO_H100, { CUDA_VISIBLE_DEVICES: value }).gpus.map((gpu) => [gpu.index, gpu.uuid]);

  it.each([
    ["1", [[0, H100_B]]],
    ["1,0", [[0, H100_B], [1, H100_A]]],
    ["1gpu2,0ampere", [[0, H100_B], [1, H100_A]]],
    ["0, 1, -1, 0", [[0, H100_A], [1, H100_B]]],
    ["1, 5, 0", [[0, H100_B]]], // an out-of-range ordinal ends the list
    ["0,1,0", []], // a repeated ordinal empties it
    ["one,two,1", []],
    ["1,two,0", [[0, H100_B]]],
    ["GPU-e4", [[0, H100_B]]], // unambiguous UUID prefix
    ["GPU-9e8d35e3,GPU-e429", [[0, H100_A], [1, H100_B]]],
    ["GPU-123,GPU-9e8d35e3", []], // an unknown UUID ends the list
    ["GPU-9e8d35e3, 1", [[0, H100_A]]],
    ["GPU-9e8d,GPU-9e8d35e3", []], // the same GPU twice empties it
    ["-0,+1", [[0, H100_A], [1, H100_B]]],
  ])("%j", (value, expected) => {
    expect(uuidsFor(value)).toEqual(expected);
  });

  it("an empty value hides every GPU and says so", () => {
    const info = hardware(TWO_H100, { CUDA_VISIBLE_DEVICES: "" });
    expect(info).toMatchObject({ gpu_available: false, gpu_count: 0, host_gpu_count: 2, cuda_visible_devices: "" });
    expect(info.gpu_unavailable_reason).toBe('CUDA_VISIBLE_DEVICES="" leaves none of the 2 GPUs to this process');
  });

  it("an ambiguous UUID prefix ends the list (GPU- matches both GPUs)", () => {
    expect(uuidsFor("GPU-")).toEqual([]);
    expect(uuidsFor("GPU-9e8d35e3,GPU-")).toEqual([[0, H100_A]]);
  });
});

describe("a device NVML cannot open", () => {
  it("keeps its place with the error and keeps the others", () => {
    const info = hardware(`${TWO_H100}gpu handle_error=4\n`);
    expect(info.host_gpu_count).toBe(3);
    expect(info.gpus[2]).toMatchObject({ index: 2, name: null, uuid: null, error: "NVML_NO_PERMISSION" });
    expect(info.gpus[0]?.name).toBe("NVIDIA H100 80GB HBM3");
  });
});

describe.skipIf(!existsSync("/usr/bin/python3"))("torch of the python3 on PATH", () => {
  function fakePython(versionPy: string, log?: string): string {
    // A python3 whose sys.path holds a torch package that must not be imported: its __init__
    // exits loudly, so an import would show up as a missing answer.
    const dir = tempDir("ct-python-");
    const site = join(dir, "site");
    mkdirSync(join(site, "torch"), { recursive: true });
    writeFileSync(join(site, "torch", "__init__.py"), "raise SystemExit('torch was imported')\n");
    writeFileSync(join(site, "torch", "version.py"), versionPy);
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const realPython = "/usr/bin/python3";
    const record = log === undefined ? "" : `echo run >> ${log}\n`;
    writeFileSync(join(bin, "python3"), `#!/bin/sh\n${record}PYTHONPATH=${site} exec ${realPython} "$@"\n`);
    chmodSync(join(bin, "python3"), 0o755);
    return bin;
  }

  it("reads version and CUDA from torch/version.py without importing torch", () => {
    const bin = fakePython(
      "from typing import Optional\n__version__ = '2.5.1+cu124'\ndebug = False\ncuda: Optional[str] = '12.4'\ngit_version = 'abc'\nhip: Optional[str] = None\n",
    );
    const info = hardware("init 9", { PATH: bin });
    expect(info.torch_version).toBe("2.5.1+cu124");
    expect(info.torch_cuda_version).toBe("12.4");
  });

  it("a CPU build has a null CUDA version", () => {
    const info = hardware("init 9", { PATH: fakePython("__version__ = '1.13.0a0'\ndebug = False\ncuda = None\n") });
    expect(info.torch_version).toBe("1.13.0a0");
    expect(info.torch_cuda_version).toBeNull();
  });

  it("caches the answer and asks Python again only when torch's files change", async () => {
    const log = join(tempDir(), "python-runs.log");
    const bin = fakePython("__version__ = '2.4.0'\ncuda = '12.1'\n", log);
    const cache = tempDir("ct-cache-");
    const env = { PATH: bin, CONFIG_TRACKER_CACHE_DIR: cache };
    const runs = () => readFileSync(log, "utf8").split("\n").filter(Boolean).length;
    expect(hardware("init 9", env).torch_version).toBe("2.4.0");
    expect(hardware("init 9", env).torch_version).toBe("2.4.0");
    expect(runs()).toBe(1); // the second process answered from the cache
    // An upgrade rewrites version.py (and its folder): the cache notices.
    const versionPy = join(dirname(bin), "site", "torch", "version.py");
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(versionPy, "__version__ = '2.5.1'\ncuda = '12.4'\n");
    expect(hardware("init 9", env)).toMatchObject({ torch_version: "2.5.1", torch_cuda_version: "12.4" });
    expect(runs()).toBe(2);
    // So does a change of PYTHONPATH, which changes what Python would import.
    expect(hardware("init 9", { ...env, PYTHONPATH: tempDir() }).torch_version).toBe("2.5.1");
    expect(runs()).toBe(3);
  });

  it("no python3 means nulls", () => {
    const info = hardware("init 9");
    expect(info.torch_version).toBeNull();
    expect(info.torch_cuda_version).toBeNull();
  });

  it("parses version.py of old and new torch", () => {
    expect(parseTorchVersionFile("__version__ = '1.13.1'\ncuda = '11.7'\n")).toEqual({
      torch_version: "1.13.1",
      torch_cuda_version: "11.7",
      torch_hip_version: null,
    });
    expect(parseTorchVersionFile('__version__ = "2.4.0"\ncuda: Optional[str] = None\n').torch_cuda_version).toBeNull();
  });
});

it("formats the driver's CUDA version as CUDA does", () => {
  expect(formatCudaVersion(13000)).toBe("13.0");
  expect(formatCudaVersion(12040)).toBe("12.4");
  expect(formatCudaVersion(11080)).toBe("11.8");
  expect(formatCudaVersion(null)).toBeNull();
});
