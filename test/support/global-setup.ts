/**
 * Builds the stand-in driver libraries once per test run: libnvidia-ml.so.1 (current ABI), an old
 * driver's libnvidia-ml without the _v2/_v3 entry points, and a libcuda with cuDriverGetVersion.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export interface NativeStubs {
  nvml: string;
  nvmlLegacy: string;
  cuda: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stubs: NativeStubs;
  }
}

export default function setup(project: TestProject): void {
  const root = join(import.meta.dirname, "..", "..");
  const outDir = join(root, "test-results", "stubs");
  mkdirSync(join(outDir, "legacy"), { recursive: true });
  const source = join(root, "test", "support");
  const cc = process.env.CC ?? "cc";
  const build = (output: string, file: string, ...flags: string[]) => {
    execFileSync(cc, ["-shared", "-fPIC", "-O1", "-Wall", "-o", output, join(source, file), ...flags], {
      stdio: "inherit",
    });
    return output;
  };
  project.provide("stubs", {
    nvml: build(join(outDir, "libnvidia-ml.so.1"), "fake_nvml.c"),
    nvmlLegacy: build(join(outDir, "legacy", "libnvidia-ml.so.1"), "fake_nvml.c", "-DFAKE_NVML_LEGACY"),
    cuda: build(join(outDir, "libcuda.so.1"), "fake_cuda.c"),
  });
}
