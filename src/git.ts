/**
 * The git state of the code that ran. Never throws for git's sake (only a bad options object is an
 * error): every failure (not a repository, no commits, detached HEAD, git missing, dubious
 * ownership, a slow dirty check) is a null field plus `error`.
 */
import { spawn } from "node:child_process";

import { checkOptions, optionNames } from "./options.js";
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

// One shell asks every question (on a small machine each process Node starts costs ~10 ms, far
// more than git's own work): the commit and the branch, the short hash, the remotes, then the
// dirty check. Markers split the output and carry exit statuses. The quick questions are bounded
// by timeoutMs; once the dirty check starts, it is bounded by dirtyTimeoutMs, and past it the
// shell and its git are killed (as a process group) and the answers so far are kept.
// (rev-parse's flags are modes that stick to the names after them; --short wants its own call.)
const QUESTIONS = [
  "git rev-parse HEAD --symbolic-full-name HEAD 2>&1",
  'echo "@@ct head $?"',
  "git rev-parse --short HEAD 2>/dev/null",
  'echo "@@ct remotes"',
  "git config --get-regexp '^remote\\..*\\.url$'",
  'echo "@@ct status"',
  "git status --porcelain=v2 --branch --untracked-files=no --ignore-submodules=dirty 2>&1",
  'echo "@@ct status-exit $?"',
].join("; ");

interface ShellAnswers {
  stdout: string;
  quickTimedOut: boolean;
  statusTimedOut: boolean;
  spawnFailed: boolean;
}

function askGit(cwd: string, timeoutMs: number, dirtyTimeoutMs: number): Promise<ShellAnswers> {
  return new Promise((resolve) => {
    let stdout = "";
    let quickTimedOut = false;
    let statusTimedOut = false;
    let statusTimer: NodeJS.Timeout | undefined;
    const child = spawn("/bin/sh", ["-c", QUESTIONS], {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      stdio: ["ignore", "pipe", "ignore"],
      detached: true, // its own process group, so a timeout kills git too
    });
    const killGroup = () => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // already gone
      }
    };
    const quickTimer = setTimeout(() => {
      quickTimedOut = true;
      killGroup();
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      if (statusTimer === undefined && stdout.includes("@@ct status\n")) {
        clearTimeout(quickTimer);
        statusTimer = setTimeout(() => {
          statusTimedOut = true;
          killGroup();
        }, dirtyTimeoutMs);
      }
      if (stdout.length > 64 * 1024 * 1024) killGroup(); // a dirty tree of millions of files: enough
    });
    const finish = (spawnFailed: boolean) => {
      clearTimeout(quickTimer);
      clearTimeout(statusTimer);
      resolve({ stdout, quickTimedOut, statusTimedOut, spawnFailed });
    };
    child.on("error", () => finish(true));
    child.on("close", () => finish(false));
  });
}

function section(stdout: string, from: string, to: RegExp | string): string | null {
  const start = stdout.indexOf(from);
  if (start === -1) return null;
  const rest = stdout.slice(start + from.length);
  const end = typeof to === "string" ? rest.indexOf(to) : rest.search(to);
  return end === -1 ? rest : rest.slice(0, end);
}

const GIT_OPTIONS = optionNames<GitOptions>({ cwd: true, dirtyTimeoutMs: true, timeoutMs: true });

export async function getGitInfo(options: GitOptions = {}): Promise<GitInfo> {
  checkOptions("getGitInfo(options)", options, GIT_OPTIONS);
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 5000;
  const dirtyTimeoutMs = options.dirtyTimeoutMs ?? 2000;
  const info: GitInfo = { commit: null, short_hash: null, branch: null, dirty: null, remote_url: null, error: null };

  const answers = await askGit(cwd, timeoutMs, dirtyTimeoutMs);
  const out = answers.stdout;
  const headMarker = /^@@ct head (\d+)$/m.exec(out);
  const headText = headMarker ? out.slice(0, headMarker.index) : out;
  const statusText = section(out, "@@ct status\n", /^@@ct status-exit \d+$/m);
  const statusCode = /^@@ct status-exit (\d+)$/m.exec(out)?.[1];
  // The branch from status too: it is there in a repository with no commits yet.
  const statusBranch = statusCode === "0" ? /^# branch\.head (.+)$/m.exec(statusText ?? "")?.[1] : undefined;

  if (headMarker?.[1] !== "0") {
    const failure: GitResult = {
      ok: false,
      stdout: "",
      stderr: headText,
      missing: answers.spawnFailed || headMarker?.[1] === "127",
      timedOut: answers.quickTimedOut,
    };
    info.error = describeFailure(failure, cwd);
    if (statusBranch !== undefined && statusBranch !== "(detached)") info.branch = statusBranch;
    return info;
  }
  const [commit, symbolic] = headText.trim().split("\n").map((line) => line.trim());
  info.commit = commit || null;
  info.branch = symbolic?.startsWith("refs/heads/") ? symbolic.slice("refs/heads/".length) : null; // "HEAD": detached
  const shortHash = section(out, `${headMarker[0]}\n`, "@@ct remotes")?.trim();
  info.short_hash = shortHash && /^[0-9a-f]{4,64}$/.test(shortHash) ? shortHash : null;

  if (statusCode === "0") {
    info.dirty = (statusText ?? "").split("\n").some((line) => line !== "" && !line.startsWith("#"));
  } else if (answers.statusTimedOut) {
    info.error = `dirty check skipped: git status took longer than ${dirtyTimeoutMs} ms`;
  } else if (answers.quickTimedOut) {
    info.error = "dirty check skipped: git did not answer in time";
  } else {
    info.error = `dirty check failed: ${describeFailure({ ok: false, stdout: "", stderr: statusText ?? "", missing: false, timedOut: false }, cwd)}`;
  }

  const urls = new Map<string, string>();
  for (const line of (section(out, "@@ct remotes\n", "@@ct status") ?? "").split("\n")) {
    const match = /^remote\.(.+)\.url (.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined && !urls.has(match[1])) urls.set(match[1], match[2]);
  }
  const url = urls.get("origin") ?? urls.values().next().value;
  info.remote_url = url === undefined ? null : redactRemoteUrl(url);
  return info;
}
