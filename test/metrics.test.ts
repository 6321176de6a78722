import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { ConfigTrackerError } from "../src/errors.js";
import { readMetrics } from "../src/index.js";
import type { MetricRecord } from "../src/experiment/metrics-reader.js";
import { readJsonLines, runScript, tempDir } from "./support/helpers.js";

beforeEach(() => {
  vi.stubEnv("CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  vi.stubEnv("CONFIG_TRACKER_DISABLE_GIT", "1");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function thrown(action: () => unknown): ConfigTrackerError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigTrackerError);
    return error as ConfigTrackerError;
  }
  throw new Error("expected an error");
}

const lines = (dir: string, file = "metrics.jsonl") => readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean);

describe("logMetrics", () => {
  it("appends one flat JSON object per line, as Python's json.dumps writes a dict", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const before = Date.now() / 1000;
    tracker.logMetrics(120, { train_loss: 2.31, lr: 0.0006 });
    tracker.logMetrics(121, { train_loss: NaN, grad_norm: Infinity, min_logit: -Infinity });
    await tracker.flush();
    const [first, second] = lines(dir);
    expect(first).toMatch(/^\{"step": 120, "time": \d+(\.\d+)?, "train_loss": 2\.31, "lr": 0\.0006\}$/);
    expect(second).toMatch(/"train_loss": NaN, "grad_norm": Infinity, "min_logit": -Infinity\}$/);
    const time = Number(/"time": ([\d.]+)/.exec(first as string)?.[1]);
    expect(time).toBeGreaterThanOrEqual(before - 0.001);
    expect(time).toBeLessThanOrEqual(Date.now() / 1000 + 0.001);
  });

  it.each([
    [{ phase: "train" }, "metrics.phase", /a string cannot be logged/],
    [{ loss: { train: 1 } }, "metrics.loss", /a nested object/],
    [{ losses: [1, 2] }, "metrics.losses", /an array/],
    [{ done: true }, "metrics.done", /a boolean/],
    [{ loss: null }, "metrics.loss", /null/],
    [{ loss: 1n }, "metrics.loss", /a bigint/],
    [{ step: 5 }, "metrics.step", /written by the tracker/],
    [{ time: 5 }, "metrics.time", /written by the tracker/],
    [{ [Symbol("x")]: 1 }, "metrics", /Symbol keys/],
    [new Map([["a", 1]]), "metrics", /must be an object/],
    [[1, 2], "metrics", /must be an object/],
  ])("refuses %o with INVALID_CONFIG naming %s, writing nothing", async (values, key, message) => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    const error = thrown(() => tracker.logMetrics(1, values as never));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    await tracker.flush();
    expect(existsSync(join(dir, "metrics.jsonl"))).toBe(false);
  });

  it.each([-1, 1.5, NaN, "3", Number.MAX_SAFE_INTEGER + 2])("refuses step %o", (step) => {
    const error = thrown(() => new ConfigTracker(tempDir()).logMetrics(step as number, { loss: 1 }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe("step");
  });

  it("refuses a record over 1 MiB (the line cap) with LIMIT_EXCEEDED", () => {
    const values = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`metric_with_a_long_name_${i}`, i]));
    expect(thrown(() => new ConfigTracker(tempDir()).logMetrics(1, values)).code).toBe("LIMIT_EXCEEDED");
  });

  it("buffers: nothing is written by the call, everything within a second", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    tracker.logMetrics(1, { loss: 1 });
    tracker.logMetrics(2, { loss: 0.5 });
    expect(existsSync(join(dir, "metrics.jsonl"))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(lines(dir)).toHaveLength(2);
    await tracker.close();
  });

  it("a writer that finds a torn last line ends it first, so its own first line stays whole", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "metrics.jsonl"), '{"step": 1, "time": 1.0, "loss": 2}\n{"step": 2, "ti');
    const tracker = new ConfigTracker(dir);
    tracker.logMetrics(3, { loss: 1 });
    await tracker.flush();
    const stream = tracker.readMetrics();
    const records = await stream.toArray();
    expect(records.map((record) => record.step)).toEqual([1, 3]);
    expect(stream.stats.skipped_lines).toBe(1);
    expect(stream.stats.skipped[0]).toEqual({ line: 2, reason: "torn (cut off mid-line)" });
  });
});

describe("when the process ends", () => {
  const script = (dir: string, ending: string, setup = "") => `
    const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
    ${setup}
    await tracker.saveConfig({ lr: 1 });
    for (let step = 0; step < 5; step++) tracker.logMetrics(step, { loss: 5 - step });
    ${ending}`;

  it("a normal exit flushes the lines and marks the run finished", async () => {
    const dir = tempDir();
    const result = await runScript(script(dir, ""));
    expect(result.code).toBe(0);
    expect(readJsonLines(join(dir, "metrics.jsonl")).map((line) => line.step)).toEqual([0, 1, 2, 3, 4]);
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("finished");
    expect(status.exit_code).toBe(0);
    expect(status.last_step).toBe(4);
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s flushes, marks the run interrupted, and still ends the process by that signal",
    async (signal) => {
      const dir = tempDir();
      const result = await runScript(script(dir, 'console.log("ready"); setInterval(() => {}, 1000);'), {
        onStdout: (text, child) => {
          if (text.includes("ready")) child.kill(signal);
        },
      });
      expect(result.signal).toBe(signal);
      expect(result.code).toBeNull();
      expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(5);
      const status = await new ConfigTracker(dir).loadStatus();
      expect(status.status).toBe("interrupted");
      expect(status.signal).toBe(signal);
      expect(status.ended_at).not.toBeNull();
    },
  );

  it("a program with its own SIGINT handler decides itself (the tracker only records)", async () => {
    const dir = tempDir();
    const result = await runScript(
      script(
        dir,
        `process.on("SIGINT", async () => { tracker.logMetrics(5, { loss: 0 }); await tracker.saveResults(); console.log("handled"); process.exit(3); });
         console.log("ready"); setInterval(() => {}, 1000);`,
      ),
      { onStdout: (text, child) => text.includes("ready") && child.kill("SIGINT") },
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toContain("handled");
    expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(6);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("finished");
  });

  it("an uncaught exception flushes, marks the run failed with the message, and still crashes", async () => {
    const dir = tempDir();
    const result = await runScript(script(dir, 'setTimeout(() => { throw new RangeError("CUDA out of memory") }, 10);'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("CUDA out of memory");
    expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(5);
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("failed");
    expect(status.error).toBe("RangeError: CUDA out of memory");
  });

  it("an unhandled rejection does the same", async () => {
    const dir = tempDir();
    const result = await runScript(script(dir, 'Promise.reject(new Error("loader died"));'));
    expect(result.code).toBe(1);
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("failed");
    expect(status.error).toBe("Error: loader died");
  });

  it("process.exit(2) is a failure with its code", async () => {
    const dir = tempDir();
    const result = await runScript(script(dir, "process.exit(2);"));
    expect(result.code).toBe(2);
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("failed");
    expect(status.exit_code).toBe(2);
    expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(5);
  });
});

describe("several processes appending to one file", () => {
  it("never interleave or lose lines", async () => {
    const dir = tempDir();
    const writers = 4;
    const perWriter = 20_000;
    // Wide records (40 values) so a write that is not atomic would show up as a broken line.
    const body = (id: number) => `
      const tracker = new ct.ConfigTracker(${JSON.stringify(dir)});
      const values = Object.fromEntries(Array.from({ length: 40 }, (_, i) => ["writer_${id}_value_" + i, ${id} + i / 100]));
      for (let n = 0; n < ${perWriter}; n++) { values.writer = ${id}; values.n = n; tracker.logMetrics(n, values); if (n % 1000 === 0) await tracker.flush(); }
      await tracker.flush();`;
    const results = await Promise.all(Array.from({ length: writers }, (_, id) => runScript(body(id))));
    for (const result of results) expect(result.stderr).toBe("");
    const text = readFileSync(join(dir, "metrics.jsonl"), "utf8");
    const all = text.split("\n");
    expect(all.pop()).toBe("");
    expect(all).toHaveLength(writers * perWriter);
    const next = new Array<number>(writers).fill(0);
    for (const line of all) {
      const record = JSON.parse(line) as Record<string, number>; // throws on an interleaved line
      const writer = record.writer as number;
      expect(record.n).toBe(next[writer]); // each writer's lines whole and in order
      expect(Object.keys(record).filter((key) => key.startsWith(`writer_${writer}_`))).toHaveLength(40);
      next[writer] = (next[writer] as number) + 1;
    }
    expect(next).toEqual(new Array(writers).fill(perWriter));
    const stream = readMetrics(join(dir, "metrics.jsonl"), { all: true });
    expect((await stream.toArray()).length).toBe(writers * perWriter);
    expect(stream.stats.skipped_lines).toBe(0);
  }, 60_000);
});

describe("readMetrics", () => {
  function logFile(records: Array<Record<string, number>>, tail = ""): string {
    const dir = tempDir();
    const text = records
      .map((record) => JSON.stringify({ time: 1000 + (record.step as number), ...record }))
      .join("\n");
    writeFileSync(join(dir, "metrics.jsonl"), `${text}\n${tail}`);
    return dir;
  }
  const read = async (dir: string, options = {}) => {
    const stream = new ConfigTracker(dir).readMetrics(options);
    return { records: await stream.toArray(), stats: stream.stats };
  };
  const steps = (records: MetricRecord[]) => records.map((record) => record.step);

  it("a resumed run that re-runs steps: its values win, in step order", async () => {
    const first = Array.from({ length: 50 }, (_, step) => ({ step, loss: 100 + step }));
    const resumed = Array.from({ length: 60 }, (_, i) => ({ step: 40 + i, loss: 200 + 40 + i }));
    const dir = logFile([...first, ...resumed]);
    const { records, stats } = await read(dir);
    expect(steps(records)).toEqual(Array.from({ length: 100 }, (_, step) => step));
    expect(records[39]?.loss).toBe(139);
    expect(records[40]?.loss).toBe(240); // the resumed run's
    expect(records[49]?.loss).toBe(249);
    expect(stats.superseded).toBe(10);
    expect(stats.records).toBe(100);
    const all = await read(dir, { all: true });
    expect(all.records).toHaveLength(110);
    expect(steps(all.records).slice(48, 52)).toEqual([48, 49, 40, 41]);
  });

  it("records of one step in a row are one record (train and val logged separately)", async () => {
    const dir = logFile([
      { step: 99, train_loss: 2.5 },
      { step: 100, train_loss: 2.4 },
      { step: 100, val_loss: 2.6 },
      { step: 101, train_loss: 2.3 },
    ]);
    const { records, stats } = await read(dir);
    expect(records.map(({ time: _time, ...rest }) => rest)).toEqual([
      { step: 99, train_loss: 2.5 },
      { step: 100, train_loss: 2.4, val_loss: 2.6 },
      { step: 101, train_loss: 2.3 },
    ]);
    expect(stats.superseded).toBe(0);
  });

  it("a late record from another process is merged in its place in step order", async () => {
    // An evaluator logs val_loss for step 1000 while the trainer is already at 1200.
    const train = Array.from({ length: 21 }, (_, i) => ({ step: 1000 + i * 10, train_loss: 3 - i / 100 }));
    const dir = logFile([...train, { step: 1000, val_loss: 2.9 }, { step: 1210, train_loss: 2.7 }]);
    const { records } = await read(dir);
    expect(steps(records)).toEqual([...train.map((record) => record.step), 1210]);
    expect(records[0]).toEqual({ step: 1000, time: 2000, train_loss: 3, val_loss: 2.9 });
  });

  it("keys: only those metrics, only records that have one", async () => {
    const dir = logFile([
      { step: 1, train_loss: 2 },
      { step: 2, train_loss: 1.9, val_loss: 2.1 },
      { step: 3, train_loss: 1.8 },
    ]);
    const { records } = await read(dir, { keys: ["val_loss"] });
    expect(records).toEqual([{ step: 2, time: 1002, val_loss: 2.1 }]);
  });

  it("keeps Python's NaN and drops non-numeric fields other writers added", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "metrics.jsonl"), '{"step": 1, "time": 5.5, "loss": NaN, "phase": "train", "lr": 1e-05}\n');
    const { records } = await read(dir);
    expect(records).toHaveLength(1);
    expect(records[0]?.loss).toBeNaN();
    expect(records[0]).toMatchObject({ step: 1, time: 5.5, lr: 1e-5 });
    expect("phase" in (records[0] as object)).toBe(false);
  });

  it("skips and counts torn, non-JSON, step-less and over-long lines", async () => {
    const dir = logFile([{ step: 1, loss: 1 }], "");
    appendFileSync(join(dir, "metrics.jsonl"), `not json\n{"loss": 3}\n{"step": 4, "loss": ${"9".repeat(1_100_000)}}\n{"step": 5, "time": 1, "loss": 5}\n{"step": 6, "lo`);
    const { records, stats } = await read(dir);
    expect(steps(records)).toEqual([1, 5]);
    expect(stats.skipped_lines).toBe(4);
    expect(stats.skipped.map((entry) => entry.reason)).toEqual([
      "not JSON",
      "no numeric step",
      "too long",
      "no newline at the end",
    ]);
    expect(stats.skipped.map((entry) => entry.line)).toEqual([2, 3, 4, 6]);
  });

  it("a run that logged nothing yields nothing; readMetrics(path) of a missing file is NOT_FOUND", async () => {
    expect(await new ConfigTracker(tempDir()).readMetrics().toArray()).toEqual([]);
    const missing = readMetrics(join(tempDir(), "metrics.jsonl"));
    await expect(missing.toArray()).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("reads only what was there when it started (a live writer appends meanwhile)", async () => {
    const dir = logFile(Array.from({ length: 10 }, (_, step) => ({ step, loss: step })));
    const stream = new ConfigTracker(dir).readMetrics();
    const seen: number[] = [];
    for await (const record of stream) {
      if (record.step === 0) appendFileSync(join(dir, "metrics.jsonl"), '{"step": 10, "time": 1, "loss": 1}\n');
      seen.push(record.step);
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, step) => step));
  });
});

describe("readMetrics, stopped early", () => {
  it("a consumer that breaks out of the loop leaves no read in flight and no error behind", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    for (let step = 0; step < 60_000; step++) tracker.logMetrics(step, { loss: step, other_metric_with_a_long_name: step / 3 });
    await tracker.flush();
    for (const all of [false, true]) {
      let seen = 0;
      for await (const record of tracker.readMetrics({ all })) {
        seen = record.step;
        if (seen === 10) break;
      }
      expect(seen).toBe(10);
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // a stray rejection would fail the run
  });
});

describe("the native fast path and JSON.parse read the same", () => {
  it("on the tracker's own lines and on every kind of line it hands back", async () => {
    const { useNativeMetricParser } = await import("../src/experiment/metrics-reader.js");
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    for (let step = 0; step < 3000; step++) {
      tracker.logMetrics(step, { train_loss: 2 + 1 / (step + 1), lr: 6e-4 * Math.cos(step), tiny: 5e-324 * step, big: 1.7e308 });
      if (step % 100 === 0) tracker.logMetrics(step, { val_loss: step % 300 === 0 ? NaN : 2.5, "odd key!": -0 });
    }
    for (let step = 2900; step < 3100; step++) tracker.logMetrics(step, { train_loss: 1, lr: -Infinity }); // a resumption
    await tracker.flush();
    const flat = readFileSync(join(dir, "metrics.jsonl"), "utf8");
    // The fast path does take these lines (so the comparison below compares two readers).
    const { loadAddon } = await import("../src/native.js");
    const parsed = loadAddon().parseMetricLines(Buffer.from(flat.trimEnd()));
    expect(parsed?.shapeOfLine.length).toBe(3000 + 30 + 200);
    const variants = {
      flat,
      // Lines only JSON.parse reads: a foreign writer's strings, escapes, unicode, no time, a
      // duplicate key, exponents, blank lines, a line with "__proto__".
      mixed:
        flat +
        [
          '{"step": 3100, "time": 1, "phase": "eval", "acc": 0.5}',
          '{"step": 3101, "time": 1, "lo\\u0073s": 1E+2}',
          '{"step": 3102, "time": 1, "lössé": 3}',
          '{"step": 3103, "acc": 0.25}',
          "",
          '{"step": 3104, "time": 2, "a": 1, "a": 2}',
          '{"step":3105,"time":2,"__proto__":5,"b":1e-7}',
          '   {"step": 3106 , "time": 3 , "c": -0.0 }   ',
        ].join("\n") +
        "\n",
    };
    for (const [name, text] of Object.entries(variants)) {
      writeFileSync(join(dir, "metrics.jsonl"), text);
      const results: Array<{ records: unknown[]; all: unknown[]; stats: unknown }> = [];
      for (const native of [true, false]) {
        useNativeMetricParser(native);
        const stream = new ConfigTracker(dir).readMetrics();
        const records = await stream.toArray();
        const all = await new ConfigTracker(dir).readMetrics({ all: true }).toArray();
        results.push({ records, all, stats: stream.stats });
      }
      useNativeMetricParser(true);
      const [fast, slow] = results as [(typeof results)[0], (typeof results)[0]];
      expect(fast.records.length, name).toBeGreaterThan(3000);
      // toStrictEqual tells -0 from 0 and checks key order through JSON below.
      expect(fast.records, name).toStrictEqual(slow.records);
      expect(JSON.stringify(fast.records), name).toBe(JSON.stringify(slow.records));
      expect(fast.all, name).toStrictEqual(slow.all);
      expect(fast.stats, name).toEqual(slow.stats);
    }
  });
});

describe("readMetrics on a log built to be hostile", () => {
  function hostile(): string {
    // Step 0 first, then steps that only go down from 3000, then step 0 again at the end: every
    // line comes back, and everything after the first line waits on step 0.
    const dir = tempDir();
    const lines = ['{"step": 0, "time": 1, "loss": 0}'];
    for (let step = 3000; step >= 1; step--) lines.push(`{"step": ${step}, "time": 2, "loss": ${step}}`);
    lines.push('{"step": 0, "time": 3, "loss": -1}');
    writeFileSync(join(dir, "metrics.jsonl"), `${lines.join("\n")}\n`);
    return dir;
  }

  it("within the bound: every step once, in order, the latest value", async () => {
    const stream = new ConfigTracker(hostile()).readMetrics();
    const records = await stream.toArray();
    expect(records.map((record) => record.step)).toEqual(Array.from({ length: 3001 }, (_, step) => step));
    expect(records[0]?.loss).toBe(-1);
    expect(stream.stats.unordered).toBe(0);
  });

  it("past maxHeldSteps: memory stays bounded, every record still comes out, the disorder is counted", async () => {
    const stream = new ConfigTracker(hostile()).readMetrics({ maxHeldSteps: 100 });
    const records = await stream.toArray();
    expect(new Set(records.map((record) => record.step)).size).toBe(3001);
    expect(stream.stats.unordered).toBeGreaterThan(0);
    expect(records.length - 3001).toBeLessThanOrEqual(stream.stats.unordered);
  });

  it("past maxHeldSteps, records waiting on one late step are let out too (held back at most the bound)", async () => {
    // Step 0, then 1..3000 going up (each new), then step 0 again: only one step comes back, but
    // everything after it would wait for it.
    const dir = tempDir();
    const lines = ['{"step": 0, "time": 1, "loss": 0}'];
    for (let step = 1; step <= 3000; step++) lines.push(`{"step": ${step}, "time": 2, "loss": ${step}}`);
    lines.push('{"step": 0, "time": 3, "loss": -1}');
    writeFileSync(join(dir, "metrics.jsonl"), `${lines.join("\n")}\n`);
    const bounded = new ConfigTracker(dir).readMetrics({ maxHeldSteps: 100 });
    const records = await bounded.toArray();
    expect(records[0]?.step).toBe(0); // let out early, before its last record came
    // Its last record comes out again later, in step order among the steps still held: counted.
    expect(records.filter((record) => record.step === 0)).toMatchObject([{ loss: 0 }, { loss: -1 }]);
    expect(records).toHaveLength(3002);
    expect(bounded.stats.unordered).toBe(1);
    const unbounded = new ConfigTracker(dir).readMetrics();
    expect((await unbounded.toArray()).map((record) => record.step)).toEqual(Array.from({ length: 3001 }, (_, step) => step));
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new ConfigTracker(tempDir()).readMetrics({ maxHeldSteps: 0 })).toThrow(/maxHeldSteps/);
  });
});
