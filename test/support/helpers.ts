import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

import { ConfigTrackerError } from "../../src/errors.js";
import { parsePythonJson } from "../../src/python-json.js";

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

/** The tests' quiet environment for a child: no git, no NVML or ROCm SMI, its own cache. */
export function quietEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CONFIG_TRACKER_CACHE_DIR: testCacheDir,
    CONFIG_TRACKER_DISABLE_GIT: "1",
    CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1",
    CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
  };
}

export interface SpawnedCli {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI without blocking, in the tests' quiet environment (no git, no NVML or ROCm SMI
 * unless `env` names one). `onStdout` / `onStderr` see output as it comes; `poll` runs every `pollMs`
 * while the command runs (to act on it mid-run).
 */
export function spawnCli(
  args: string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    input?: string;
    onStdout?: (text: string, child: ChildProcess) => void;
    onStderr?: (text: string, child: ChildProcess) => void;
    poll?: (child: ChildProcess) => void;
    pollMs?: number;
  },
): Promise<SpawnedCli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd,
      env: { ...quietEnvironment(), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      options.onStdout?.(text, child);
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      options.onStderr?.(text, child);
    });
    const timer = options.poll === undefined ? null : setInterval(() => options.poll?.(child), options.pollMs ?? 50);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer !== null) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input);
  });
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

export const distIndex = join(repoRoot, "dist", "index.js");

let readableCopy: string | undefined;

/**
 * dist/index.js of a copy of the built package that every user can read: package.json, dist/,
 * the addon and the runtime dependencies, in a temporary folder opened to all. A clone may sit
 * in a folder only its owner can enter (a 0700 home), where a child run as another user could
 * not load the package.
 */
function readablePackage(): string {
  if (readableCopy !== undefined) return readableCopy;
  const copy = tempDir("ct-package-");
  const take = (path: string) => cpSync(join(repoRoot, path), join(copy, path), { recursive: true });
  for (const path of ["package.json", "dist", "build/Release/config_tracker.node", "prebuilds"]) {
    if (existsSync(join(repoRoot, path))) take(path);
  }
  const dependencies = (folder: string) =>
    Object.keys((JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { dependencies?: object }).dependencies ?? {});
  const pending = dependencies(repoRoot);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const path = join("node_modules", name);
    if (existsSync(join(copy, path)) || !existsSync(join(repoRoot, path))) continue;
    take(path);
    pending.push(...dependencies(join(repoRoot, path)));
  }
  const openToAll = (path: string) => {
    const stat = statSync(path);
    chmodSync(path, stat.isDirectory() ? 0o755 : stat.mode | 0o444);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) openToAll(join(path, entry));
  };
  openToAll(copy);
  readableCopy = join(copy, "dist", "index.js");
  return readableCopy;
}

/**
 * Runs an ES module script as a user without privileges: "nobody" when the tests run as root
 * (root ignores permission bits), else this user. `script` gets the path of the package's
 * dist/index.js to import, in a copy that user can read. Its working folder is /.
 */
export function runAsUnprivileged(script: (index: string) => string, env: NodeJS.ProcessEnv = {}): ScriptResult {
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script(readablePackage())], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, ...env },
    cwd: "/",
    timeout: 60_000,
    ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
  });
  return { code: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr };
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an ES module script (importing `config-tracker` as `ct`) in a child Node process.
 * `onStdout` sees output as it comes, to act on a process mid-run (send it a signal, say).
 */
export function runScript(
  body: string,
  options: { env?: NodeJS.ProcessEnv; onStdout?: (text: string, child: import("node:child_process").ChildProcess) => void; cwd?: string } = {},
): Promise<ScriptResult> {
  const source = `import * as ct from ${JSON.stringify(distIndex)};\n${body}`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: options.cwd ?? repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CONFIG_TRACKER_CACHE_DIR: testCacheDir,
        CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1",
        CONFIG_TRACKER_ROCM_SMI_LIBRARY: "/nonexistent/librocm_smi64.so.1",
        CONFIG_TRACKER_DISABLE_GIT: "1",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      options.onStdout?.(text, child);
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** Lines of a JSON-lines file, parsed (Python's NaN / Infinity tokens accepted). */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => parsePythonJson(line) as Record<string, unknown>);
}
