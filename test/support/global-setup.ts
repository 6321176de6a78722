/**
 * Builds the stand-in driver libraries once per test run: libnvidia-ml.so.1 (current ABI), an old
 * driver's libnvidia-ml without the _v2/_v3 entry points, a libcuda with cuDriverGetVersion;
 * librocm_smi64.so.1 compiled against the installed rocm_smi.h (Debian's librocm-smi-dev), an
 * older one without the entry points ROCm added after 5.2, and libamdhip64.so.6.2.60200.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export interface NativeStubs {
  nvml: string;
  nvmlLegacy: string;
  cuda: string;
  rocmSmi: string;
  rocmSmiOld: string;
  /** libamdhip64.so, a link to libamdhip64.so.6.2.60200 as ROCm installs it. */
  hip: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stubs: NativeStubs;
  }
}

export default function setup(project: TestProject): void {
  const root = join(import.meta.dirname, "..", "..");
  const outDir = join(root, "test-results", "stubs");
  for (const folder of ["legacy", "rocm-old", "hip"]) mkdirSync(join(outDir, folder), { recursive: true });
  const source = join(root, "test", "support");
  const cc = process.env.CC ?? "cc";
  const build = (output: string, file: string, ...flags: string[]) => {
    execFileSync(cc, ["-shared", "-fPIC", "-O1", "-Wall", "-o", output, join(source, file), ...flags], {
      stdio: "inherit",
    });
    return output;
  };
  const hip = join(outDir, "hip", "libamdhip64.so");
  build(`${hip}.6.2.60200`, "fake_hip.c");
  rmSync(hip, { force: true });
  symlinkSync("libamdhip64.so.6.2.60200", hip);
  project.provide("stubs", {
    nvml: build(join(outDir, "libnvidia-ml.so.1"), "fake_nvml.c"),
    nvmlLegacy: build(join(outDir, "legacy", "libnvidia-ml.so.1"), "fake_nvml.c", "-DFAKE_NVML_LEGACY"),
    cuda: build(join(outDir, "libcuda.so.1"), "fake_cuda.c"),
    rocmSmi: build(join(outDir, "librocm_smi64.so.1"), "fake_rocm_smi.c"),
    rocmSmiOld: build(join(outDir, "rocm-old", "librocm_smi64.so.1"), "fake_rocm_smi.c", "-DFAKE_RSMI_OLD"),
    hip,
  });
}
