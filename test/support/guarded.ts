/**
 * The built CLI, or a script importing the library, run as a user runs them but under a memory
 * cap and a time limit: the child's peak resident memory (VmHWM) is watched while it runs and it
 * is killed past the cap or the limit. The hostile-run tests assert on what comes back: the exit,
 * the output, whether it was killed, and the peak.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

import { cliPath, distIndex, quietEnvironment, repoRoot } from "./helpers.js";

export interface GuardedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed for passing the memory cap. */
  overMemory: boolean;
  /** Killed for running past the time limit. */
  overTime: boolean;
  /** Peak resident memory seen, in MiB. */
  peakMiB: number;
}

export interface GuardOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Default 512 MiB. */
  capMiB?: number;
  /** Default 20 s. */
  timeoutMs?: number;
  /** Run as this user and group (root dropping to "nobody", where permission bits must count). */
  uid?: number;
  gid?: number;
  /** Called once the child has started (to signal it, say). */
  started?: (pid: number) => void;
}

/** VmHWM of a live process in MiB (0 once it is gone). */
function peakOf(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function guardedNode(args: string[], options: GuardOptions): Promise<GuardedResult> {
  const capMiB = options.capMiB ?? 512;
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...quietEnvironment(), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
    });
    let stdout = "";
    let stderr = "";
    let overMemory = false;
    let overTime = false;
    let peakMiB = 0;
    const pid = child.pid as number;
    const watch = setInterval(() => {
      peakMiB = Math.max(peakMiB, peakOf(pid));
      if (peakMiB > capMiB && !overMemory) {
        overMemory = true;
        child.kill("SIGKILL");
      }
    }, 25);
    const timer = setTimeout(() => {
      overTime = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    // The last look before the process is reaped: 'exit' comes before the pipes close.
    child.on("exit", () => (peakMiB = Math.max(peakMiB, peakOf(pid))));
    child.on("close", (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, overMemory, overTime, peakMiB });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(options.input);
    options.started?.(pid);
  });
}

/** The built CLI with `args`. */
export function guardedCli(args: string[], options: GuardOptions = {}): Promise<GuardedResult> {
  return guardedNode([cliPath, ...args], options);
}

/** An ES module script importing the built library as `ct`. */
export function guardedScript(body: string, options: GuardOptions = {}): Promise<GuardedResult> {
  return guardedNode(["--input-type=module", "-e", `import * as ct from ${JSON.stringify(distIndex)};\n${body}`], options);
}

/** Within the cap and the limit, not killed by a signal, no stack trace on stderr. */
export function wellBehaved(result: GuardedResult): string[] {
  const problems: string[] = [];
  if (result.overMemory) problems.push(`killed past the memory cap (${result.peakMiB.toFixed(0)} MiB)`);
  if (result.overTime) problems.push("killed past the time limit");
  if (result.signal !== null && !result.overMemory && !result.overTime) problems.push(`died of ${result.signal}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(result.stderr)) problems.push(`a stack trace on stderr:\n${result.stderr.slice(0, 2000)}`);
  return problems;
}
