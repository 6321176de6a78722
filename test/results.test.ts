import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { readJsonLines, rejection, tempDir } from "./support/helpers.js";

const fixtures = join(import.meta.dirname, "fixtures", "checkpoints");
// Counts torch itself computed for the fixtures (make_fixtures.py).
const expected = (
  JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as {
    fixtures: Record<string, { num_parameters: number; num_trainable_parameters: number }>;
  }
).fixtures;

beforeEach(() => {
  vi.stubEnv("CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  vi.stubEnv("CONFIG_TRACKER_DISABLE_GIT", "1");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function writeLog(dir: string, records: Array<Record<string, number>>): void {
  writeFileSync(join(dir, "metrics.jsonl"), records.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

function writeConfig(dir: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ experiment_id: "x", timestamp: "2026-01-01T00:00:00.000Z", git_hash: null, config: {}, hardware: {}, ...extra }),
  );
}

describe("saveResults derives results from metrics.jsonl", () => {
  it("last values, best values with their steps, a summary per metric; given values win", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const losses = [3.0, 2.5, 2.7, 2.2, NaN];
    losses.forEach((loss, step) => tracker.logMetrics(step * 100, { train_loss: loss, lr: 1e-3 / (step + 1) }));
    tracker.logMetrics(100, { val_loss: 2.6, acc: 0.31 });
    tracker.logMetrics(300, { val_loss: 2.3, acc: 0.42 });
    tracker.logMetrics(400, { val_loss: 2.4, acc: 0.4 });
    const results = await tracker.saveResults({ best: { val_loss: "min", acc: "max" }, finalMetrics: { lr: 0.5, note_id: 7 } });
    expect(results.final_metrics).toMatchObject({
      train_loss: NaN, // the last value, even a diverged one
      val_loss: 2.4,
      acc: 0.4,
      best_val_loss: 2.3,
      best_val_loss_step: 300,
      best_acc: 0.42,
      best_acc_step: 300,
      lr: 0.5, // given wins over derived
      note_id: 7,
    });
    expect(results.final_metrics.total_time_seconds).toBeGreaterThanOrEqual(0);
    expect(results.summary?.train_loss).toEqual({ last: NaN, min: 2.2, max: 3, count: 5, last_step: 400 });
    expect(results.summary?.val_loss).toEqual({ last: 2.4, min: 2.3, max: 2.6, count: 3, last_step: 400 });
    expect((await tracker.loadResults()).final_metrics.train_loss).toBeNaN();
  });

  it("val_loss (min) is the default best metric; no log, no derived metrics", async () => {
    const dir = tempDir();
    writeLog(dir, [
      { step: 1, time: 10, val_loss: 2 },
      { step: 2, time: 11, val_loss: 1 },
    ]);
    const results = await new ConfigTracker(dir).saveResults();
    expect(results.final_metrics).toMatchObject({ best_val_loss: 1, best_val_loss_step: 2 });
    const empty = await new ConfigTracker(tempDir()).saveResults({ finalMetrics: { acc: 1 } });
    expect(empty.final_metrics).toEqual({ acc: 1 });
    expect(empty.summary).toEqual({});
  });

  it("total_time_seconds runs from the first start (config.json), resumptions included", async () => {
    const dir = tempDir();
    const started = new Date(Date.now() - 3_600_000).toISOString();
    writeConfig(dir, { timestamp: started, resumes: [{ timestamp: new Date(Date.now() - 600_000).toISOString() }] });
    const results = await new ConfigTracker(dir).saveResults();
    expect(results.final_metrics.total_time_seconds).toBeGreaterThanOrEqual(3600);
    expect(results.final_metrics.total_time_seconds).toBeLessThan(3610);
  });

  it("tokens_per_second from per-record `tokens`, leaving out the gap of a resumption", async () => {
    const dir = tempDir();
    // Session 1: steps 0-10 one second apart; 990 s later, session 2 resumes at step 11.
    const records = [
      ...Array.from({ length: 11 }, (_, i) => ({ step: i, time: 1000 + i, tokens: 500 })),
      ...Array.from({ length: 10 }, (_, i) => ({ step: 11 + i, time: 2000 + i, tokens: 500 })),
    ];
    writeLog(dir, records);
    writeConfig(dir, { timestamp: new Date(999_000).toISOString(), resumes: [{ timestamp: new Date(1_999_500).toISOString() }] });
    const results = await new ConfigTracker(dir).saveResults();
    // 10 + 9 one-second intervals of 500 tokens each; the 990 s between sessions is not training.
    expect(results.final_metrics.tokens_per_second).toBe(500);
  });

  it("tokens_per_second from Hugging Face's running total num_input_tokens_seen", async () => {
    const dir = tempDir();
    writeLog(
      dir,
      Array.from({ length: 6 }, (_, i) => ({ step: i * 10, time: 100 + 2 * i, num_input_tokens_seen: 4096 + 1000 * i, loss: 1 })),
    );
    const results = await new ConfigTracker(dir).saveResults();
    expect(results.final_metrics.tokens_per_second).toBe(500);
  });

  it("a logged tokens_per_second is the user's figure and is not replaced", async () => {
    const dir = tempDir();
    writeLog(dir, [
      { step: 1, time: 1, tokens: 100, tokens_per_second: 7 },
      { step: 2, time: 2, tokens: 100, tokens_per_second: 9 },
    ]);
    expect((await new ConfigTracker(dir).saveResults()).final_metrics.tokens_per_second).toBe(9);
  });

  it("reports a torn line of the log in warnings", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "metrics.jsonl"), '{"step": 1, "time": 1, "loss": 2}\n{"step": 2, "ti');
    const results = await new ConfigTracker(dir).saveResults();
    expect(results.final_metrics.loss).toBe(2);
    expect(results.warnings).toEqual(["metrics.jsonl: 1 line(s) skipped (first: line 2, no newline at the end)"]);
  });
});

describe("checkpoints", () => {
  function checkpointIn(dir: string, name: string, fixture = "nanogpt_ckpt.pt"): string {
    mkdirSync(join(dir, "ckpt"), { recursive: true });
    const path = join(dir, "ckpt", name);
    copyFileSync(join(fixtures, fixture), path);
    return path;
  }

  it("recordCheckpoint appends path (relative inside the folder), step, size and torch's counts", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const inside = checkpointIn(dir, "step_100.pt");
    const outside = join(fixtures, "cnn_state_dict.pt");
    await tracker.recordCheckpoint(inside, { step: 100, metrics: { val_loss: 2.5 } });
    await tracker.recordCheckpoint(outside, { step: 200 });
    const records = readJsonLines(join(dir, "checkpoints.jsonl"));
    expect(records[0]).toMatchObject({
      path: "ckpt/step_100.pt",
      step: 100,
      size_bytes: readFileSync(inside).length,
      format: "torch-zip",
      num_parameters: expected["nanogpt_ckpt.pt"]?.num_parameters,
      num_trainable_parameters: expected["nanogpt_ckpt.pt"]?.num_trainable_parameters,
      metrics: { val_loss: 2.5 },
    });
    expect(records[1]).toMatchObject({ path: outside, step: 200, num_parameters: expected["cnn_state_dict.pt"]?.num_parameters });
    expect(await tracker.loadCheckpoints()).toEqual(records);
  });

  it("from scratch: the first checkpoint fills config.json's model (paths by the same rule)", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.saveConfig({ lr: 1 });
    expect((await tracker.loadConfig()).model).toBeUndefined();
    await tracker.recordCheckpoint(checkpointIn(dir, "step_10.pt"), { step: 10 });
    await tracker.recordCheckpoint(checkpointIn(dir, "step_20.pt", "cnn_state_dict.pt"), { step: 20 });
    const config = await tracker.loadConfig();
    expect(Object.keys(config).indexOf("model")).toBe(Object.keys(config).indexOf("hardware") + 1);
    expect(config.model).toMatchObject({
      num_parameters: expected["nanogpt_ckpt.pt"]?.num_parameters,
      source: "ckpt/step_10.pt", // the first one, not replaced by the second
      files: ["ckpt/step_10.pt"],
    });
    await tracker.close();
  });

  it("saveResults names the checkpoint with the best val_loss (logged at its step, or given with it)", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const losses: Record<number, number> = { 100: 2.0, 200: 1.5, 300: 1.7 };
    for (const step of [100, 200, 300]) {
      tracker.logMetrics(step, { val_loss: losses[step] as number });
      await tracker.recordCheckpoint(checkpointIn(dir, `step_${step}.pt`), { step });
    }
    expect((await tracker.saveResults()).best_checkpoint).toBe("ckpt/step_200.pt");
    // A value given with the checkpoint wins over the log's.
    await tracker.recordCheckpoint(checkpointIn(dir, "step_400.pt"), { step: 400, metrics: { val_loss: 1.2 } });
    expect((await tracker.saveResults()).best_checkpoint).toBe("ckpt/step_400.pt");
    // acc, higher is better, when asked.
    tracker.logMetrics(100, { acc: 0.9 });
    tracker.logMetrics(300, { acc: 0.8 });
    expect((await tracker.saveResults({ best: { acc: "max" } })).best_checkpoint).toBe("ckpt/step_100.pt");
  });

  it("no metric for any checkpoint: the last one, with a warning; a given best wins", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.recordCheckpoint(checkpointIn(dir, "a.pt"), { step: 1 });
    await tracker.recordCheckpoint(checkpointIn(dir, "b.pt"), { step: 2 });
    const results = await tracker.saveResults();
    expect(results.best_checkpoint).toBe("ckpt/b.pt");
    expect(results.warnings?.[0]).toMatch(/no val_loss for any recorded checkpoint/);
    expect((await tracker.saveResults({ bestCheckpoint: join(dir, "ckpt", "a.pt") })).best_checkpoint).toBe("ckpt/a.pt");
    expect((await tracker.saveResults({ bestCheckpoint: null })).best_checkpoint).toBeNull();
  });

  it("a file the reader cannot count is recorded with the reason; a missing one is NOT_FOUND", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const record = await tracker.recordCheckpoint(join(fixtures, "random_bytes.bin"), { step: 5 });
    expect(record).toMatchObject({ num_parameters: null, error: { code: "UNSUPPORTED_FORMAT" } });
    const error = await rejection(tracker.recordCheckpoint(join(dir, "nope.pt"), { step: 6 }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.path).toBe(join(dir, "nope.pt"));
    expect(readJsonLines(join(dir, "checkpoints.jsonl"))).toHaveLength(1);
  });
});
