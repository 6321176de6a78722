import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

import { ConfigTrackerError } from "../../src/errors.js";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const cliPath = join(repoRoot, "dist", "cli.js");

export function tempDir(prefix = "ct-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Keeps the torch-probe cache of test runs out of the user's ~/.cache. */
export const testCacheDir = mkdtempSync(join(tmpdir(), "ct-cache-"));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process (each one a fresh NVML session). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CONFIG_TRACKER_CACHE_DIR: testCacheDir, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Writes a stand-in NVML scenario (see test/support/fake_nvml.c) and returns its path. */
export function writeScenario(text: string): string {
  const path = join(tempDir("ct-nvml-"), "scenario.txt");
  writeFileSync(path, text);
  return path;
}

/** The ConfigTrackerError a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<ConfigTrackerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigTrackerError);
    return error as ConfigTrackerError;
  }
  throw new Error("expected a rejection");
}
