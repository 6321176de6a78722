import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { rejection, runScript, tempDir } from "./support/helpers.js";

beforeEach(() => {
  vi.stubEnv("CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  vi.stubEnv("CONFIG_TRACKER_DISABLE_GIT", "1");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const config = { lr: 6e-4, max_iters: 5000, optimizer: { name: "adamw", betas: [0.9, 0.95] } };
const readConfig = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;

/** A first session that ran and ended, so the folder is free to resume. */
async function firstSession(dir: string) {
  const tracker = new ConfigTracker(dir);
  const saved = await tracker.saveConfig(config, { dataset: { name: "owt" } });
  tracker.logMetrics(100, { loss: 3 });
  await tracker.fail(new Error("preempted"));
  return saved;
}

describe("saveConfig on a folder that has a config", () => {
  it("the same config is a resumption: the original is kept, an entry is appended", async () => {
    const dir = tempDir();
    const first = await firstSession(dir);
    const resumed = await new ConfigTracker(dir).saveConfig(config, {
      dataset: { name: "owt" },
      fromCheckpoint: join(dir, "ckpt", "step_100.pt"),
      fromStep: 100,
    });
    const onDisk = readConfig(dir);
    expect(onDisk.timestamp).toBe(first.timestamp);
    expect(onDisk.config).toEqual(config);
    expect(onDisk.resumes).toEqual([
      {
        timestamp: expect.any(String),
        pid: process.pid,
        host: first.environment.hostname,
        git_hash: null,
        from_checkpoint: "ckpt/step_100.pt", // inside the folder: relative
        from_step: 100,
      },
    ]);
    expect(resumed).toEqual(onDisk);
    // A third session appends again.
    await new ConfigTracker(dir).fail(new Error("x"));
    await new ConfigTracker(dir).saveConfig(config, { dataset: { name: "owt" } });
    expect((readConfig(dir).resumes as unknown[]).length).toBe(2);
  });

  it("a different config is CONFIG_EXISTS naming every changed key, and nothing changes", async () => {
    const dir = tempDir();
    await firstSession(dir);
    const before = readFileSync(join(dir, "config.json"), "utf8");
    const error = await rejection(
      new ConfigTracker(dir).saveConfig(
        { ...config, max_iters: 6000, optimizer: { name: "adamw", betas: [0.9, 0.99] }, warmup: 100 },
        { dataset: { name: "owt" } },
      ),
    );
    expect(error.code).toBe("CONFIG_EXISTS");
    expect(error.keys).toEqual(["config.max_iters", "config.optimizer.betas[1]", "config.warmup"]);
    expect(error.key).toBe("config.max_iters");
    expect(error.path).toBe(join(dir, "config.json"));
    expect(error.message).toContain("config.max_iters (5000 -> 6000)");
    expect(error.message).toContain("config.warmup (absent -> 100)");
    expect(error.message).toMatch(/mode: "resume".*mode: "overwrite"/);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(before);
  });

  it("a changed dataset counts too", async () => {
    const dir = tempDir();
    await firstSession(dir);
    const error = await rejection(new ConfigTracker(dir).saveConfig(config, { dataset: { name: "fineweb" } }));
    expect(error.keys).toEqual(["dataset.name"]);
  });

  it('mode "resume" accepts the changes and records them in the resume entry', async () => {
    const dir = tempDir();
    const first = await firstSession(dir);
    await new ConfigTracker(dir).saveConfig({ ...config, max_iters: 6000 }, { dataset: { name: "owt" }, mode: "resume" });
    const onDisk = readConfig(dir);
    expect(onDisk.timestamp).toBe(first.timestamp); // the run's start is kept
    expect((onDisk.config as Record<string, unknown>).max_iters).toBe(6000); // what runs now
    expect((onDisk.resumes as Array<Record<string, unknown>>)[0]?.changes).toEqual([
      { key: "config.max_iters", from: 5000, to: 6000 },
    ]);
  });

  it('mode "overwrite" moves the previous run\'s files to .previous/<timestamp>/ and starts fresh', async () => {
    const dir = tempDir();
    const first = await firstSession(dir);
    writeFileSync(join(dir, "notes.txt"), "the user's own file");
    const fresh = await new ConfigTracker(dir).saveConfig({ lr: 1 }, { mode: "overwrite" });
    expect(fresh.timestamp).not.toBe(first.timestamp);
    expect(readConfig(dir).config).toEqual({ lr: 1 });
    expect("resumes" in readConfig(dir)).toBe(false);
    const [stamp] = readdirSync(join(dir, ".previous"));
    const moved = join(dir, ".previous", stamp as string);
    expect(readdirSync(moved).sort()).toEqual(["config.json", "metrics.jsonl", "status.json"]);
    expect(JSON.parse(readFileSync(join(moved, "config.json"), "utf8")).timestamp).toBe(first.timestamp);
    expect(existsSync(join(dir, "metrics.jsonl"))).toBe(false);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("the user's own file");
  });

  it("records the hardware when a resumed session runs on different hardware", async () => {
    const dir = tempDir();
    await firstSession(dir);
    await new ConfigTracker(dir, { env: { ...process.env, CUDA_VISIBLE_DEVICES: "1" } }).saveConfig(config, {
      dataset: { name: "owt" },
    });
    const entry = (readConfig(dir).resumes as Array<Record<string, unknown>>)[0];
    expect(entry?.hardware).toMatchObject({ cuda_visible_devices: "1", gpu_count: 0 });
  });

  it("refuses to resume a run another live process is still running (RUN_ACTIVE)", async () => {
    const dir = tempDir();
    const result = runScript(
      `const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
       await tracker.saveConfig(${JSON.stringify(config)});
       console.log("ready"); await new Promise((resolve) => setTimeout(resolve, 3000));`,
      {
        onStdout: async (text, child) => {
          if (!text.includes("ready")) return;
          const error = await rejection(new ConfigTracker(dir).saveConfig(config));
          expect(error.code).toBe("RUN_ACTIVE");
          expect(error.message).toMatch(/is running this experiment/);
          child.kill("SIGTERM");
        },
      },
    );
    expect((await result).signal).toBe("SIGTERM");
    // Interrupted now: free to resume.
    await new ConfigTracker(dir).saveConfig(config);
    expect((readConfig(dir).resumes as unknown[]).length).toBe(1);
  });
});

describe("two processes creating one experiment at once", () => {
  it("with different configs: one wins, the other is told, nothing is silently replaced", async () => {
    for (let round = 0; round < 4; round++) {
      const dir = join(tempDir(), "exp");
      const body = (lr: number) => `
        await new Promise((resolve) => setTimeout(resolve, ${Date.now() + 600} - Date.now()));
        try { await new ct.ConfigTracker(${JSON.stringify(dir)}).saveConfig({ lr: ${lr}, pad: "x".repeat(200000) }); console.log("saved"); }
        catch (error) { console.log(error.code); }`;
      const results = await Promise.all([runScript(body(1)), runScript(body(2))]);
      const outcomes = results.map((result) => result.stdout.trim()).sort();
      expect(outcomes).toEqual(["CONFIG_EXISTS", "saved"]);
      const winner = results.findIndex((result) => result.stdout.trim() === "saved") + 1;
      expect((readConfig(dir).config as Record<string, unknown>).lr).toBe(winner);
    }
  }, 30_000);
});
