/**
 * `config-tracker run -- <command>` end to end: the built CLI wrapping real child processes
 * (Node scripts standing in for trainers), against the stand-in NVML where GPUs matter.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { cliPath, readJsonLines, runScript, type SpawnedCli, spawnCli, tempDir, testCacheDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");
const fixtures = join(import.meta.dirname, "fixtures", "checkpoints");

type Wrapped = SpawnedCli;

/** Runs `config-tracker run <args>`; `onStdout` may act on the wrapper mid-run. */
function run(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    cwd?: string;
    onStdout?: (text: string, wrapper: import("node:child_process").ChildProcess) => void;
  } = {},
): Promise<Wrapped> {
  return spawnCli(["run", ...args], {
    cwd: options.cwd ?? tempDir("ct-run-cwd-"),
    env: options.env,
    input: options.input,
    onStdout: options.onStdout,
  });
}

/** A child script file (ES module) in a fresh folder. */
function script(body: string): string {
  const path = join(tempDir("ct-child-"), "train.mjs");
  writeFileSync(path, body);
  return path;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

describe("config-tracker run", () => {
  it("records config, output, metrics and results, and exits as the child did", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      for (let step = 0; step < 4; step++) {
        console.log(JSON.stringify({ step, loss: 3 - step / 10, phase: "train", tokens: 1024 }));
        console.log("plain text " + step);
      }
      console.error("warning: on stderr");
    `);
    const result = await run(["--dir", dir, "--set", "lr=0.0003", "--set", "optimizer.betas=[0.9,0.95]", "--", process.execPath, child]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("plain text 3");
    expect(result.stderr).toContain("warning: on stderr");
    const config = readJson(join(dir, "config.json"));
    expect(config.config).toEqual({ lr: 0.0003, optimizer: { betas: [0.9, 0.95] } });
    expect(config.command).toMatchObject({ argv: [process.execPath, child], cuda_visible_devices: null });
    // output.log has everything the child printed, both streams.
    const log = readFileSync(join(dir, "output.log"), "utf8");
    expect(log).toContain("plain text 0\n");
    expect(log).toContain("warning: on stderr\n");
    // Metrics: the JSON lines with a step (the string field left out).
    const metrics = readJsonLines(join(dir, "metrics.jsonl"));
    expect(metrics.map((line) => [line.step, line.loss])).toEqual([[0, 3], [1, 2.9], [2, 2.8], [3, 2.7]]);
    expect("phase" in (metrics[0] as object)).toBe(false);
    const results = readJson(join(dir, "results.json"));
    expect(results).toMatchObject({ exit_code: 0, signal: null, final_metrics: { loss: 2.7 } });
    expect(results.duration_seconds).toBeGreaterThan(0);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("finished");
  });

  it("a failing child: its exit code, status failed", async () => {
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--", process.execPath, script(`console.log('{"step": 1, "loss": 1}'); process.exit(3);`)]);
    expect(result.code).toBe(3);
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status).toMatchObject({ status: "failed", exit_code: 3, error: "the command exited with code 3" });
    expect(readJson(join(dir, "results.json"))).toMatchObject({ exit_code: 3, signal: null });
  });

  it("a child that crashes by a signal: the wrapper ends by the same signal", async () => {
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--", process.execPath, script("process.kill(process.pid, 'SIGABRT');")]);
    expect(result.signal).toBe("SIGABRT");
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status).toMatchObject({ status: "failed", signal: "SIGABRT", error: "the command was killed by SIGABRT" });
    expect(readJson(join(dir, "results.json"))).toMatchObject({ exit_code: null, signal: "SIGABRT" });
  });

  it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)(
    "%s to the wrapper is passed to the child; the run is interrupted; the wrapper re-raises it",
    async (signal) => {
      const dir = join(tempDir(), "exp");
      // The child saves a "checkpoint" when told to stop, then ends by the same signal.
      const child = script(`
        process.on(${JSON.stringify(signal)}, () => {
          console.log("child got ${signal}, saving");
          process.removeAllListeners(${JSON.stringify(signal)});
          process.kill(process.pid, ${JSON.stringify(signal)});
        });
        console.log("ready");
        setInterval(() => {}, 1000);
      `);
      const result = await run(["--dir", dir, "--", process.execPath, child], {
        onStdout: (text, wrapper) => text.includes("ready") && wrapper.kill(signal),
      });
      expect(result.stdout).toContain(`child got ${signal}, saving`);
      expect(result.signal).toBe(signal);
      const status = await new ConfigTracker(dir).loadStatus();
      expect(status).toMatchObject({ status: "interrupted", signal });
    },
  );

  it("a progress line on a terminal (step, metrics, elapsed), nothing extra when piped", async () => {
    const child = script(`
      for (let step = 1; step <= 6; step++) { console.log(JSON.stringify({ step, loss: 1 / step })); await new Promise((r) => setTimeout(r, 120)); }
    `);
    const piped = await run(["--dir", join(tempDir(), "exp"), "--interval", "0.1", "--", process.execPath, child]);
    expect(piped.stderr).not.toContain("\x1b[");
    expect(piped.stdout).not.toContain("\x1b[");
    // Under a pseudo-terminal (util-linux script): the line is drawn and cleared in place.
    const dir = join(tempDir(), "exp");
    const command = [process.execPath, cliPath, "run", "--dir", dir, "--interval", "0.1", "--", process.execPath, child]
      .map((arg) => `'${arg}'`)
      .join(" ");
    const { spawnSync } = await import("node:child_process");
    const terminal = spawnSync("script", ["-qec", command, "/dev/null"], {
      encoding: "utf8",
      env: { ...process.env, CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent", TERM: "xterm" },
    });
    expect(terminal.status).toBe(0);
    expect(terminal.stdout).toMatch(/\x1b\[2K\x1b\[2mstep \d loss [\d.]+ \| 0:00:0\d/);
    expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(6);
    // output.log has the command's output only, never the progress line.
    expect(readFileSync(join(dir, "output.log"), "utf8")).not.toContain("\x1b[");
  });

  it("a wrapper killed with SIGKILL: the trainer runs on to its end, its output going on into output.log; the run is lost", async () => {
    const dir = join(tempDir(), "exp");
    const ended = join(dir, "..", "trainer-ended");
    // A Python trainer that prints on both streams after the wrapper is gone: a print into a pipe
    // nobody reads would end it (BrokenPipeError) before it wrote its last line.
    const trainer = join(tempDir("ct-child-"), "train.py");
    writeFileSync(
      trainer,
      [
        "import sys, time",
        'print("ready", flush=True)',
        "for step in range(8):",
        "    time.sleep(0.1)",
        '    print(f"step {step}", flush=True)',
        '    print(f"err {step}", file=sys.stderr, flush=True)',
        `open(${JSON.stringify(ended)}, "w").write("ended")`,
        "",
      ].join("\n"),
    );
    const result = await run(["--dir", dir, "--", "python3", trainer], {
      onStdout: (text, wrapper) => text.includes("ready") && wrapper.kill("SIGKILL"),
    });
    expect(result.signal).toBe("SIGKILL");
    for (let waited = 0; !existsSync(ended) && waited < 30_000; waited += 100) await new Promise((wake) => setTimeout(wake, 100));
    expect(existsSync(ended), "the trainer did not reach its end").toBe(true);
    // The keeper writes what it reads before it looks for more: the log is whole once it ends.
    for (let waited = 0; !readFileSync(join(dir, "output.log"), "utf8").includes("err 7\n") && waited < 10_000; waited += 100) {
      await new Promise((wake) => setTimeout(wake, 100));
    }
    const log = readFileSync(join(dir, "output.log"), "utf8").split("\n");
    const steps = Array.from({ length: 8 }, (_, step) => step);
    expect(log.filter((line) => line.startsWith("step "))).toEqual(steps.map((step) => `step ${step}`));
    expect(log.filter((line) => line.startsWith("err "))).toEqual(steps.map((step) => `err ${step}`));
    expect(log[0]).toBe("ready");
    const status = await new ConfigTracker(dir).loadStatus();
    expect(status.status).toBe("lost");
  }, 60_000);

  it("does not hang when a grandchild keeps the output open after the command exits", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      import { spawn } from "node:child_process";
      const daemon = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: ["ignore", "inherit", "inherit"], detached: true });
      daemon.unref();
      console.log(JSON.stringify({ step: 1, daemon: daemon.pid }));
    `);
    const started = Date.now();
    const result = await run(["--dir", dir, "--", process.execPath, child]);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(12_000);
    const { daemon } = readJsonLines(join(dir, "metrics.jsonl"))[0] as { daemon: number };
    process.kill(daemon, "SIGKILL");
  }, 30_000);

  it("passes the terminal's stdin to the child", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      let text = ""; process.stdin.setEncoding("utf8");
      process.stdin.on("data", (d) => (text += d)).on("end", () => console.log("child read: " + text.trim()));
    `);
    const result = await run(["--dir", dir, "--", process.execPath, child], { input: "hello from stdin\n" });
    expect(result.stdout).toContain("child read: hello from stdin");
  });

  it("--metrics-regex reads plain-text logs (nanoGPT's)", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      for (let iter = 0; iter <= 20; iter += 10) console.log("iter " + iter + ": loss " + (4 - iter / 10).toFixed(4) + ", time 45.21ms, mfu 12.5%");
      console.log("step 20: train loss 2.0000, val loss 2.1500");
    `);
    // nanoGPT prints both kinds: one regex each (the first that matches a line wins).
    const iter = String.raw`iter (?<step>\d+): loss (?<loss>[\d.]+), time (?<time_ms>[\d.]+)ms`;
    const evaluation = String.raw`step (?<step>\d+): train loss (?<train_loss>[\d.]+), val loss (?<val_loss>[\d.]+)`;
    const result = await run(["--dir", dir, "--metrics-regex", iter, "--metrics-regex", evaluation, "--", process.execPath, child]);
    expect(result.code).toBe(0);
    expect(readJsonLines(join(dir, "metrics.jsonl")).map(({ time: _t, ...rest }) => rest)).toEqual([
      { step: 0, loss: 4, time_ms: 45.21 },
      { step: 10, loss: 3, time_ms: 45.21 },
      { step: 20, loss: 2, time_ms: 45.21 },
      { step: 20, train_loss: 2, val_loss: 2.15 },
    ]);
  });

  it("refuses a regex without a step group, or naming `time`, as bad usage", async () => {
    for (const regex of [String.raw`loss (?<loss>[\d.]+)`, String.raw`(?<step>\d+) (?<time>\d+)`, "("]) {
      const result = await run(["--dir", tempDir(), "--metrics-regex", regex, "--", "true"]);
      expect(result.code, regex).toBe(2);
      expect(result.stderr).toMatch(/--metrics-regex/);
    }
  });

  it("--metrics-file follows a JSON-lines file as the child writes it", async () => {
    const dir = join(tempDir(), "exp");
    const file = join(tempDir(), "trainer_log.jsonl");
    const child = script(`
      import { appendFileSync } from "node:fs";
      for (let step = 0; step < 6; step++) {
        appendFileSync(${JSON.stringify(file)}, JSON.stringify({ step, acc: step / 10 }) + "\\n");
        await new Promise((r) => setTimeout(r, 60));
      }
    `);
    const result = await run(["--dir", dir, "--metrics-file", file, "--interval", "0.1", "--", process.execPath, child]);
    expect(result.code).toBe(0);
    expect(readJsonLines(join(dir, "metrics.jsonl")).map((line) => line.acc)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it("--metrics-file follows a CSV as Lightning's CSVLogger writes it (rewritten when a column appears)", async () => {
    const dir = join(tempDir(), "exp");
    const file = join(tempDir(), "metrics.csv");
    const child = script(`
      import { writeFileSync, appendFileSync } from "node:fs";
      const pause = () => new Promise((r) => setTimeout(r, 250));
      writeFileSync(${JSON.stringify(file)}, "epoch,step,train_loss\\n0,0,3.5\\n0,10,3.1\\n");
      await pause();
      appendFileSync(${JSON.stringify(file)}, "0,20,2.9\\n");
      await pause();
      // val_loss appears: the logger rewrites the whole file with the new header.
      writeFileSync(${JSON.stringify(file)}, "epoch,step,train_loss,val_loss\\n0,0,3.5,\\n0,10,3.1,\\n0,20,2.9,\\n0,30,2.7,\\n0,30,,2.95\\n");
      await pause();
    `);
    const result = await run(["--dir", dir, "--metrics-file", file, "--interval", "0.1", "--", process.execPath, child]);
    expect(result.code).toBe(0);
    const lines = readJsonLines(join(dir, "metrics.jsonl")).map(({ time: _t, ...rest }) => rest);
    expect(lines).toEqual([
      { step: 0, epoch: 0, train_loss: 3.5 },
      { step: 10, epoch: 0, train_loss: 3.1 },
      { step: 20, epoch: 0, train_loss: 2.9 },
      { step: 30, epoch: 0, train_loss: 2.7 },
      { step: 30, epoch: 0, val_loss: 2.95 },
    ]);
  });

  it("never loses a line when the child writes 100,000 lines in a burst", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      const lines = [];
      for (let step = 0; step < 100000; step++) lines.push('{"step": ' + step + ', "loss": ' + (step % 97) + '}');
      process.stdout.write(lines.join("\\n") + "\\n");
    `);
    const result = await run(["--dir", dir, "--", process.execPath, child]);
    expect(result.code).toBe(0);
    const stream = new ConfigTracker(dir).readMetrics({ all: true });
    const records = await stream.toArray();
    expect(records).toHaveLength(100000);
    expect(records.every((record, index) => record.step === index && record.loss === index % 97)).toBe(true);
    expect(readFileSync(join(dir, "output.log"), "utf8").split("\n")).toHaveLength(100001);
    expect(result.stdout.split("\n")).toHaveLength(100001);
  }, 60_000);

  it("--checkpoints records each checkpoint once complete, with torch's counts, and again when rewritten", async () => {
    const dir = join(tempDir(), "exp");
    const work = tempDir("ct-ckpt-");
    const source = join(fixtures, "nanogpt_ckpt.pt");
    const child = script(`
      import { openSync, writeSync, closeSync, readFileSync, copyFileSync, mkdirSync } from "node:fs";
      const bytes = readFileSync(${JSON.stringify(source)});
      mkdirSync("out", { recursive: true });
      // Written in two halves with a pause longer than the settle time: the half-written file is
      // looked at, reads as cut short, and must not be recorded.
      const fd = openSync("out/ckpt_100.pt", "w");
      writeSync(fd, bytes, 0, bytes.length >> 1);
      await new Promise((r) => setTimeout(r, 1600));
      writeSync(fd, bytes, bytes.length >> 1);
      closeSync(fd);
      console.log(JSON.stringify({ step: 100, val_loss: 2.5 }));
      await new Promise((r) => setTimeout(r, 400));
      copyFileSync(${JSON.stringify(source)}, "out/ckpt_200.pt");
      console.log(JSON.stringify({ step: 200, val_loss: 2.2 }));
      await new Promise((r) => setTimeout(r, 1500));
      // Written again (as nanoGPT rewrites ckpt.pt): recorded again.
      copyFileSync(${JSON.stringify(source)}, "out/ckpt_100.pt");
      await new Promise((r) => setTimeout(r, 1500));
    `);
    const result = await run(["--dir", dir, "--checkpoints", "out/ckpt_*.pt", "--interval", "0.1", "--", process.execPath, child], {
      cwd: work,
    });
    expect(result.code).toBe(0);
    const records = readJsonLines(join(dir, "checkpoints.jsonl"));
    expect(records.map((record) => [record.step, record.num_parameters, record.error])).toEqual([
      [100, 89568, undefined],
      [200, 89568, undefined],
      [100, 89568, undefined],
    ]);
    expect(records[0]?.path).toBe(join(work, "out", "ckpt_100.pt"));
    const results = readJson(join(dir, "results.json"));
    expect(results.best_checkpoint).toBe(join(work, "out", "ckpt_200.pt"));
    expect((readJson(join(dir, "config.json")).model as Record<string, unknown>).num_parameters).toBe(89568);
  });

  it("a command that does not exist: exit 127, said clearly, run failed", async () => {
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--", "no-such-trainer-command"]);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain("no-such-trainer-command: command not found");
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("failed");
  });

  it("bad usage: no command, both --dir and --name, unknown option", async () => {
    expect((await run(["--dir", tempDir()])).code).toBe(2);
    expect((await run(["--dir", tempDir(), "--name", "x", "--", "true"])).code).toBe(2);
    const unknown = await run(["--bogus", "--", "true"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
  });

  it("a changed config is refused before the child starts, unless --resume", async () => {
    const dir = join(tempDir(), "exp");
    const child = script("console.log('ran');");
    expect((await run(["--dir", dir, "--set", "lr=1", "--", process.execPath, child])).code).toBe(0);
    const refused = await run(["--dir", dir, "--set", "lr=2", "--", process.execPath, child]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("config.lr (1 -> 2)");
    expect(refused.stdout).not.toContain("ran");
    const resumed = await run(["--dir", dir, "--set", "lr=2", "--resume", "--", process.execPath, child]);
    expect(resumed.code).toBe(0);
    const config = readJson(join(dir, "config.json"));
    expect((config.resumes as Array<Record<string, unknown>>)[0]?.changes).toEqual([{ key: "config.lr", from: 1, to: 2 }]);
  });
});

describe("config-tracker run: what a first user tripped over", () => {
  it("options after -- are the command's, --help included", async () => {
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--", process.execPath, script("console.log('args', process.argv.slice(2).join(' '))"), "--help", "-h"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("args --help -h");
  });

  it("a closed terminal (| head) does not stop the run: output.log and results still complete", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`for (let i = 0; i < 3000; i++) console.log(JSON.stringify({ step: i, loss: i }));`);
    const wrapper = spawn(process.execPath, [cliPath, "run", "--dir", dir, "--", process.execPath, child], {
      env: { PATH: process.env.PATH, CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent", CONFIG_TRACKER_CACHE_DIR: testCacheDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    wrapper.stdout.once("data", () => wrapper.stdout.destroy()); // like head -1
    let stderr = "";
    wrapper.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise((resolve) => wrapper.on("close", resolve));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE/);
    expect(readFileSync(join(dir, "output.log"), "utf8").split("\n")).toHaveLength(3001);
    expect(readJsonLines(join(dir, "metrics.jsonl"))).toHaveLength(3000);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("finished");
  });

  it("output.log and the terminal get the command's bytes as they are (not UTF-8 only)", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`process.stdout.write(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));`);
    const wrapper = spawn(process.execPath, [cliPath, "run", "--dir", dir, "--", process.execPath, child], {
      env: { PATH: process.env.PATH, CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent", CONFIG_TRACKER_CACHE_DIR: testCacheDir },
      stdio: ["ignore", "pipe", "ignore"],
    });
    const chunks: Buffer[] = [];
    wrapper.stdout.on("data", (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => wrapper.on("close", resolve));
    const expected = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    expect(readFileSync(join(dir, "output.log")).equals(expected)).toBe(true);
  });

  it("a checkpoint whose name has no step is dated by when it was written (nanoGPT's ckpt.pt)", async () => {
    const dir = join(tempDir(), "exp");
    const work = tempDir("ct-ckpt-");
    const child = script(`
      import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
      mkdirSync("out", { recursive: true });
      const metrics = ${JSON.stringify(join(dir, "metrics.jsonl"))};
      const recorded = (step) => existsSync(metrics) && readFileSync(metrics, "utf8").includes('"step": ' + step + ",");
      for (let iter = 0; iter <= 40; iter++) {
        console.log("iter " + iter + ": loss " + (3 - iter / 100).toFixed(4) + ", time 45.21ms");
        if (iter === 10 || iter === 30) {
          // As a trainer saves: after the line for the step, which the wrapper has recorded by then
          // (a real save takes a while), however long a loaded machine took to deliver it.
          while (!recorded(iter)) await new Promise((r) => setTimeout(r, 20));
          copyFileSync(${JSON.stringify(join(fixtures, "nanogpt_ckpt.pt"))}, "out/ckpt.pt");
        }
        await new Promise((r) => setTimeout(r, 60));
      }
    `);
    const regex = String.raw`iter (?<step>\d+): loss (?<loss>[\d.]+)`;
    const result = await run(["--dir", dir, "--metrics-regex", regex, "--checkpoints", "out/ckpt.pt", "--interval", "0.1", "--", process.execPath, child], { cwd: work });
    expect(result.code).toBe(0);
    expect(readJsonLines(join(dir, "checkpoints.jsonl")).map((record) => record.step)).toEqual([10, 30]);
  });

  it("a resumed run does not record the checkpoints an earlier session recorded (same path, size, mtime); one written again is", async () => {
    const work = tempDir("ct-ckpt-");
    const dir = join(work, "runs", "exp");
    const source = join(fixtures, "nanogpt_ckpt.pt");
    // Session 1 saves two checkpoints and is interrupted; session 2 (a resumption) saves a third
    // and writes the second again; session 3 writes nothing new.
    const save = (names: string[]) =>
      script(`
        import { copyFileSync, mkdirSync, utimesSync } from "node:fs";
        mkdirSync("out", { recursive: true });
        for (const name of ${JSON.stringify(names)}) { copyFileSync(${JSON.stringify(source)}, "out/" + name); console.log("saved " + name); }
        console.log("ready");
        await new Promise((r) => setTimeout(r, 300));
      `);
    const args = ["--dir", dir, "--checkpoints", "out/*.pt", "--interval", "0.1", "--", process.execPath];
    const first = await run([...args, save(["ckpt_1.pt", "ckpt_2.pt"])], {
      cwd: work,
      onStdout: (text, wrapper) => text.includes("ready") && setTimeout(() => wrapper.kill("SIGTERM"), 100),
    });
    expect(first.signal ?? first.code, first.stderr).not.toBe(0);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("interrupted");
    const records = () => readJsonLines(join(dir, "checkpoints.jsonl")).map((record) => `${record.path}@${record.step}`);
    expect(records()).toEqual([`${join(work, "out", "ckpt_1.pt")}@1`, `${join(work, "out", "ckpt_2.pt")}@2`]);
    const second = await run([...args, save(["ckpt_2.pt", "ckpt_3.pt"])], { cwd: work });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("(resumed: session 2)");
    expect(records().slice(2).sort()).toEqual([`${join(work, "out", "ckpt_2.pt")}@2`, `${join(work, "out", "ckpt_3.pt")}@3`]);
    const third = await run([...args, save([])], { cwd: work });
    expect(third.code, third.stderr).toBe(0);
    expect(records()).toHaveLength(4); // nothing new: three files, the second written twice
    const third3 = readJsonLines(join(dir, "checkpoints.jsonl")).find((record) => record.path === join(work, "out", "ckpt_3.pt"));
    expect(third3?.mtime).toBe(statSync(join(work, "out", "ckpt_3.pt")).mtimeMs / 1000);
  });

  it("a record an older version wrote (no mtime) counts when it was made after the file's last change", async () => {
    const work = tempDir("ct-ckpt-");
    const dir = join(work, "exp");
    mkdirSync(join(work, "out"));
    copyFileSync(join(fixtures, "nanogpt_ckpt.pt"), join(work, "out", "ckpt_1.pt"));
    const size = statSync(join(work, "out", "ckpt_1.pt")).size;
    const first = await run(["--dir", dir, "--", "true"], { cwd: work });
    expect(first.code).toBe(0);
    const old = { path: join(work, "out", "ckpt_1.pt"), step: 1, time: Date.now() / 1000 + 1, size_bytes: size, format: "torch-zip", num_parameters: 89568, num_trainable_parameters: 89568 };
    writeFileSync(join(dir, "checkpoints.jsonl"), `${JSON.stringify(old)}\n`);
    const again = await run(["--dir", dir, "--checkpoints", "out/*.pt", "--", "true"], { cwd: work });
    expect(again.code, again.stderr).toBe(0);
    expect(readJsonLines(join(dir, "checkpoints.jsonl"))).toHaveLength(1);
  });

  it("SIGTERM, then a command that saves and exits 0: interrupted, not finished", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`process.on("SIGTERM", () => { console.log("saved"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);`);
    const result = await run(["--dir", dir, "--", process.execPath, child], { onStdout: (text, wrapper) => text.includes("ready") && wrapper.kill("SIGTERM") });
    expect(result.code).toBe(0);
    expect(await new ConfigTracker(dir).loadStatus()).toMatchObject({ status: "interrupted", signal: "SIGTERM", exit_code: 0 });
  });

  it("--metrics-file: a log from before the run is not taken; rows carry their own time", async () => {
    const dir = join(tempDir(), "exp");
    const file = join(tempDir(), "log.csv");
    writeFileSync(file, "time,step,tokens\n1700000000,0,999\n"); // an earlier run's row
    const t0 = 1800000000;
    const child = script(`
      import { appendFileSync } from "node:fs";
      for (let i = 1; i <= 10; i++) appendFileSync(${JSON.stringify(file)}, (${t0} + i * 0.2) + "," + i + ",1000\\n");
    `);
    const result = await run(["--dir", dir, "--metrics-file", file, "--", process.execPath, child]);
    expect(result.code, result.stderr).toBe(0);
    const lines = readJsonLines(join(dir, "metrics.jsonl"));
    expect(lines.map((line) => line.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lines[0]?.time).toBe(t0 + 0.2);
    // 1000 tokens every 0.2 s by the rows' own clock: 5000 tokens/s.
    expect((readJson(join(dir, "results.json")).final_metrics as Record<string, number>).tokens_per_second).toBeCloseTo(5000, 3);
  });

  it("warns about a metrics file that never appears and a checkpoint glob that matches nothing", async () => {
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--metrics-file", "nope.jsonl", "--checkpoints", "out/*.pt", "--", "true"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("nope.jsonl: the file never appeared");
    expect(readJson(join(dir, "results.json")).warnings).toEqual([
      "--metrics-file nope.jsonl: the file never appeared",
      "--checkpoints out/*.pt: nothing matched",
    ]);
  });

  it("--model reads the model from a checkpoint up front; --best picks the metric", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`for (let step = 1; step <= 3; step++) console.log(JSON.stringify({ step, eval_loss: [0, 2, 1.5, 1.7][step] }));`);
    const result = await run(["--dir", dir, "--model", join(fixtures, "nanogpt_ckpt.pt"), "--best", "eval_loss=min", "--", process.execPath, child]);
    expect(result.code).toBe(0);
    expect((readJson(join(dir, "config.json")).model as Record<string, unknown>).num_parameters).toBe(89568);
    expect(readJson(join(dir, "results.json")).final_metrics).toMatchObject({ best_eval_loss: 1.5, best_eval_loss_step: 2 });
  });

  it("refuses conflicting --set keys, a --name that is a path, and says --resume when the config changed", async () => {
    for (const args of [["--set", "a=1", "--set", "a.b=2"], ["--set", "a.b=2", "--set", "a=1"], ["--name", "a/../../escape"]]) {
      const result = await run(["--root", tempDir(), ...args, "--", "true"]);
      expect(result.code, args.join(" ")).toBe(2);
    }
    const dir = join(tempDir(), "exp");
    await run(["--dir", dir, "--set", "lr=1", "--", "true"]);
    const refused = await run(["--dir", dir, "--set", "lr=2", "--", "true"]);
    expect(refused.stderr).toContain("Add --resume");
    expect(refused.stderr).not.toContain("mode:");
  });

  it("says where it records: one line when it starts (before the command's output), one with the outcome at the end", async () => {
    const cwd = tempDir("ct-run-cwd-");
    const child = script(`console.error("from the command"); process.exit(3);`);
    const first = await spawnCli(["run", "--root", "runs", "--name", "exp", "--", process.execPath, child], { cwd });
    expect(first.code).toBe(3);
    const lines = first.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("config-tracker run: recording in runs/exp");
    expect(lines[1]).toBe("from the command");
    expect(lines.at(-1)).toMatch(/^config-tracker run: failed \(exit 3\) after \d+\.\d s; recorded in runs\/exp$/);
    const again = await spawnCli(["run", "--root", "runs", "--name", "exp", "--", process.execPath, child], { cwd });
    expect(again.stderr.split("\n")[0]).toBe("config-tracker run: recording in runs/exp (resumed: session 2)");
    const elsewhere = join(tempDir(), "exp");
    const absolute = await spawnCli(["run", "--dir", elsewhere, "--", "sh", "-c", "kill -TERM $$"], { cwd });
    expect(absolute.stderr.split("\n")[0]).toBe(`config-tracker run: recording in ${elsewhere}`);
    expect(absolute.stderr).toMatch(new RegExp(`\nconfig-tracker run: failed \\(by SIGTERM\\) after .*; recorded in ${elsewhere}\n$`));
    const missing = await spawnCli(["run", "--root", "runs", "--name", "nope", "--", "no-such-command-here"], { cwd });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/\nconfig-tracker run: failed \(no-such-command-here: command not found\) after .*; recorded in runs\/nope\n$/);
  });

  it("--set: a value that looks like a mistyped number or JSON is kept as a string, with a warning saying how to mean one", async () => {
    const dir = join(tempDir(), "exp");
    const sets = ["lr=1e-3x", 'opt={"a":1', "amp=True", 'tag="1e-3x"', "wd=1e-3", "name=bert", 'betas=[0.9,0.95]', "run=3090ti"];
    const result = await run(["--dir", dir, ...sets.flatMap((set) => ["--set", set]), "--", "true"]);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.split("\n").filter((line) => line.startsWith("config-tracker run: warning: --set"));
    expect(warnings).toEqual([
      `config-tracker run: warning: --set lr=1e-3x: stored as the string "1e-3x": it starts like a number but is not one. To store a string on purpose, give it as JSON: --set 'lr="1e-3x"'`,
      expect.stringMatching(/^config-tracker run: warning: --set opt=\{"a":1: stored as the string "\{\\"a\\":1": it starts like JSON but is not JSON \(.+\)\. To store a string on purpose/),
      `config-tracker run: warning: --set amp=True: stored as the string "True": it is Python's True; JSON writes true. To store a string on purpose, give it as JSON: --set 'amp="True"'`,
      expect.stringMatching(/^config-tracker run: warning: --set run=3090ti: stored as the string "3090ti"/),
    ]);
    // What the warnings say to type is taken as the string it is, without a word.
    const quoted = await run(["--dir", join(tempDir(), "exp"), "--set", `lr="1e-3x"`, "--", "true"]);
    expect(quoted.stderr).not.toContain("warning");
    expect(readJson(join(dir, "config.json")).config).toEqual({
      lr: "1e-3x",
      opt: '{"a":1',
      amp: "True",
      tag: "1e-3x",
      wd: 0.001,
      name: "bert",
      betas: [0.9, 0.95],
      run: "3090ti",
    });
  });

  it("a node that fails fails the run, with a warning naming it", async () => {
    const dir = join(tempDir(), "exp");
    const [node0, node1] = await Promise.all([
      run(["--dir", dir, "--", process.execPath, script("await new Promise((r) => setTimeout(r, 1500));")], { env: { NODE_RANK: "0" } }),
      run(["--dir", dir, "--", process.execPath, script("process.exit(7);")], { env: { NODE_RANK: "1" } }),
    ]);
    expect(node1.code).toBe(7);
    expect(node0.code).toBe(0);
    expect(readJson(join(dir, "results.json")).warnings).toEqual([expect.stringMatching(/^node 1 \(.+\) ended failed \(exit code 7\)$/)]);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("failed");
  });
});

describe("config-tracker run: GPUs (stand-in NVML)", () => {
  const H100 = `driver 580.65.06
cuda 13000
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293 memory=85520809984 cc=9.0 bus=00000000:18:00.0 mig=0 util=97:23 mem_used=12000000000 power=650 power_limit=700 temp=61 sm_clock=1980 reasons=0x4 gpm=1 gpm_sm=96.6 gpm_occupancy=14.3 gpm_tensor=93.7 gpm_dram=16.1
gpu name="NVIDIA H100 80GB HBM3" uuid=GPU-bbbbbbbb-c61c-4795-b757-5132caeb8e70 memory=85520809984 cc=9.0 bus=00000000:2A:00.0 mig=0 util=0:0 power=70 power_limit=700 temp=30 sm_clock=345 gpm=1
`;

  it("samples the GPUs the child may use, attributes its process tree's GPU memory, and computes MFU", async () => {
    const dir = join(tempDir(), "exp");
    const processes = join(tempDir(), "processes.txt");
    const work = tempDir("ct-mfu-");
    mkdirSync(join(work, "out"));
    copyFileSync(join(fixtures, "nanogpt_ckpt.pt"), join(work, "out", "ckpt.pt"));
    // The child "creates its CUDA context": NVML lists its pid with 10 GiB on GPU 0 (physical 0).
    const child = script(`
      import { writeFileSync, renameSync } from "node:fs";
      writeFileSync(${JSON.stringify(processes)} + ".tmp", process.pid + " 10737418240 0\\n4242 1000 0\\n");
      renameSync(${JSON.stringify(processes)} + ".tmp", ${JSON.stringify(processes)});
      const started = Date.now();
      for (let step = 1; step <= 8; step++) {
        await new Promise((r) => setTimeout(r, 100));
        console.log(JSON.stringify({ step, loss: 3 / step, tokens: 12 * 32 * 100 }));
      }
    `);
    const result = await run(
      ["--dir", dir, "--checkpoints", "out/ckpt.pt", "--interval", "0.1", "--set", "block_size=32", "--", process.execPath, child],
      {
        cwd: work,
        env: {
          CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
          FAKE_NVML_CONFIG: writeScenario(H100),
          FAKE_NVML_PROCESSES: processes,
          CUDA_VISIBLE_DEVICES: "0",
        },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    // system.jsonl: one line per sample, GPU 0 only (CUDA_VISIBLE_DEVICES=0), with the tree's memory.
    const samples = readJsonLines(join(dir, "system.jsonl"));
    expect(samples.length).toBeGreaterThan(3);
    const last = samples[samples.length - 1] as { gpus: Array<Record<string, unknown>>; process_tree: Record<string, unknown> };
    expect(last.gpus).toHaveLength(1);
    expect(last.gpus[0]).toMatchObject({
      index: 0,
      uuid: "GPU-aaaaaaaa-a134-0fdd-0e01-23811fdbd293",
      utilization_gpu_percent: 97,
      power_watts: 650,
      clock_event_reason_names: ["sw_power_cap"],
      sm_active_percent: 96.6,
      tensor_active_percent: 93.7,
    });
    const results = readJson(join(dir, "results.json"));
    const system = results.system as { gpus: Array<Record<string, unknown>>; tree_gpu_memory_peak_bytes: Record<string, number> };
    expect(system.gpus[0]).toMatchObject({
      name: "NVIDIA H100 80GB HBM3",
      tree_memory_peak_bytes: 10737418240,
      utilization_gpu_percent: { mean: 97, max: 97 },
      tensor_active_percent: { mean: 93.7, max: 93.7 },
    });
    expect(system.tree_gpu_memory_peak_bytes).toEqual({ "0": 10737418240 });
    // MFU: tokens/s from the log, 6N + attention from the recorded checkpoint (torch's counts:
    // 89,568 parameters, 3 layers, d_model 48) and block_size, against one H100 SXM's 989.5 TFLOPS.
    const throughput = results.throughput as Record<string, number>;
    const tokensPerSecond = (results.final_metrics as Record<string, number>).tokens_per_second as number;
    const flopsPerToken = 6 * 89568 + 12 * 3 * 48 * 32;
    expect(throughput).toMatchObject({ num_parameters: 89568, flops_per_token: flopsPerToken, gpu_count: 1, peak_flops_per_second: 989.5e12 });
    expect(throughput.mfu).toBeCloseTo((tokensPerSecond * flopsPerToken) / 989.5e12, 6);
    expect(tokensPerSecond).toBeGreaterThan(12 * 32 * 100 * 5); // 3,840 tokens each ~100 ms
  });

  it("an unknown GPU: MFU null with the reason", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`for (let step = 1; step <= 3; step++) { await new Promise((r) => setTimeout(r, 50)); console.log(JSON.stringify({ step, tokens: 100 })); }`);
    const result = await run(["--dir", dir, "--interval", "0.1", "--", process.execPath, child], {
      env: {
        CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
        FAKE_NVML_CONFIG: writeScenario('driver 1\ngpu name="Mystery Accelerator X" uuid=GPU-1 memory=1 cc=9.0 bus=0 mig=0\n'),
      },
    });
    expect(result.code).toBe(0);
    const throughput = readJson(join(dir, "results.json")).throughput as Record<string, unknown>;
    expect(throughput.mfu).toBeNull();
    expect(throughput.mfu_unavailable_reason).toMatch(/Mystery Accelerator X/);
  });

  it("records the interpreter of a Python command (its own torch), not the wrapper's", async () => {
    if (!existsSync("/usr/bin/python3")) return;
    const dir = join(tempDir(), "exp");
    const result = await run(["--dir", dir, "--", "/usr/bin/python3", "-c", "print('{\"step\": 1, \"loss\": 1}')"], {
      env: { PATH: tempDir("ct-nopython-") },
    });
    expect(result.code).toBe(0);
    const config = readJson(join(dir, "config.json"));
    expect((config.command as Record<string, unknown>).python).toBe("/usr/bin/python3");
    expect((config.hardware as Record<string, unknown>).python_executable).toBe("/usr/bin/python3");
  });
});

const PYTHON = "/usr/bin/python3";
const hasTorch =
  existsSync(PYTHON) &&
  (await import("node:child_process")).spawnSync(PYTHON, ["-c", "import torch.distributed.run"]).status === 0;

describe.skipIf(!hasTorch)("config-tracker run on two nodes (real torchrun, gloo; skipped without Debian's python3-torch)", () => {
  it("two wrappers around a 2-node rendezvous on 127.0.0.1: ranks attributed to their node, metrics from rank 0", async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const dir = join(tempDir(), "exp");
    const trainer = join(import.meta.dirname, "fixtures", "ranks", "allreduce_train.py");
    const wrapper = (nodeRank: number) =>
      run(
        [
          "--dir", dir, "--interval", "0.1", "--set", "lr=0.01", "--",
          PYTHON, "-m", "torch.distributed.run", "--nnodes", "2", "--node_rank", String(nodeRank),
          "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", String(port),
          // Debian's torch 1.13 on Python 3.11 needs --redirects/--tee set (its default trips an enum bug).
          "--redirects", "1", "--tee", "1", trainer,
        ],
        { env: { NODE_RANK: String(nodeRank) } },
      );
    const [node0, node1] = await Promise.all([wrapper(0), wrapper(1)]);
    expect(node0.code, node0.stderr).toBe(0);
    expect(node1.code, node1.stderr).toBe(0);

    // Each node's file lists the ranks that ran there, with their pids.
    const { readdirSync } = await import("node:fs");
    const nodeFiles = readdirSync(join(dir, "nodes")).sort();
    expect(nodeFiles).toEqual(["node-0.json", "node-1.json"]);
    const nodes = nodeFiles.map((name) => readJson(join(dir, "nodes", name)) as { node_rank: number; ranks: Array<{ rank: number; local_rank: number; pid: number }>; status: string });
    expect(nodes.map((node) => node.node_rank)).toEqual([0, 1]);
    expect(nodes[0]?.ranks.map((rank) => [rank.rank, rank.local_rank])).toEqual([[0, 0], [1, 1]]);
    expect(nodes[1]?.ranks.map((rank) => [rank.rank, rank.local_rank])).toEqual([[2, 0], [3, 1]]);
    const pids = nodes.flatMap((node) => node.ranks.map((rank) => rank.pid));
    expect(new Set(pids).size).toBe(4);
    expect(nodes.every((node) => node.status === "finished")).toBe(true);

    // Only node 0 wrote the run's files; its metrics are rank 0's (world_size 4 in every line).
    const metrics = readJsonLines(join(dir, "metrics.jsonl"));
    expect(metrics.map((line) => line.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(metrics.map((line) => line.world_size))).toEqual(new Set([4]));
    expect(existsSync(join(dir, "system.jsonl")) && existsSync(join(dir, "system.node-1.jsonl"))).toBe(true);
    expect(existsSync(join(dir, "output.log")) && existsSync(join(dir, "output.node-1.log"))).toBe(true);
    const results = readJson(join(dir, "results.json"));
    expect((results.system as { nodes: number }).nodes).toBe(2);
    const tree = (results.system as { process_tree: Record<string, { rss_peak_bytes: number }> }).process_tree;
    expect(Object.keys(tree)).toEqual(["0", "1"]);
    expect((readJson(join(dir, "config.json")).command as { python: string }).python).toBe(PYTHON);
    expect((await new ConfigTracker(dir).loadStatus()).status).toBe("finished");
  }, 120_000);
});

describe("runCommand: `run` from a program", () => {
  it("records a command as `run` does and resolves to what `run` reports", async () => {
    const dir = join(tempDir(), "exp");
    const child = script(`
      console.log(JSON.stringify({ step: 1, loss: 2 }));
      console.log("iter 2: loss 1.5");
      process.exit(3);
    `);
    const result = await runScript(`
      const outcome = await ct.runCommand([process.execPath, ${JSON.stringify(child)}], {
        dir: ${JSON.stringify(dir)},
        config: { lr: 0.1 },
        metricsRegex: [${JSON.stringify("iter (?<step>\\d+): loss (?<loss>[\\d.]+)")}],
        stdout: null,
        stderr: null,
      });
      console.log(JSON.stringify(outcome));`);
    expect(result.code, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({
      dir,
      status: "failed",
      exit_code: 3,
      signal: null,
      error: "the command exited with code 3",
      started: true,
      warnings: [],
      results: { exit_code: 3, final_metrics: { loss: 1.5 } },
    });
    expect(readJson(join(dir, "results.json"))).toEqual(outcome.results);
    expect(readJsonLines(join(dir, "metrics.jsonl")).map((line) => [line.step, line.loss])).toEqual([[1, 2], [2, 1.5]]);
    expect(readFileSync(join(dir, "output.log"), "utf8")).toContain("iter 2: loss 1.5\n");
    expect(readJson(join(dir, "config.json")).config).toEqual({ lr: 0.1 });
  });

  it("a command that cannot start, and a changed config, as `run` reports them", async () => {
    const dir = join(tempDir(), "exp");
    const result = await runScript(`
      const missing = await ct.runCommand(["no-such-command-here"], { dir: ${JSON.stringify(dir)}, stdout: null, stderr: null });
      const refused = await ct.runCommand(["true"], { dir: ${JSON.stringify(dir)}, config: { lr: 1 } }).catch((error) => error);
      const badRegex = await ct.runCommand(["true"], { dir: ${JSON.stringify(dir)}, metricsRegex: ["(?<loss>1)"] }).catch((error) => error);
      console.log(JSON.stringify({ missing, refused: refused.code, keys: refused.keys, badRegex: badRegex.code }));`);
    expect(result.code, result.stderr).toBe(0);
    const { missing, refused, keys, badRegex } = JSON.parse(result.stdout);
    expect(missing).toMatchObject({ status: "failed", started: false, exit_code: 127, error: "no-such-command-here: command not found" });
    expect(refused).toBe("CONFIG_EXISTS");
    expect(keys).toEqual(["config.lr"]);
    expect(badRegex).toBe("INVALID_ARGUMENT");
  });
});
