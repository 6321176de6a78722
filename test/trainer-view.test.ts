/**
 * The record describes the trainer, not the Node process that records it: the GPUs its
 * CUDA_VISIBLE_DEVICES leaves it, the Python (and torch) it runs, its PYTHON* variables.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import type { SavedConfig } from "../src/tracker.js";
import { runCli, runScript, tempDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");
const FOUR_GPUS = `driver 580.65.06
cuda 13000
${[0, 1, 2, 3]
  .map((i) => `gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-0000000${i}-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:1${i}:00.0 mig=0`)
  .join("\n")}
`;

/** What /usr/bin/python3 itself says (Debian's python3-torch when installed). */
function askPython(python: string, code: string): string | null {
  const result = spawnSync(python, ["-c", code], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}
const debianPython = "/usr/bin/python3";
const debianTorch = askPython(debianPython, "import torch; print(torch.__version__)");

async function savedConfig(trackerOptions: string, env: NodeJS.ProcessEnv = {}): Promise<SavedConfig> {
  const dir = tempDir();
  const result = await runScript(
    `const tracker = new ct.ConfigTracker(${JSON.stringify(dir)}, ${trackerOptions});
     const saved = await tracker.saveConfig({ lr: 1 });
     await tracker.close();
     console.log(JSON.stringify(saved));`,
    { env: { CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml, FAKE_NVML_CONFIG: writeScenario(FOUR_GPUS), ...env } },
  );
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as SavedConfig;
}

describe("new ConfigTracker(dir, { env, python })", () => {
  it("lists the GPUs the trainer's CUDA_VISIBLE_DEVICES leaves it, not the recorder's", async () => {
    const own = await savedConfig("{}");
    expect(own.hardware).toMatchObject({ gpu_count: 4, cuda_visible_devices: null });
    const trainer = await savedConfig(
      '{ env: { ...process.env, CUDA_VISIBLE_DEVICES: "GPU-00000002", PYTHONPATH: "/opt/lib", VIRTUAL_ENV: "/opt/venv" } }',
    );
    expect(trainer.hardware).toMatchObject({ gpu_count: 1, host_gpu_count: 4, cuda_visible_devices: "GPU-00000002" });
    expect(trainer.hardware.gpus.map((gpu) => [gpu.index, gpu.nvml_index, gpu.uuid])).toEqual([
      [0, 2, "GPU-00000002-a134-0fdd-0e01-23811fdbd293"],
    ]);
    expect(trainer.environment.python_variables).toEqual({ PYTHONPATH: "/opt/lib", VIRTUAL_ENV: "/opt/venv" });
    expect(own.environment.python_variables).toBeUndefined();
  });

  it.skipIf(debianTorch === null)(
    "asks the trainer's interpreter for Python's and torch's versions (python option, CONFIG_TRACKER_PYTHON, the trainer's PATH)",
    async () => {
      const version = askPython(debianPython, "import platform; print(platform.python_version())");
      const executable = askPython(debianPython, "import sys; print(sys.executable)");
      const expected = { torch_version: debianTorch, python_version: version, python_executable: executable };

      // The recorder's own PATH has no python3: only the option (or the variable) finds one.
      const bare = tempDir("ct-bare-path-");
      const viaOption = await savedConfig(`{ python: ${JSON.stringify(debianPython)} }`, { PATH: bare });
      expect(viaOption.hardware).toMatchObject(expected);
      const viaVariable = await savedConfig("{}", { PATH: bare, CONFIG_TRACKER_PYTHON: debianPython });
      expect(viaVariable.hardware).toMatchObject(expected);

      // A trainer environment whose PATH finds that python3 first.
      const venvBin = join(tempDir("ct-venv-"), "bin");
      mkdirSync(venvBin);
      symlinkSync(debianPython, join(venvBin, "python3"));
      const viaPath = await savedConfig(`{ env: { ...process.env, PATH: ${JSON.stringify(venvBin)} } }`, {
        PATH: bare,
      });
      expect(viaPath.hardware).toMatchObject({ torch_version: debianTorch, python_version: version });

      const none = await savedConfig("{}", { PATH: bare });
      expect(none.hardware).toMatchObject({ torch_version: null, python_version: null, python_executable: null });
    },
  );
});

describe.skipIf(debianTorch === null)("config-tracker hardware --python", () => {
  it("asks that interpreter (a pyenv or venv python3 first on PATH without torch does not hide it)", () => {
    const version = askPython(debianPython, "import platform; print(platform.python_version())");
    const executable = askPython(debianPython, "import sys; print(sys.executable)");
    // The python3 first on PATH has no torch (as pyenv's often has not).
    const bin = tempDir("ct-pyenv-");
    writeFileSync(join(bin, "python3"), `#!/bin/sh\nexec ${debianPython} -S -I "$@"\n`);
    chmodSync(join(bin, "python3"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const plain = runCli(["hardware"], env);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/\ntorch {11}not installed for .+ \(--python or CONFIG_TRACKER_PYTHON names another interpreter\)/);
    const asked = runCli(["hardware", "--python", debianPython], env);
    expect(asked.stdout).toContain(`\npython          ${version} (${executable})\ntorch           ${debianTorch} (`);
    const json = JSON.parse(runCli(["hardware", "--python", debianPython, "--json"], env).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ torch_version: debianTorch, python_version: version, python_executable: executable });
    const missing = runCli(["hardware", "--python", "/nonexistent/python"], env);
    expect(missing.stdout).toContain("\npython          /nonexistent/python not found (--python or CONFIG_TRACKER_PYTHON names another interpreter)\n");
  });
});
