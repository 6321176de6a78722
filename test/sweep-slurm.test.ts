/**
 * `config-tracker sweep --launcher slurm` end to end against a real SLURM (munged + slurmctld +
 * slurmd on this host, started by test/support/slurm-cluster.ts): one job array, each task
 * finding its combination in sweep.json and running as `config-tracker run` into the root.
 * Skipped, with the reason, where the daemons cannot start (not root, packages missing).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { cliPath, readJsonLines, type SpawnedCli, spawnCli, tempDir } from "./support/helpers.js";
import { startSlurmCluster } from "./support/slurm-cluster.js";

const trainer = join(import.meta.dirname, "support", "fake-trainer.mjs");
const cluster = await startSlurmCluster();
const skip = "skip" in cluster ? cluster.skip : null;
if (skip !== null) console.warn(`sweep-slurm.test.ts skipped: ${skip}`);
afterAll(async () => {
  if (!("skip" in cluster)) await cluster.stop();
});

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function sweep(args: string[], cwd: string, poll?: (child: import("node:child_process").ChildProcess) => void): Promise<SpawnedCli> {
  return spawnCli(["sweep", ...args], {
    cwd,
    env: { TRAINER_LOG: join(cwd, "trainer.jsonl"), ...("skip" in cluster ? {} : cluster.env) },
    poll,
    pollMs: 100,
  });
}

describe.skipIf(skip !== null)(`sweep --launcher slurm on a real single-host SLURM${skip === null ? "" : ` (skipped: ${skip})`}`, () => {
  it("submits one job array whose tasks run each combination into the root, and re-submits only what did not finish", async () => {
    const cwd = tempDir("ct-sweep-slurm-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2, 3] }));
    const args = ["--grid", "grid.json", "--root", "s", "--launcher", "slurm", "--wait", "--", "sh", "-c", `exec node ${trainer} n{n} 200 $([ {n} = 2 ] && echo 3 || echo 0)`];
    const first = await sweep(args, cwd);
    expect(first.code, first.stderr).toBe(1); // n=2 failed
    const jobId = /submitted SLURM job (\d+) \(array 0-2, 3 task\(s\)\)/.exec(first.stderr)?.[1];
    expect(jobId, first.stderr).toBeDefined();

    const root = join(cwd, "s");
    const manifest = readJson(join(root, "sweep.json"));
    expect(manifest.slurm_jobs).toEqual([
      expect.objectContaining({ job_id: jobId, array: "0-2", script: "slurm/sweep-1.sbatch", combinations: [0, 1, 2] }),
    ]);
    // Each task ran the combination of its SLURM_ARRAY_TASK_ID, as a run recorded in the root.
    const events = readJsonLines(join(cwd, "trainer.jsonl")).filter((event) => event.event === "start");
    expect(events.map((event) => [event.name, event.task, event.array_job]).sort()).toEqual([
      ["n1", "0", jobId],
      ["n2", "1", jobId],
      ["n3", "2", jobId],
    ]);
    for (const n of [1, 3]) expect(readJson(join(root, `n=${n}`, "status.json")).status).toBe("finished");
    expect(readJson(join(root, "n=2", "status.json")).status).toBe("failed");
    expect(readJson(join(root, "n=2", "results.json")).exit_code).toBe(3);
    const config = readJson(join(root, "n=3", "config.json"));
    expect(config.config).toEqual({ n: 3 });
    expect(config.command.distributed.SLURM_JOB_ID).toMatch(/^\d+$/);
    expect(existsSync(join(root, "slurm", `${jobId}_0.out`))).toBe(true);
    expect(first.stdout).toMatch(/^n=2 +failed /m);
    expect(first.stdout).toContain("3 combinations: 2 finished, 1 failed");
    // `ls` follows the array: the tasks' runs in the shared root, with their outcomes.
    const listed = spawnSync(process.execPath, [cliPath, "ls", join(root, "."), "--json"], { encoding: "utf8" });
    expect(listed.status, listed.stderr).toBe(0);
    const rows = (JSON.parse(listed.stdout) as { name: string; status: string }[]).map((run) => [run.name, run.status]);
    expect(rows.sort()).toEqual([["n=1", "finished"], ["n=2", "failed"], ["n=3", "finished"]]);

    // Again: only combination 1 (n=2) is submitted.
    const second = await sweep(args, cwd);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/submitted SLURM job \d+ \(array 1, 1 task\(s\)\)/);
    expect(readJson(join(root, "sweep.json")).slurm_jobs.map((job: { array: string }) => job.array)).toEqual(["0-2", "1"]);
    const again = readJsonLines(join(cwd, "trainer.jsonl")).filter((event) => event.event === "start");
    expect(again.map((event) => event.name).slice(3)).toEqual(["n2"]);
  }, 120_000);

  it("cancels the job on Ctrl-C while waiting: every task's run is recorded as interrupted", async () => {
    const cwd = tempDir("ct-sweep-slurm-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2] }));
    const log = join(cwd, "trainer.jsonl");
    let sent = false;
    const result = await sweep(
      ["--grid", "grid.json", "--root", "s", "--launcher", "slurm", "--wait", "--", process.execPath, trainer, "n{n}", "120000"],
      cwd,
      (child) => {
        const started = existsSync(log) ? readJsonLines(log).filter((event) => event.event === "start").length : 0;
        if (!sent && started === 2) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    );
    expect(sent, result.stderr).toBe(true);
    expect(result.signal).toBe("SIGINT");
    expect(result.stderr).toMatch(/SIGINT: cancelling SLURM job \d+/);
    // scancel sent SIGTERM to each task: the trainer saw it, the run was recorded as interrupted.
    const signalled = readJsonLines(log).filter((event) => event.event === "signal");
    expect(signalled.map((event) => event.name).sort()).toEqual(["n1", "n2"]);
    for (const n of [1, 2]) expect(readJson(join(cwd, "s", `n=${n}`, "status.json")).status).toBe("interrupted");
  }, 120_000);

  it("submits and returns without --wait; a re-run while the array is queued submits nothing twice", async () => {
    const cwd = tempDir("ct-sweep-slurm-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2] }));
    const args = ["--grid", "grid.json", "--root", "s", "--launcher", "slurm", "--", process.execPath, trainer, "n{n}", "120000"];
    const first = await sweep(args, cwd);
    expect(first.code, first.stderr).toBe(0);
    const jobId = /submitted SLURM job (\d+)/.exec(first.stderr)?.[1] as string;
    expect(first.stdout).toMatch(/^n=1 +submitted /m);
    const env = { ...process.env, ...("skip" in cluster ? {} : cluster.env) };
    try {
      const second = await sweep(args, cwd);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain("2 combination(s) still queued or running in SLURM: left alone");
      expect(second.stderr).not.toContain("submitted SLURM job");
      expect(readJson(join(cwd, "s", "sweep.json")).slurm_jobs).toHaveLength(1);
    } finally {
      spawnSync("scancel", [jobId], { env });
      for (let i = 0; i < 300; i++) {
        const queued = spawnSync("squeue", ["-h", "-j", jobId], { env, encoding: "utf8" }).stdout.trim();
        if (queued === "") break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }, 120_000);
});
