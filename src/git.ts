/**
 * The git state of the code that ran. Never throws: every failure (not a repository, no commits,
 * detached HEAD, git missing, dubious ownership, a slow dirty check) is a null field plus `error`.
 */
import { execFile } from "node:child_process";

import type { GitInfo } from "./schema.js";

export interface GitOptions {
  /** Where to look for the repository (default: the process's working directory). */
  cwd?: string;
  /** Bound on the dirty check; past it `dirty` is null and `error` says it was skipped. */
  dirtyTimeoutMs?: number;
  /** Bound on the other git calls. */
  timeoutMs?: number;
}

interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  missing: boolean;
  timedOut: boolean;
}

// Plain English output, no pager or prompts, and no index.lock taken by `git status` (a training
// job's git call must not collide with the user's own git commands).
const GIT_ENV = {
  LC_ALL: "C",
  LANGUAGE: "C",
  GIT_OPTIONAL_LOCKS: "0",
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
};

function runGit(args: string[], cwd: string, timeoutMs: number): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      { cwd, timeout: timeoutMs, killSignal: "SIGKILL", env: { ...process.env, ...GIT_ENV }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
        resolve({
          ok: failure === null,
          stdout: String(stdout),
          stderr: String(stderr),
          missing: failure?.code === "ENOENT",
          timedOut: failure !== null && (failure.killed === true || failure.signal === "SIGKILL"),
        });
      },
    );
  });
}

function describeFailure(result: GitResult, cwd: string): string {
  if (result.missing) return "git not found on PATH";
  if (result.timedOut) return "git did not answer in time";
  const stderr = result.stderr;
  if (/dubious ownership/i.test(stderr)) {
    return `git refuses the repository at ${cwd}: dubious ownership (add it with git config --global --add safe.directory)`;
  }
  if (/not a git repository/i.test(stderr)) return `not a git repository: ${cwd}`;
  if (/unknown revision|ambiguous argument 'HEAD'|bad revision/i.test(stderr)) return "the repository has no commits yet";
  const firstLine = stderr.split("\n").find((line) => line.trim() !== "") ?? "git failed";
  return firstLine.replace(/^fatal: /, "");
}

/** Removes user names, passwords and tokens from http(s) URLs; scp-style ssh URLs are kept. */
export function redactRemoteUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url; // git@host:path, local paths
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "ssh:" || parsed.protocol === "git+ssh:") {
      parsed.password = ""; // ssh user names (git@) are not secrets
    } else {
      parsed.username = "";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

// One shell runs the quick questions (the commit, its short form, the branch; the remotes): on a
// small machine each process Node starts costs ~10 ms, far more than git's own work. Its output
// is split by a marker line that carries rev-parse's exit status.
// (rev-parse's flags are modes that stick to the names after them, and --short wants its own call.)
const QUICK_QUESTIONS = [
  "git rev-parse HEAD --symbolic-full-name HEAD 2>&1",
  'echo "@@config-tracker rev-parse exit $?"',
  "git rev-parse --short HEAD 2>/dev/null",
  "git config --get-regexp '^remote\\..*\\.url$'",
].join("; ");
const MARKER = /^@@config-tracker rev-parse exit (\d+)$/m;

function runShell(script: string, cwd: string, timeoutMs: number): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      "/bin/sh",
      ["-c", script],
      { cwd, timeout: timeoutMs, killSignal: "SIGKILL", env: { ...process.env, ...GIT_ENV }, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
        resolve({
          ok: failure === null || typeof failure.code === "number",
          stdout: String(stdout),
          stderr: String(stderr),
          missing: false,
          timedOut: failure !== null && (failure.killed === true || failure.signal === "SIGKILL"),
        });
      },
    );
  });
}

export async function getGitInfo(options: GitOptions = {}): Promise<GitInfo> {
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 5000;
  const dirtyTimeoutMs = options.dirtyTimeoutMs ?? 2000;
  const info: GitInfo = { commit: null, short_hash: null, branch: null, dirty: null, remote_url: null, error: null };

  // Independent questions, asked at once: total time is the slowest, not the sum.
  const [quick, status] = await Promise.all([
    runShell(QUICK_QUESTIONS, cwd, timeoutMs),
    runGit(["status", "--porcelain=v2", "--branch", "--untracked-files=no", "--ignore-submodules=dirty"], cwd, dirtyTimeoutMs),
  ]);
  const marker = MARKER.exec(quick.stdout);
  const headText = marker ? quick.stdout.slice(0, marker.index) : quick.stdout;
  const remotesText = marker ? quick.stdout.slice(marker.index + marker[0].length) : "";
  const headCode = marker ? Number(marker[1]) : null;
  // The branch from status too: it is there in a repository with no commits yet.
  const statusBranch = status.ok ? /^# branch\.head (.+)$/m.exec(status.stdout)?.[1] : undefined;

  if (headCode !== 0) {
    const failure: GitResult = {
      ok: false,
      stdout: "",
      stderr: headText + quick.stderr,
      missing: headCode === 127 || status.missing,
      timedOut: quick.timedOut,
    };
    info.error = describeFailure(failure, cwd);
    if (statusBranch !== undefined && statusBranch !== "(detached)") info.branch = statusBranch;
    return info;
  }
  const [commit, symbolic] = headText.trim().split("\n").map((line) => line.trim());
  const afterMarker = remotesText.trim().split("\n");
  const shortHash = /^[0-9a-f]{4,64}$/.test(afterMarker[0] ?? "") ? afterMarker.shift() : undefined;
  const remoteLines = afterMarker;
  info.commit = commit || null;
  info.short_hash = shortHash || null;
  info.branch = symbolic?.startsWith("refs/heads/") ? symbolic.slice("refs/heads/".length) : null; // "HEAD": detached

  if (status.ok) {
    info.dirty = status.stdout.split("\n").some((line) => line !== "" && !line.startsWith("#"));
  } else if (status.timedOut) {
    info.error = `dirty check skipped: git status took longer than ${dirtyTimeoutMs} ms`;
  } else {
    info.error = `dirty check failed: ${describeFailure(status, cwd)}`;
  }

  const urls = new Map<string, string>();
  for (const line of remoteLines) {
    const match = /^remote\.(.+)\.url (.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined && !urls.has(match[1])) urls.set(match[1], match[2]);
  }
  const url = urls.get("origin") ?? urls.values().next().value;
  info.remote_url = url === undefined ? null : redactRemoteUrl(url);
  return info;
}
