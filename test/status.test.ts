import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { reportedStatus } from "../src/experiment/status.js";
import { rejection, runScript, tempDir } from "./support/helpers.js";

beforeEach(() => {
  vi.stubEnv("CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  vi.stubEnv("CONFIG_TRACKER_DISABLE_GIT", "1");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const statusOf = (dir: string) => JSON.parse(readFileSync(join(dir, "status.json"), "utf8")) as Record<string, unknown>;

describe("status.json", () => {
  it("saveConfig starts the run, logMetrics moves last_step, saveResults finishes it", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.saveConfig({ lr: 1 });
    const started = statusOf(dir);
    expect(started).toMatchObject({ status: "running", ended_at: null, pid: process.pid, host: hostname(), last_step: null, error: null });
    expect(Object.keys(started)).toEqual([
      "status",
      "started_at",
      "updated_at",
      "ended_at",
      "pid",
      "host",
      "boot_id",
      "last_step",
      "error",
    ]);
    tracker.logMetrics(7, { loss: 1 });
    await tracker.saveResults();
    const ended = statusOf(dir);
    expect(ended).toMatchObject({ status: "finished", last_step: 7, error: null, started_at: started.started_at });
    expect(Date.parse(ended.ended_at as string)).toBeGreaterThanOrEqual(Date.parse(started.started_at as string));
  });

  it("the heartbeat refreshes updated_at while the run lives, and stops with it", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir, { heartbeatMs: 50 });
    await tracker.saveConfig({});
    const first = statusOf(dir).updated_at as string;
    tracker.logMetrics(3, { loss: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = statusOf(dir);
    expect(Date.parse(later.updated_at as string)).toBeGreaterThan(Date.parse(first));
    expect(later.last_step).toBe(3); // the heartbeat carries the latest step
    await tracker.fail(new TypeError("bad batch"));
    const failed = statusOf(dir);
    expect(failed).toMatchObject({ status: "failed", error: "TypeError: bad batch" });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(statusOf(dir)).toEqual(failed);
  });

  it("rejects a heartbeat above the 30 s the loaders rely on", () => {
    expect(() => new ConfigTracker(tempDir(), { heartbeatMs: 60_000 })).toThrow(/heartbeatMs/);
  });

  it("a process killed with SIGKILL leaves a run the loader reports as lost", async () => {
    const dir = tempDir();
    const result = await runScript(
      `const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
       await tracker.saveConfig({});
       tracker.logMetrics(1, { loss: 1 }); await tracker.flush();
       console.log("ready"); setInterval(() => {}, 1000);`,
      { onStdout: (text, child) => text.includes("ready") && child.kill("SIGKILL") },
    );
    expect(result.signal).toBe("SIGKILL");
    expect(statusOf(dir).status).toBe("running"); // nothing could write more
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("lost");
    expect(status.lost_reason).toMatch(/process \d+ on .* is gone/);
  });

  it("lost by heartbeat age alone: another host, a heartbeat older than 2 minutes", () => {
    const record = {
      status: "running" as const,
      updated_at: new Date(Date.now() - 121_000).toISOString(),
      pid: 1,
      host: "gpu-node-17",
      boot_id: null,
    };
    expect(reportedStatus(record).status).toBe("lost");
    expect(reportedStatus(record).lost_reason).toBe("no heartbeat for 121 s");
    expect(reportedStatus({ ...record, updated_at: new Date(Date.now() - 60_000).toISOString() }).status).toBe("running");
    expect(reportedStatus({ ...record, status: "finished" }).status).toBe("finished");
  });

  it("a live process's run is running; a missing status.json is NOT_FOUND", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await expect(rejection(tracker.loadStatus())).resolves.toMatchObject({ code: "NOT_FOUND" });
    await tracker.saveConfig({});
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("running");
    expect(status.heartbeat_age_seconds).toBeLessThan(5);
    await tracker.close();
  });

  it("saveResults from another process (an evaluation script) finishes the run too", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "status.json"),
      JSON.stringify({ status: "interrupted", started_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T01:00:00.000Z", ended_at: "2026-01-01T01:00:00.000Z", pid: 1, host: "other", boot_id: null, last_step: 900, error: null, signal: "SIGTERM" }),
    );
    await new ConfigTracker(dir).saveResults({ finalMetrics: { acc: 0.9 } });
    expect(statusOf(dir)).toMatchObject({ status: "finished", started_at: "2026-01-01T00:00:00.000Z", last_step: 900 });
  });
});
