/**
 * `config-tracker sweep` on one host: the built CLI running a fake trainer (test/support/
 * fake-trainer.mjs, which logs the CUDA_VISIBLE_DEVICES it got and when it ran) over the
 * stand-in NVML with 4 GPUs, some of them busy with other people's compute processes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import { expandGrid, fillCommand, placeholderValues, shellQuote } from "../src/sweep/grid.js";
import { arrayRanges } from "../src/sweep/slurm.js";
import { readJsonLines, runScript, type SpawnedCli, spawnCli, tempDir, writeScenario } from "./support/helpers.js";

const stubs = inject("stubs");
const trainer = join(import.meta.dirname, "support", "fake-trainer.mjs");

const uuid = (index: number) => `GPU-0000000${index}-1111-2222-3333-44444444444${index}`;
const FOUR_GPUS = `driver 580.65.06
cuda 13000
${[0, 1, 2, 3]
  .map((i) => `gpu name="NVIDIA H100 80GB HBM3" uuid=${uuid(i)} memory=85520809984 cc=9.0 bus=00000000:${18 + i}:00.0 mig=0 util=0:0`)
  .join("\n")}
`;

type Swept = SpawnedCli;

/** Runs `config-tracker sweep <args>` in `cwd`; `onStderr` sees its progress lines as they come. */
function sweep(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd: string;
    onStderr?: (text: string) => void;
    /** Called every 50 ms while the sweep runs (to act on it mid-run). */
    poll?: (child: import("node:child_process").ChildProcess) => void;
  },
): Promise<Swept> {
  return spawnCli(["sweep", ...args], {
    cwd: options.cwd,
    env: { TRAINER_LOG: join(options.cwd, "trainer.jsonl"), ...options.env },
    onStderr: options.onStderr,
    poll: options.poll,
    pollMs: 50,
  });
}

interface TrainerEvent {
  event: "start" | "end" | "signal";
  name: string;
  pid: number;
  cvd: string | null;
  time: number;
  signal?: string;
}

const trainerLog = (cwd: string) => (existsSync(join(cwd, "trainer.jsonl")) ? (readJsonLines(join(cwd, "trainer.jsonl")) as unknown as TrainerEvent[]) : []);

/** Per trainer process: the GPUs it was given and from when to when it ran. */
function intervals(events: TrainerEvent[]) {
  const byPid = new Map<number, { name: string; gpus: string[]; start: number; end: number | null }>();
  for (const event of events) {
    if (event.event === "start") byPid.set(event.pid, { name: event.name, gpus: event.cvd === null ? [] : event.cvd.split(","), start: event.time, end: null });
    else (byPid.get(event.pid) as { end: number | null }).end = event.time;
  }
  return [...byPid.values()];
}

function expectNoSharedGpu(runs: ReturnType<typeof intervals>): void {
  for (const a of runs) {
    for (const b of runs) {
      if (a === b || !a.gpus.some((gpu) => b.gpus.includes(gpu))) continue;
      const overlap = a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity);
      expect(overlap, `${a.name} and ${b.name} both had ${a.gpus.filter((gpu) => b.gpus.includes(gpu))} at once`).toBe(false);
    }
  }
}

/** Most runs alive at one moment. */
function maxConcurrent(runs: ReturnType<typeof intervals>): number {
  const edges = runs.flatMap((run) => [[run.start, 1] as const, [run.end ?? Infinity, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (now += delta));
  return most;
}

/** How many runs the sweep had started before the first one ended (from its progress lines). */
function startedBeforeAnyEnded(stderr: string): number {
  const lines = stderr.split("\n");
  const firstEnd = lines.findIndex((line) => /: (finished|failed|interrupted) \(/.test(line));
  return lines.slice(0, firstEnd === -1 ? lines.length : firstEnd).filter((line) => line.endsWith(": started") || / started on GPU /.test(line)).length;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function nvmlEnv(processes: string): NodeJS.ProcessEnv {
  return { CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml, FAKE_NVML_CONFIG: writeScenario(FOUR_GPUS), FAKE_NVML_PROCESSES: processes };
}

describe("grid, names and placeholders", () => {
  it("expands the cartesian product in a stable order, with readable names that stay unique", () => {
    const combinations = expandGrid({ lr: [0.001, 0.0003], opt: ["adam", "sgd w", "sgd/w"] });
    expect(combinations.map((c) => c.values)).toEqual([
      { lr: 0.001, opt: "adam" },
      { lr: 0.001, opt: "sgd w" },
      { lr: 0.001, opt: "sgd/w" },
      { lr: 0.0003, opt: "adam" },
      { lr: 0.0003, opt: "sgd w" },
      { lr: 0.0003, opt: "sgd/w" },
    ]);
    expect(combinations[0]?.name).toBe("lr=0.001,opt=adam");
    // "sgd w" and "sgd/w" would both read sgd_w: each gets a hash of its values, the same every time.
    expect(combinations[1]?.name).toMatch(/^lr=0\.001,opt=sgd_w~[0-9a-f]{8}$/);
    expect(combinations[2]?.name).toMatch(/^lr=0\.001,opt=sgd_w~[0-9a-f]{8}$/);
    expect(combinations[1]?.name).not.toBe(combinations[2]?.name);
    expect(expandGrid({ lr: [0.001, 0.0003], opt: ["adam", "sgd w", "sgd/w"] }).map((c) => c.name)).toEqual(combinations.map((c) => c.name));
    expect(new Set(combinations.map((c) => c.name)).size).toBe(6);
  });

  it("fills values into argv as single arguments, and quotes them for sh only in sh -c's script", () => {
    const nasty = `a b'c; echo pwned $(id) "q"`;
    const [combination] = expandGrid({ opt: [nasty], n: [3] });
    const values = placeholderValues(combination as NonNullable<typeof combination>, "/runs/x");
    // argv: the value is one argument, whatever it holds; {{opt}} is a literal.
    const argv = fillCommand([process.execPath, "-e", "console.log(JSON.stringify(process.argv.slice(1)))", "--", "--opt={opt}", "{n}", "{{opt}}", "{run_dir}"], values);
    const printed = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8" });
    expect(JSON.parse(printed.stdout)).toEqual([`--opt=${nasty}`, "3", "{opt}", "/runs/x"]);
    // sh -c: the script gets the value quoted; sh prints it back unchanged (nothing ran).
    const script = fillCommand(["sh", "-c", "printf '%s|' {opt} {n}"], values);
    expect(script[2]).toBe(`printf '%s|' ${shellQuote(nasty)} 3`);
    const shell = spawnSync(script[0] as string, script.slice(1), { encoding: "utf8" });
    expect(shell.stdout).toBe(`${nasty}|3|`);
  });

  it("writes sbatch arrays as ranges", () => {
    expect(arrayRanges([0, 1, 2, 3])).toBe("0-3");
    expect(arrayRanges([7, 0, 1, 3, 5, 6])).toBe("0-1,3,5-7");
    expect(arrayRanges([4])).toBe("4");
  });
});

describe("config-tracker sweep on one host", () => {
  it("gives each run a free GPU of its own, waits for one, carries on past a failure, and skips finished runs next time", async () => {
    const cwd = tempDir("ct-sweep-");
    const processes = join(cwd, "processes.txt");
    writeFileSync(processes, "4242 1073741824 1\n4243 2147483648 3\n"); // GPUs 1 and 3 are someone else's
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2, 3, 4, 5, 6] }));
    const env = nvmlEnv(processes); // n=4 fails: its command passes exit code 3 to the trainer
    const command = ["--grid", "grid.json", "--root", "sweep", "--", "sh", "-c", `exec node ${trainer} n{n} 400 $([ {n} = 4 ] && echo 3 || echo 0)`];
    const first = await sweep(command, { cwd, env });
    expect(first.code, first.stderr).toBe(1); // one combination failed

    const runs = intervals(trainerLog(cwd));
    expect(runs.map((run) => run.name).sort()).toEqual(["n1", "n2", "n3", "n4", "n5", "n6"]); // the failure stopped nothing
    expectNoSharedGpu(runs);
    // Only GPUs 0 and 2 were free: never 1 or 3, one GPU per run, so at most two at once and the
    // others waited.
    for (const run of runs) {
      expect(run.gpus).toHaveLength(1);
      expect([uuid(0), uuid(2)]).toContain(run.gpus[0]);
    }
    expect(maxConcurrent(runs)).toBeLessThanOrEqual(2);
    expect(first.stderr).toMatch(/waiting for a free GPU; busy: .*GPU 1 \(pid 4242\)/);
    // A failure is reported with the last line its command wrote, not the wrapper's own lines.
    expect(first.stderr).toMatch(/\n\[4\/6\] n=4: failed \(exit 3, [\d.]+ s\): n4: failed on purpose \(exit 3\)\n/);
    expect(startedBeforeAnyEnded(first.stderr)).toBe(2);

    // Each run folder: the run's record with the combination as config, the GPU it saw.
    const root = join(cwd, "sweep");
    for (const n of [1, 2, 3, 5, 6]) expect(readJson(join(root, `n=${n}`, "status.json")).status).toBe("finished");
    expect(readJson(join(root, "n=4", "status.json")).status).toBe("failed");
    expect(readJson(join(root, "n=4", "results.json")).exit_code).toBe(3);
    const config = readJson(join(root, "n=2", "config.json"));
    expect(config.config).toEqual({ n: 2 });
    const given = runs.find((run) => run.name === "n2")?.gpus[0];
    expect(config.command.cuda_visible_devices).toBe(given);
    expect(config.hardware.gpus.map((gpu: { uuid: string }) => gpu.uuid)).toEqual([given]);

    // The manifest: grid, combinations, their folders and how they went.
    const manifest = readJson(join(root, "sweep.json"));
    expect(manifest.grid).toEqual({ n: [1, 2, 3, 4, 5, 6] });
    expect(manifest.combinations.map((c: { dir: string }) => c.dir)).toEqual(["n=1", "n=2", "n=3", "n=4", "n=5", "n=6"]);
    expect(manifest.combinations[3].last).toMatchObject({ status: "failed", exit_code: 3 });
    expect(manifest.combinations[1].last.gpus).toEqual([uuid(0) === given ? "0" : "2"]);
    // The summary: every combination, its status and folder.
    expect(first.stdout).toMatch(/^n=4 +failed +3 +[02] .* sweep\/n=4$/m);
    expect(first.stdout).toContain("6 combinations: 5 finished, 1 failed");
    // Under it, the runs side by side (compare's table): the grid key, the loss, the GPU each had.
    const table = first.stdout.slice(first.stdout.indexOf("\nRUN ") + 1).split("\n");
    expect(table[0]).toMatch(/^RUN +STATUS +n +loss +GPU +GIT$/);
    expect(table.slice(1, 7).map((row) => row.split(/ +/).slice(0, 3).join(" "))).toEqual([
      "n=1 finished 1",
      "n=2 finished 2",
      "n=3 finished 3",
      "n=4 failed 4",
      "n=5 finished 5",
      "n=6 finished 6",
    ]);

    // Again: the five finished runs are skipped; the failed one runs again (into its folder).
    const second = await sweep(command, { cwd, env });
    expect(second.code).toBe(1);
    expect(intervals(trainerLog(cwd)).map((run) => run.name)).toEqual([...runs.map((run) => run.name), "n4"]);
    expect(second.stderr).toContain("5 of 6 combinations already finished, skipped");
    expect(second.stdout).toMatch(/^n=1 +finished \(earlier\)/m);
    expect(readJson(join(root, "n=4", "config.json")).resumes).toHaveLength(1);
  });

  it("takes a GPU once its process is gone, and N GPUs per run from the --gpus given", async () => {
    const cwd = tempDir("ct-sweep-");
    const processes = join(cwd, "processes.txt");
    writeFileSync(processes, "4242 1073741824 1\n4243 1073741824 2\n4244 1073741824 3\n"); // only GPU 0 is free
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2, 3] }));
    let freedAt = 0;
    const result = await sweep(["--grid", "grid.json", "--", process.execPath, trainer, "n{n}", "2500"], {
      cwd,
      env: nvmlEnv(processes),
      onStderr: (text) => {
        if (freedAt === 0 && text.includes("waiting for a free GPU")) {
          writeFileSync(processes, "4242 1073741824 1\n4243 1073741824 2\n"); // GPU 3's process ended
          freedAt = Date.now();
        }
      },
    });
    expect(result.code, result.stderr).toBe(0);
    const runs = intervals(trainerLog(cwd));
    expectNoSharedGpu(runs);
    expect(runs.every((run) => run.gpus[0] === uuid(0) || run.gpus[0] === uuid(3))).toBe(true);
    const onThree = runs.filter((run) => run.gpus[0] === uuid(3));
    expect(onThree.length).toBeGreaterThan(0);
    for (const run of onThree) expect(run.start).toBeGreaterThan(freedAt);

    // Two GPUs per run out of 0,1,2 with GPU 1 busy: each run gets 0 and 2; one run at a time.
    const pairs = tempDir("ct-sweep-");
    writeFileSync(join(pairs, "processes.txt"), "4242 1073741824 1\n");
    writeFileSync(join(pairs, "grid.json"), JSON.stringify({ n: [1, 2] }));
    const paired = await sweep(["--grid", "grid.json", "--gpus", "0,1,2", "--gpus-per-run", "2", "--", process.execPath, trainer, "n{n}", "300"], {
      cwd: pairs,
      env: nvmlEnv(join(pairs, "processes.txt")),
    });
    expect(paired.code, paired.stderr).toBe(0);
    const pairRuns = intervals(trainerLog(pairs));
    expect(pairRuns.map((run) => run.gpus)).toEqual([
      [uuid(0), uuid(2)],
      [uuid(0), uuid(2)],
    ]);
    expectNoSharedGpu(pairRuns);
    expect(paired.stdout).toMatch(/^n=1 +finished +0 +0,2 /m);
  });

  it("stops every run on SIGINT, records them as interrupted, and starts nothing more", async () => {
    const cwd = tempDir("ct-sweep-");
    const processes = join(cwd, "processes.txt");
    writeFileSync(processes, "");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2, 3, 4, 5] }));
    let sent = false;
    const result = await sweep(["--grid", "grid.json", "--parallel", "2", "--", process.execPath, trainer, "n{n}", "60000"], {
      cwd,
      env: nvmlEnv(processes),
      poll: (child) => {
        // Both runs' trainers have started: Ctrl-C.
        if (!sent && trainerLog(cwd).filter((event) => event.event === "start").length === 2) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(sent, result.stderr).toBe(true);
    expect(result.signal).toBe("SIGINT");
    const events = trainerLog(cwd);
    const started = events.filter((event) => event.event === "start");
    expect(started.map((event) => event.name).sort()).toEqual(["n1", "n2"]);
    expect(events.filter((event) => event.event === "signal").map((event) => [event.name, event.signal]).sort()).toEqual([
      ["n1", "SIGINT"],
      ["n2", "SIGINT"],
    ]);
    const root = join(cwd, "runs");
    for (const name of ["n=1", "n=2"]) {
      expect(readJson(join(root, name, "status.json"))).toMatchObject({ status: "interrupted", signal: "SIGINT" });
      expect(readJson(join(root, name, "results.json")).exit_code).toBe(130); // the trainer's own exit after SIGINT
    }
    for (const name of ["n=3", "n=4", "n=5"]) expect(existsSync(join(root, name, "config.json"))).toBe(false);
    expect(result.stdout).toMatch(/^n=3 +not started/m);
    // No trainer is left behind.
    for (const event of started) expect(() => process.kill(event.pid, 0)).toThrow();
  }, 60_000);
});

describe("config-tracker sweep without GPUs, and its errors", () => {
  it("runs --parallel K at a time without CUDA_VISIBLE_DEVICES when there is no NVIDIA driver, saying so once", async () => {
    const cwd = tempDir("ct-sweep-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2, 3, 4] }));
    const result = await sweep(["--grid", "grid.json", "--parallel", "2", "--", process.execPath, trainer, "n{n}", "300"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/no GPU to hand out/g)).toHaveLength(1);
    expect(result.stderr).toContain("no GPU to hand out (/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found): running 2 at a time without setting CUDA_VISIBLE_DEVICES");
    const runs = intervals(trainerLog(cwd));
    expect(runs).toHaveLength(4);
    expect(runs.every((run) => run.gpus.length === 0)).toBe(true);
    expect(maxConcurrent(runs)).toBeLessThanOrEqual(2);
    expect(startedBeforeAnyEnded(result.stderr)).toBe(2);
  });

  it("--rerun does not record a checkpoint again that a run recorded before and nothing wrote since", async () => {
    const cwd = tempDir("ct-sweep-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1] }));
    const fixture = join(import.meta.dirname, "fixtures", "checkpoints", "nanogpt_ckpt.pt");
    // A trainer that resumes from its checkpoint when there is one, and saves one when there is not.
    const save = `mkdir -p {run_dir}/ckpt && { [ -f {run_dir}/ckpt/step_1.pt ] || cp ${fixture} {run_dir}/ckpt/step_1.pt; }`;
    const args = ["--grid", "grid.json", "--checkpoints", "{run_dir}/ckpt/*.pt", "--interval", "0.1", "--", "sh", "-c", save];
    for (const rerun of [[], ["--rerun"], ["--rerun"]]) {
      const result = await sweep([...rerun, ...args], { cwd });
      expect(result.code, result.stderr).toBe(0);
    }
    const records = readJsonLines(join(cwd, "runs", "n=1", "checkpoints.jsonl"));
    expect(records.map((record) => record.path)).toEqual(["ckpt/step_1.pt"]);
    expect(readJson(join(cwd, "runs", "n=1", "config.json")).resumes).toHaveLength(2);
  });

  it("--gpus with GPU indices on a host without GPUs is refused (exit 2), not run unpinned", async () => {
    const cwd = tempDir("ct-sweep-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ n: [1, 2] }));
    const result = await sweep(["--grid", "grid.json", "--gpus", "0", "--", process.execPath, trainer, "n{n}", "100"], { cwd });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "config-tracker sweep: --gpus 0: this sweep has no GPU to hand out (/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found); without --gpus (or with --gpus none) it runs without setting CUDA_VISIBLE_DEVICES",
    );
    expect(trainerLog(cwd)).toEqual([]);
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });

  it("refuses a bad grid, an unknown placeholder and bad GPU options with a line naming the file or option, and the usage (exit 2)", async () => {
    const cwd = tempDir("ct-sweep-");
    const grids: Record<string, string> = {
      "notjson.json": "{lr: [1, 2]",
      "list.json": "[1, 2]",
      "empty.json": "{}",
      "novalues.json": '{"lr": []}',
      "scalar.json": '{"lr": 0.1}',
      "nested.json": '{"opt": ["adam"], "opt.lr": [0.1]}',
      "good.json": '{"lr": [0.1, 0.2]}',
    };
    for (const [name, text] of Object.entries(grids)) writeFileSync(join(cwd, name), text);
    const cases: Array<[string[], RegExp]> = [
      [["--grid", "notjson.json"], /^config-tracker sweep: notjson\.json: not JSON/],
      [["--grid", "list.json"], /^config-tracker sweep: list\.json: not a JSON object of arrays/],
      [["--grid", "empty.json"], /^config-tracker sweep: empty\.json: the grid is empty/],
      [["--grid", "novalues.json"], /^config-tracker sweep: novalues\.json: "lr" has no values/],
      [["--grid", "scalar.json"], /^config-tracker sweep: scalar\.json: "lr" is not a list of values/],
      [["--grid", "nested.json"], /^config-tracker sweep: nested\.json: "opt" and "opt\.lr" cannot both be set/],
      [["--grid", "missing.json"], /^config-tracker sweep: missing\.json: no such file/],
      [["--grid", "good.json", "--gpus", "0,x"], /^config-tracker sweep: --gpus 0,x: expected all, none, or GPU indices/],
      [["--grid", "good.json", "--gpus", "1,1"], /^config-tracker sweep: --gpus 1,1: GPU 1 is listed twice/],
      [["--grid", "good.json", "--gpus", "7"], /^config-tracker sweep: --gpus: there is no GPU 7 \(this sweep may use GPUs 0,1,2,3\)/],
      [["--grid", "good.json", "--gpus-per-run", "5"], /^config-tracker sweep: --gpus-per-run 5: this sweep has only 4 GPU\(s\)/],
      [["--grid", "good.json", "--gpus-per-run", "0"], /^config-tracker sweep: --gpus-per-run 0: expected a whole number/],
      [["--grid", "good.json", "--launcher", "pbs"], /^config-tracker sweep: --launcher pbs: expected local or slurm/],
    ];
    const env = nvmlEnv(join(cwd, "none.txt"));
    for (const [args, message] of cases) {
      const result = await sweep([...args, "--", "echo", "{lr}"], { cwd, env });
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n").slice(1), result.stderr).toEqual([
        "Usage: config-tracker sweep --grid grid.json [options] -- <command with {placeholders}>",
        "config-tracker sweep --help shows every option",
      ]);
    }
    const unknown = await sweep(["--grid", "good.json", "--", "echo", "{lr}", "{batch}"], { cwd, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe("config-tracker sweep: the command: unknown placeholder {batch} (the grid has {lr}; also {run_name}, {run_dir})");
    const inOption = await sweep(["--grid", "good.json", "--checkpoints", "{out}/*.pt", "--", "echo", "{lr}"], { cwd, env });
    expect(inOption.stderr).toMatch(/^config-tracker sweep: the run options: unknown placeholder \{out\}/);
    // Nothing was run or written.
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });

  it("prints the SLURM batch script it would submit: one array task per combination, --gres=gpu:N when asked", async () => {
    const cwd = tempDir("ct-sweep-");
    writeFileSync(join(cwd, "grid.json"), JSON.stringify({ lr: [0.1, 0.2], bs: [32, 64] }));
    const result = await sweep(
      ["--grid", "grid.json", "--root", "s", "--launcher", "slurm", "--gpus-per-run", "2", "--parallel", "2", "--sbatch=--partition=gpu", "--dry-run", "--", "python3", "train.py", "--lr", "{lr}"],
      { cwd },
    );
    expect(result.code, result.stderr).toBe(0);
    const root = join(cwd, "s");
    expect(result.stdout).toContain(`${root}/slurm/sweep-1.sbatch:\n#!/bin/sh\n`);
    expect(result.stdout).toContain("#SBATCH --array=0-3%2\n");
    expect(result.stdout).toContain("#SBATCH --gres=gpu:2\n");
    expect(result.stdout).toContain("#SBATCH --partition=gpu\n");
    expect(result.stdout).toContain(`#SBATCH --output=${root}/slurm/%A_%a.out\n`);
    expect(result.stdout).toMatch(new RegExp(`^exec .*dist/cli\\.js sweep --task ${root}/sweep\\.json --sweep-id [0-9a-f]{16}$`, "m"));
    expect(existsSync(root)).toBe(false); // a dry run writes nothing
    const noGres = await sweep(["--grid", "grid.json", "--launcher", "slurm", "--dry-run", "--", "true"], { cwd });
    expect(noGres.stdout).not.toContain("--gres");
    expect(noGres.stdout).toContain("#SBATCH --array=0-3\n");
  });
});

describe("runSweep (the library)", () => {
  it("returns each combination's outcome, and an abort stops the running ones as interrupted", async () => {
    const cwd = tempDir("ct-sweep-lib-");
    const result = await runScript(
      `
      const fs = await import("node:fs");
      const controller = new AbortController();
      const lines = [];
      const result = await ct.runSweep({
        grid: { n: [1, 2, 3] },
        command: [process.execPath, ${JSON.stringify(trainer)}, "n{n}", "30000"],
        root: "lib",
        gpus: "none",
        handleSignals: false,
        signal: controller.signal,
        log: (line) => {
          lines.push(line);
          // Once the trainer runs (it logs its start), abort.
          if (!line.includes("started")) return;
          const timer = setInterval(() => {
            if (fs.existsSync(process.env.TRAINER_LOG)) {
              clearInterval(timer);
              controller.abort();
            }
          }, 20);
        },
      });
      console.log(JSON.stringify({ interrupted: result.interrupted, manifest: result.manifestPath,
        combinations: result.combinations.map((c) => [c.name, c.status, c.dir]) }));
      `,
      { cwd, env: { TRAINER_LOG: join(cwd, "trainer.jsonl") } },
    );
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    expect(output.interrupted).toBe("SIGTERM");
    expect(output.manifest).toBe(join(cwd, "lib", "sweep.json"));
    expect(output.combinations).toEqual([
      ["n=1", "interrupted", join(cwd, "lib", "n=1")],
      ["n=2", "not started", join(cwd, "lib", "n=2")],
      ["n=3", "not started", join(cwd, "lib", "n=3")],
    ]);
    expect(trainerLog(cwd).map((event) => [event.name, event.event, event.signal])).toEqual([
      ["n1", "start", undefined],
      ["n1", "signal", "SIGTERM"],
    ]);
  });
});
