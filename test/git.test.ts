/** git edge cases in real temporary repositories. */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { getGitInfo, redactRemoteUrl } from "../src/git.js";
import { tempDir } from "./support/helpers.js";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();
}

function repoWithCommit(): string {
  const dir = tempDir("ct-git-");
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "train.py"), "print('hi')\n");
  git(dir, "add", "train.py");
  git(dir, "commit", "-q", "-m", "first");
  return dir;
}

describe("getGitInfo", () => {
  it("a clean repository on a branch", async () => {
    const dir = repoWithCommit();
    const info = await getGitInfo({ cwd: dir });
    expect(info).toEqual({
      commit: git(dir, "rev-parse", "HEAD"),
      short_hash: git(dir, "rev-parse", "--short", "HEAD"),
      branch: "main",
      dirty: false,
      remote_url: null,
      error: null,
    });
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it("a modified tracked file is dirty; an untracked file is not", async () => {
    const dir = repoWithCommit();
    writeFileSync(join(dir, "notes.txt"), "untracked\n");
    expect((await getGitInfo({ cwd: dir })).dirty).toBe(false);
    writeFileSync(join(dir, "train.py"), "print('changed')\n");
    expect((await getGitInfo({ cwd: dir })).dirty).toBe(true);
  });

  it("a detached HEAD has a commit and no branch", async () => {
    const dir = repoWithCommit();
    git(dir, "checkout", "-q", "--detach", "HEAD");
    const info = await getGitInfo({ cwd: dir });
    expect(info.branch).toBeNull();
    expect(info.commit).toBe(git(dir, "rev-parse", "HEAD"));
    expect(info.error).toBeNull();
  });

  it("a repository with no commits yet", async () => {
    const dir = tempDir("ct-git-");
    git(dir, "init", "-q", "-b", "trunk");
    const info = await getGitInfo({ cwd: dir });
    expect(info).toMatchObject({ commit: null, short_hash: null, branch: "trunk", dirty: null });
    expect(info.error).toBe("the repository has no commits yet");
  });

  it("not a repository", async () => {
    const dir = tempDir("ct-nogit-");
    const info = await getGitInfo({ cwd: dir });
    expect(info).toMatchObject({ commit: null, branch: null, dirty: null, remote_url: null });
    expect(info.error).toBe(`not a git repository: ${dir}`);
  });

  it("git missing from PATH", async () => {
    const saved = process.env.PATH;
    process.env.PATH = tempDir("ct-empty-path-");
    try {
      const info = await getGitInfo({ cwd: repoWithCommit() });
      expect(info).toMatchObject({ commit: null, error: "git not found on PATH" });
    } finally {
      process.env.PATH = saved;
    }
  });

  it.skipIf(process.getuid?.() !== 0)("a repository owned by someone else (dubious ownership)", async () => {
    const dir = repoWithCommit();
    chownSync(dir, 4242, 4242);
    chownSync(join(dir, ".git"), 4242, 4242);
    const info = await getGitInfo({ cwd: dir });
    expect(info.commit).toBeNull();
    expect(info.error).toMatch(/dubious ownership/);
    expect(info.error).toContain(dir);
  });

  it("a slow dirty check is skipped past its bound, and says so", async () => {
    // A git whose `status` hangs (as on a huge tree), everything else passed to the real git.
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const bin = tempDir("ct-slowgit-");
    writeFileSync(
      join(bin, "git"),
      `#!/bin/sh\nif [ "$1" = status ]; then sleep 30; fi\nexec ${realGit} "$@"\n`,
    );
    chmodSync(join(bin, "git"), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      const started = Date.now();
      const info = await getGitInfo({ cwd: repoWithCommit(), dirtyTimeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(10_000); // far from the 30 s the status would take
      expect(info.dirty).toBeNull();
      expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(info.error).toBe("dirty check skipped: git status took longer than 300 ms");
    } finally {
      process.env.PATH = saved;
    }
  });

  it("records origin's URL without credentials", async () => {
    const dir = repoWithCommit();
    git(dir, "remote", "add", "backup", "https://example.com/backup.git");
    git(dir, "remote", "add", "origin", "https://alice:ghp_secret123@github.com/alice/nanogpt.git");
    expect((await getGitInfo({ cwd: dir })).remote_url).toBe("https://github.com/alice/nanogpt.git");
  });

  it("looks in the given folder's repository, from a subfolder too", async () => {
    const dir = repoWithCommit();
    mkdirSync(join(dir, "runs", "exp1"), { recursive: true });
    const info = await getGitInfo({ cwd: join(dir, "runs", "exp1") });
    expect(info.commit).toBe(git(dir, "rev-parse", "HEAD"));
  });
});

describe("redactRemoteUrl", () => {
  it.each([
    ["https://user:token@github.com/a/b.git", "https://github.com/a/b.git"],
    ["https://ghp_abc@github.com/a/b", "https://github.com/a/b"],
    ["https://github.com/a/b.git", "https://github.com/a/b.git"],
    ["git@github.com:a/b.git", "git@github.com:a/b.git"],
    ["ssh://git:pw@host.example/a/b.git", "ssh://git@host.example/a/b.git"],
    ["/srv/git/project.git", "/srv/git/project.git"],
  ])("%s -> %s", (input, expected) => {
    expect(redactRemoteUrl(input)).toBe(expected);
  });
});
