/**
 * A shared runs folder where anyone may plant files: every case runs the built CLI (or a script
 * importing the built library) as a user does, under a 512 MiB memory cap and a 20 s limit
 * (test/support/guarded.ts), and checks that nothing crashes, hangs, runs a command, writes
 * outside the folder, prints a terminal escape or loses what was logged.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { parsePythonJson } from "../src/python-json.js";
import { repoRoot, tempDir } from "./support/helpers.js";
import { guardedCli, guardedScript, wellBehaved } from "./support/guarded.js";
import { ask, startUi } from "./support/ui.js";

/** A run folder with a valid config.json (and whatever else `files` holds, written as given). */
function writeRun(dir: string, files: Record<string, string> = {}, config: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const name = dir.split("/").pop() as string;
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ experiment_id: name, timestamp: "2026-11-28T09:40:02.118Z", git_hash: null, config: { lr: 0.001, ...config }, hardware: {} }),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

const jsonl = (records: unknown[]) => records.map((record) => JSON.stringify(record)).join("\n") + "\n";

/** A metrics log naming 16,000 per-layer metrics and a system log naming 22,000 GPUs (a few KB a name). */
function manyNames(): Record<string, string> {
  const steps = [0, 1, 2].map((step) => {
    const record: Record<string, number> = { step, time: 1764322514 + step };
    for (let i = 0; i < 16_000; i++) record[`layer.${i}.grad_norm`] = i + step;
    return record;
  });
  const samples = Array.from({ length: 22 }, (_, line) => ({
    node: 0,
    time: 1764322514 + line,
    gpus: Array.from({ length: 1000 }, (_, i) => ({ index: line * 1000 + i, utilization_gpu_percent: 50, memory_used_bytes: 1 })),
  }));
  return { "metrics.jsonl": jsonl(steps), "system.jsonl": jsonl(samples) };
}

describe("memory from small inputs: charts and series capped", () => {
  it("compare --html of logs naming 16,000 metrics and 22,000 GPUs stays small, charts 200 + 256 series and says what it left out", async () => {
    const root = tempDir("ct-hostile-charts-");
    for (const name of ["a", "b"]) {
      writeRun(join(root, name), manyNames());
    }
    const html = join(tempDir("ct-hostile-html-"), "report.html");
    const result = await guardedCli(["compare", root, "--html", html]);
    expect(wellBehaved(result)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.peakMiB).toBeLessThan(512);
    expect(result.stderr).toContain("charts: 200 metrics charted (the comparison's, then the first met in the logs), 15800 more left out");
    expect(result.stderr).toContain("charts: 256 GPU series charted, GPUs past them left out");
    const page = (await import("node:fs")).readFileSync(html, "utf8");
    expect(page.match(/"id":"metric-\d+"/g)?.length).toBe(200);

    // The library: the same caps, the warnings through onWarning.
    const library = await guardedScript(
      `const runs = await ct.loadRunsFrom([${JSON.stringify(root)}]);
       const warnings = [];
       const page = await ct.renderReport(runs, { onWarning: (w) => warnings.push(w) });
       console.log(JSON.stringify({ charts: page.match(/"id":"metric-\\d+"/g).length, warnings }));`,
    );
    expect(wellBehaved(library)).toEqual([]);
    const answer = JSON.parse(library.stdout) as { charts: number; warnings: string[] };
    expect(answer.charts).toBe(200);
    expect(answer.warnings.some((warning) => warning.includes("15800 more left out"))).toBe(true);
    expect(library.peakMiB).toBeLessThan(512);
  }, 60_000);
});

/** A root with one good run and runs that each hold one planted file. */
function plantedRoot(): { root: string; bad: string[] } {
  const root = tempDir("ct-hostile-planted-");
  writeRun(join(root, "good"), { "metrics.jsonl": jsonl([{ step: 1, time: 1764322514, loss: 0.5 }]) });
  const plant = (name: string, file: string, how: (path: string) => void) => {
    const dir = writeRun(join(root, name), { "metrics.jsonl": jsonl([{ step: 1, time: 1764322514, loss: 0.7 }]) });
    mkdirSync(join(dir, file, ".."), { recursive: true });
    how(join(dir, file));
    return name;
  };
  const fifo = (path: string) => execFileSync("mkfifo", [path]);
  const zero = (path: string) => symlinkSync("/dev/zero", path);
  const bad = [
    plant("results-zero", "results.json", zero),
    plant("status-fifo", "status.json", fifo),
    plant("node-fifo", "nodes/node-1.json", fifo),
    plant("checkpoints-zero", "checkpoints.jsonl", zero),
    plant("node-null", "nodes/node-1.json", (path) => writeFileSync(path, "null")),
    plant("rank-fifo", "ranks/rank-1.json", fifo),
    plant("system-zero", "system.jsonl", zero),
    plant("metrics-fifo", "metrics.jsonl", (path) => (unlinkSync(path), fifo(path))),
    plant("results-huge", "results.json", (path) => writeFileSync(path, `{"experiment_id": "x", "final_metrics": {}, "pad": "${"x".repeat(80 << 20)}"}`)),
  ];
  return { root, bad };
}

describe("one planted file does not take down a listing", () => {
  const { root, bad } = plantedRoot();

  it("ls / ls --json list every run, the bad ones with a warning naming the file", async () => {
    const table = await guardedCli(["ls", root]);
    expect(wellBehaved(table)).toEqual([]);
    expect(table.code).toBe(0);
    for (const name of ["good", ...bad]) expect(table.stdout).toContain(name);
    const json = await guardedCli(["ls", root, "--json"]);
    expect(wellBehaved(json)).toEqual([]);
    const rows = JSON.parse(json.stdout) as Array<{ name: string }>;
    expect(rows.map((row) => row.name).sort()).toEqual(["good", ...bad].sort());
    for (const name of ["results-zero", "status-fifo", "checkpoints-zero", "node-fifo", "node-null"]) expect(json.stderr).toContain(name);
  }, 60_000);

  it("show, compare and compare --html of each bad run answer, with a warning", async () => {
    for (const name of bad) {
      const show = await guardedCli(["show", join(root, name)]);
      expect(wellBehaved(show), name).toEqual([]);
      expect(show.code, `${name}: ${show.stderr}`).toBe(0);
      const showJson = await guardedCli(["show", join(root, name), "--json"]);
      expect(wellBehaved(showJson), name).toEqual([]);
      expect(showJson.code, `${name}: ${showJson.stderr}`).toBe(0);
    }
    const compare = await guardedCli(["compare", root]);
    expect(wellBehaved(compare)).toEqual([]);
    expect(compare.code).toBe(0);
    for (const name of ["good", ...bad]) expect(compare.stdout).toContain(name);
    const html = await guardedCli(["compare", root, "--html", join(tempDir("ct-hostile-html-"), "r.html")]);
    expect(wellBehaved(html)).toEqual([]);
    expect(html.code).toBe(0);
    const diff = await guardedCli(["diff", join(root, "good"), join(root, "results-zero")]);
    expect(wellBehaved(diff)).toEqual([]);
    expect([0, 1]).toContain(diff.code);
  }, 180_000);

  it("the library: listRuns, loadRun and readMetrics answer with warnings, never hang", async () => {
    const result = await guardedScript(
      `const runs = await ct.listRuns(${JSON.stringify(root)});
       const out = { names: runs.map((run) => run.name).sort(), warned: runs.filter((run) => run.warnings.length > 0).map((run) => run.name).sort() };
       try { for await (const r of ct.readMetrics(${JSON.stringify(join(root, "metrics-fifo", "metrics.jsonl"))})) {} out.fifo = "read"; } catch (e) { out.fifo = e.code; }
       console.log(JSON.stringify(out));`,
    );
    expect(wellBehaved(result)).toEqual([]);
    const out = JSON.parse(result.stdout) as { names: string[]; warned: string[]; fifo: string };
    expect(out.names).toEqual(["good", ...bad].sort());
    expect(out.warned).toEqual(expect.arrayContaining(["results-zero", "status-fifo", "checkpoints-zero", "node-fifo", "node-null", "results-huge"]));
    expect(out.fifo).toBe("INVALID_FILE");
  }, 60_000);
});

describe("appends never follow a planted link", () => {
  it("metrics.jsonl, checkpoints.jsonl and output.log planted as links: the victim's file is untouched, the run's lines are in the folder", async () => {
    const home = tempDir("ct-hostile-victim-");
    const victims = ["bashrc", "metrics", "checkpoints"].map((name) => join(home, name));
    for (const victim of victims) writeFileSync(victim, "victim's line\n");
    const dir = join(tempDir("ct-hostile-links-"), "run");
    mkdirSync(dir);
    symlinkSync(victims[0] as string, join(dir, "output.log"));
    symlinkSync(victims[1] as string, join(dir, "metrics.jsonl"));
    symlinkSync(victims[2] as string, join(dir, "checkpoints.jsonl"));
    const script = 'console.log(JSON.stringify({step: 1, loss: 0.5})); console.log("hello")';
    const result = await guardedCli(["run", "--dir", dir, "--", process.execPath, "-e", script]);
    expect(wellBehaved(result)).toEqual([]);
    expect(result.code).toBe(0);
    for (const victim of victims) expect(readFileSync(victim, "utf8")).toBe("victim's line\n");
    expect(lstatSync(join(dir, "output.log")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "output.log"), "utf8")).toContain("hello");
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toContain('"loss": 0.5');

    // The library's tracker the same way.
    const lib = join(tempDir("ct-hostile-links-lib-"), "run");
    mkdirSync(lib);
    symlinkSync(victims[1] as string, join(lib, "metrics.jsonl"));
    symlinkSync(victims[2] as string, join(lib, "checkpoints.jsonl"));
    const checkpoint = join(repoRoot, "test", "fixtures", "checkpoints", "cnn_state_dict.pt");
    const library = await guardedScript(
      `const t = new ct.ConfigTracker(${JSON.stringify(lib)});
       await t.saveConfig({ lr: 1 });
       t.logMetrics(3, { loss: 0.25 });
       await t.flush();
       await t.recordCheckpoint(${JSON.stringify(checkpoint)}, { step: 3 });`,
    );
    expect(wellBehaved(library)).toEqual([]);
    expect(readFileSync(victims[1] as string, "utf8")).toBe("victim's line\n");
    expect(readFileSync(join(lib, "metrics.jsonl"), "utf8")).toContain('"loss": 0.25');
    expect(readFileSync(victims[2] as string, "utf8")).toBe("victim's line\n");
    expect(readFileSync(join(lib, "checkpoints.jsonl"), "utf8")).toContain("cnn_state_dict.pt");
  }, 60_000);
});

describe("a crashed neighbour costs no record, and readMetrics keeps its order promise", () => {
  it("a torn line left by another writer mid-run: the tracker's next record starts on a line of its own", async () => {
    const dir = join(tempDir("ct-hostile-torn-"), "run");
    const result = await guardedScript(
      `import { appendFileSync } from "node:fs";
       const t = new ct.ConfigTracker(${JSON.stringify(dir)});
       await t.saveConfig({ lr: 1 });
       t.logMetrics(1, { a: 1 });
       await t.flush();
       appendFileSync(${JSON.stringify(join(dir, "metrics.jsonl"))}, '{"step": 2, "a"');
       t.logMetrics(3, { a: 3 });
       await t.flush();
       const steps = [];
       for await (const record of ct.readMetrics(${JSON.stringify(join(dir, "metrics.jsonl"))})) steps.push(record.step);
       console.log(JSON.stringify(steps));`,
    );
    expect(wellBehaved(result)).toEqual([]);
    expect(JSON.parse(result.stdout)).toEqual([1, 3]);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toMatch(/\{"step": 2, "a"\n\{"step": 3/);
  });

  it("steps written as [10, 20, 5, 6, 25] come out ascending", async () => {
    const dir = writeRun(join(tempDir("ct-hostile-order-"), "run"), {
      "metrics.jsonl": jsonl([10, 20, 5, 6, 25].map((step) => ({ step, time: 1764322514 + step, a: step }))),
    });
    const result = await guardedScript(
      `const steps = [];
       for await (const record of ct.readMetrics(${JSON.stringify(join(dir, "metrics.jsonl"))})) steps.push(record.step);
       console.log(JSON.stringify(steps));`,
    );
    expect(wellBehaved(result)).toEqual([]);
    expect(JSON.parse(result.stdout)).toEqual([5, 6, 10, 20, 25]);
  });
});

describe("prototype names are data", () => {
  it("__proto__, constructor, toString, valueOf and hasOwnProperty survive configs, diff, ls --json and readMetrics", async () => {
    const root = tempDir("ct-hostile-proto-");
    const names = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];
    const metrics = '{"step": 1, "time": 1764322514, ' + names.map((name, i) => `"${name}": ${i + 1}`).join(", ") + "}\n";
    for (const [name, value] of [["a", 1], ["b", 2]] as const) {
      mkdirSync(join(root, name));
      writeFileSync(
        join(root, name, "config.json"),
        `{"experiment_id": "${name}", "timestamp": "2026-11-28T09:40:02Z", "git_hash": null, "hardware": {}, "config": {"__proto__": {"depth": ${value}}, "constructor": ${value}}}`,
      );
      writeFileSync(join(root, name, "metrics.jsonl"), metrics);
    }
    const diff = await guardedCli(["diff", join(root, "a"), join(root, "b"), "--json"]);
    expect(wellBehaved(diff)).toEqual([]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain("config.__proto__.depth");
    expect(diff.stdout).toContain("config.constructor");
    const ls = await guardedCli(["ls", root, "--json"]);
    expect(wellBehaved(ls)).toEqual([]);
    const rows = JSON.parse(ls.stdout, (key, value) => value) as Array<{ final_metrics: Record<string, number> }>;
    for (const [i, name] of names.entries()) expect(Object.getOwnPropertyDescriptor(rows[0]?.final_metrics, name)?.value).toBe(i + 1);
    const read = await guardedScript(
      `const out = [];
       for await (const record of ct.readMetrics(${JSON.stringify(join(root, "a", "metrics.jsonl"))})) out.push(Object.keys(record));
       const run = await ct.loadRun(${JSON.stringify(join(root, "a"))});
       console.log(JSON.stringify({ keys: out[0], config: Object.keys(run.config.config), depth: run.config.config["__proto__"]?.depth }));`,
    );
    expect(wellBehaved(read)).toEqual([]);
    const answer = JSON.parse(read.stdout) as { keys: string[]; config: string[]; depth: number };
    expect(answer.keys).toEqual(expect.arrayContaining(names));
    expect(answer.config).toEqual(["__proto__", "constructor"]);
    expect(answer.depth).toBe(1);
  }, 60_000);

  it("--set __proto__.x and a grid over __proto__ keep their keys; two combinations never share a folder", async () => {
    const dir = join(tempDir("ct-hostile-set-"), "run");
    const run = await guardedCli(["run", "--dir", dir, "--set", "__proto__.x=1", "--set", "constructor=2", "--", process.execPath, "-e", ""]);
    expect(wellBehaved(run)).toEqual([]);
    expect(run.code).toBe(0);
    const config = readFileSync(join(dir, "config.json"), "utf8");
    expect(config).toMatch(/"__proto__": \{\s*"x": 1\s*\}/);
    expect(config).toMatch(/"constructor": 2/);
    const root = tempDir("ct-hostile-grid-");
    const grid = join(root, "grid.json");
    writeFileSync(grid, '{"__proto__": [1, 2], "lr": [0.1]}');
    const sweep = await guardedCli(["sweep", "--grid", grid, "--root", join(root, "runs"), "--", process.execPath, "-e", ""], { timeoutMs: 60_000 });
    expect(wellBehaved(sweep)).toEqual([]);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(readdirSync(join(root, "runs")).filter((name) => name !== "sweep.json").length).toBe(2);
  }, 90_000);
});

/** What a terminal acts on: C0 (but newline and tab), DEL, C1, bidi marks and overrides, U+2028/9. */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const HOSTILE = "\u001b[2J\u001b]52;c;aGk=\u0007\u0007\u009b31m\u202e\u2028\u0000";

describe("terminal escapes are printed as text", () => {
  it("show, ls, diff, compare's table, warnings and errors print a hostile run's strings escaped", async () => {
    const root = tempDir("ct-hostile-tty-");
    const dir = join(root, `run${HOSTILE.replace("\u0000", "")}`);
    const checkpoint = join(dir, `ckpt${HOSTILE.replace("\u0000", "")}.pt`);
    const made = await guardedScript(
      `import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
       const dir = ${JSON.stringify(dir)}, hostile = ${JSON.stringify(HOSTILE)};
       const t = new ct.ConfigTracker(dir);
       await t.saveConfig({ ["key" + hostile]: "value" + hostile, nested: { ["k" + hostile]: 1 } }, { dataset: { name: hostile } });
       await t.saveConfig({ ["key" + hostile]: "changed" + hostile, nested: { ["k" + hostile]: 2 } }, { mode: "resume" });
       t.logMetrics(1, { ["loss" + hostile]: 0.5 });
       await t.flush();
       copyFileSync(${JSON.stringify(join(repoRoot, "test", "fixtures", "checkpoints", "cnn_state_dict.pt"))}, ${JSON.stringify(checkpoint)});
       await t.recordCheckpoint(${JSON.stringify(checkpoint)}, { step: 1 });
       await t.fail(new Error("boom" + hostile));
       const config = JSON.parse(readFileSync(dir + "/config.json", "utf8"));
       config.git = { commit: hostile, short_hash: hostile, branch: "main" + hostile, dirty: false, remote_url: "https://x/" + hostile, error: null };
       config.environment = { ...config.environment, hostname: "host" + hostile, argv: ["python", "train.py" + hostile], cwd: "/" + hostile };
       config.hardware = { ...config.hardware, gpu_model: "H200" + hostile, cpu_model: hostile };
       writeFileSync(dir + "/config.json", JSON.stringify(config));
       writeFileSync(dir + "/metrics.jsonl", readFileSync(dir + "/metrics.jsonl", "utf8") + "torn" + hostile + "\\n");`,
    );
    expect(wellBehaved(made), made.stderr).toEqual([]);
    expect(made.code, made.stderr).toBe(0);
    writeRun(join(root, "plain"));
    const sweepRoot = tempDir("ct-hostile-tty-sweep-");
    writeFileSync(join(sweepRoot, "grid.json"), JSON.stringify({ tag: [`x${HOSTILE.replace("\u0000", "")}`] }));
    const commands = [
      ["show", dir],
      ["show", dir, "--json"],
      ["ls", root],
      ["ls", root, "--json"],
      ["diff", dir, join(root, "plain")],
      ["diff", dir, join(root, "plain"), "--json"],
      ["compare", root],
      ["compare", root, "--json"],
      ["compare", root, "--metrics", `loss${HOSTILE.replace("\u0000", "")}`],
      ["show", join(root, `missing${HOSTILE.replace("\u0000", "")}`)],
      ["inspect", checkpoint],
      ["sweep", "--grid", join(sweepRoot, "grid.json"), "--root", join(sweepRoot, "runs"), "--", process.execPath, "-e", `console.log("${"\\u001b[2J"}"); process.exit(3)`],
    ];
    for (const args of commands) {
      const result = await guardedCli(args, { timeoutMs: 60_000 });
      expect(wellBehaved(result), args.join(" ")).toEqual([]);
      const active = ACTIVE.exec(result.stdout + result.stderr);
      expect(active === null ? null : { at: args.slice(0, 2).join(" "), char: active[0].codePointAt(0)?.toString(16), around: JSON.stringify((result.stdout + result.stderr).slice(Math.max(0, active.index - 40), active.index + 40)) }).toBeNull();
      expect(result.stdout + result.stderr, args.join(" ")).not.toBe("");
    }
  }, 180_000);
});

describe("values never become shell code", () => {
  it("a sweep value $(touch M) runs nothing; a placeholder inside quotes of sh -c is refused with the fix; newlines in a SLURM root and NUL in a value are refused before sweep.json", async () => {
    const root = tempDir("ct-hostile-shell-");
    const marker = join(root, "M");
    writeFileSync(join(root, "grid.json"), JSON.stringify({ v: [`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`] }));
    const quoted = await guardedCli(["sweep", "--grid", join(root, "grid.json"), "--root", join(root, "a"), "--", "sh", "-c", 'echo "{v}"']);
    expect(wellBehaved(quoted)).toEqual([]);
    expect(quoted.code).toBe(2);
    expect(quoted.stderr).toContain("{v} stands inside double quotes in the sh -c script; write it outside quotes, as a word of its own");
    expect(existsSync(join(root, "a", "sweep.json"))).toBe(false);
    const plain = await guardedCli(["sweep", "--grid", join(root, "grid.json"), "--root", join(root, "b"), "--", "sh", "-c", "echo {v}"], { timeoutMs: 60_000 });
    expect(wellBehaved(plain)).toEqual([]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    const logs = readdirSync(join(root, "b"))
      .filter((name) => name !== "sweep.json")
      .map((name) => readFileSync(join(root, "b", name, "output.log"), "utf8").trim());
    expect(logs.sort()).toEqual([`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`].sort());

    const slurm = await guardedCli(["sweep", "--grid", join(root, "grid.json"), "--root", join(root, "c\nsrun touch M"), "--launcher", "slurm", "--dry-run", "--", "echo", "{v}"]);
    expect(slurm.code).toBe(2);
    expect(slurm.stderr).toContain("a control character cannot be in a SLURM batch script");
    const sbatch = await guardedCli(["sweep", "--grid", join(root, "grid.json"), "--root", join(root, "d"), "--launcher", "slurm", "--dry-run", "--sbatch", "--partition=gpu\n#SBATCH --wrap=x", "--", "echo", "{v}"]);
    expect(sbatch.code).toBe(2);
    writeFileSync(join(root, "nul.json"), '{"v": ["a\\u0000b"]}');
    const nul = await guardedCli(["sweep", "--grid", join(root, "nul.json"), "--root", join(root, "e"), "--", "echo", "{v}"]);
    expect(wellBehaved(nul)).toEqual([]);
    expect(nul.code).toBe(2);
    expect(nul.stderr).toContain('{v} = "a\\u0000b": a control character cannot be filled into a command\'s argument');
    expect(existsSync(join(root, "e", "sweep.json"))).toBe(false);
  }, 120_000);
});

/** A tmpfs of `size` mounted for a test (CI runs as root), unmounted by the returned function. */
function smallDisk(size: string): { dir: string; unmount: () => void } {
  const dir = tempDir("ct-hostile-disk-");
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  return { dir, unmount: () => execFileSync("umount", ["-l", dir]) };
}

describe("a full or read-only disk, a folder of another user: a coded error, no stack trace, no lock left", () => {
  it("saveConfig on a full disk is WRITE_FAILED naming the file and ENOSPC; the lock is gone, the next save after space frees succeeds at once", async () => {
    const disk = smallDisk("512k");
    try {
      const dir = join(disk.dir, "run");
      const result = await guardedScript(
        `import { writeFileSync, rmSync, readdirSync } from "node:fs";
         const t = new ct.ConfigTracker(${JSON.stringify(dir)});
         await t.saveConfig({ lr: 1 });
         let filler = 0;
         try { for (;;) writeFileSync(${JSON.stringify(disk.dir)} + "/fill" + filler++, Buffer.alloc(16384, 1)); } catch {}
         const out = {};
         try { await t.saveConfig({ lr: 2 }, { mode: "resume" }); out.saved = true; }
         catch (e) { out.error = { name: e.name, code: e.code, path: e.path, cause: e.cause?.code, message: e.message }; }
         out.left = readdirSync(${JSON.stringify(dir)}).filter((name) => name.includes("lock") || name.includes(".tmp"));
         for (let i = 0; i < filler; i++) rmSync(${JSON.stringify(disk.dir)} + "/fill" + i, { force: true });
         const started = Date.now();
         await t.saveConfig({ lr: 2 }, { mode: "resume" });
         out.nextSaveMs = Date.now() - started;
         console.log(JSON.stringify(out));`,
      );
      expect(wellBehaved(result)).toEqual([]);
      const out = JSON.parse(result.stdout) as { error: { name: string; code: string; path: string; cause: string; message: string }; left: string[]; nextSaveMs: number };
      expect(out.error).toMatchObject({ name: "ConfigTrackerError", code: "WRITE_FAILED", cause: "ENOSPC" });
      expect(out.error.path.startsWith(dir)).toBe(true);
      expect(out.left).toEqual([]);
      expect(out.nextSaveMs).toBeLessThan(5000);
    } finally {
      disk.unmount();
    }
  }, 60_000);

  it("run on a full and on a read-only disk prints one error line with its code, no stack trace", async () => {
    const disk = smallDisk("256k");
    try {
      writeFileSync(join(disk.dir, "fill"), Buffer.alloc(256 * 1024, 1), { flag: "w" });
    } catch {
      // the disk is full now
    }
    try {
      const full = await guardedCli(["run", "--dir", join(disk.dir, "run"), "--", process.execPath, "-e", "console.log('hi')"]);
      expect(wellBehaved(full)).toEqual([]);
      expect(full.code).not.toBe(0);
      expect(full.stderr).toMatch(/WRITE_FAILED|no space/i);
      execFileSync("rm", ["-f", join(disk.dir, "fill")]);
      mkdirSync(join(disk.dir, "done"));
      execFileSync("mount", ["-o", "remount,ro", disk.dir]);
      const readOnly = await guardedCli(["run", "--dir", join(disk.dir, "done"), "--", process.execPath, "-e", "console.log('hi')"]);
      expect(wellBehaved(readOnly)).toEqual([]);
      expect(readOnly.code).not.toBe(0);
      expect(readOnly.stderr).toContain("read-only file system");
      const library = await guardedScript(
        `try { await new ct.ConfigTracker(${JSON.stringify(join(disk.dir, "done"))}).saveConfig({ lr: 1 }); console.log("saved"); }
         catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, cause: e.cause?.code, message: e.message })); }`,
      );
      expect(JSON.parse(library.stdout)).toMatchObject({ name: "ConfigTrackerError", code: "PERMISSION_DENIED", cause: "EROFS" });
    } finally {
      disk.unmount();
    }
  }, 60_000);

  it("run --dir in a folder of another user: PERMISSION_DENIED naming the folder, no stack trace; saveConfig the same", async () => {
    const root = tempDir("ct-hostile-perm-");
    chmodSync(root, 0o755);
    const theirs = join(root, "theirs");
    mkdirSync(theirs, { mode: 0o755 });
    writeRun(join(theirs, "run"));
    chmodSync(join(theirs, "run"), 0o555);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, cwd: "/" } : { cwd: "/" };
    const run = await guardedCli(["run", "--dir", join(theirs, "run"), "--resume", "--", process.execPath, "-e", ""], asNobody);
    expect(wellBehaved(run)).toEqual([]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`no permission to write in ${join(theirs, "run")}`);
    const fresh = await guardedCli(["run", "--dir", join(theirs, "run", "sub", "deeper"), "--", process.execPath, "-e", ""], asNobody);
    expect(wellBehaved(fresh)).toEqual([]);
    expect(fresh.stderr).toContain(`no permission to write in ${join(theirs, "run")}`);
    const library = await guardedScript(
      `try { await new ct.ConfigTracker(${JSON.stringify(join(theirs, "run"))}).saveConfig({ lr: 1 }, { mode: "resume" }); console.log("saved"); }
       catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, path: e.path })); }`,
      asNobody,
    );
    expect(JSON.parse(library.stdout)).toEqual({ name: "ConfigTrackerError", code: "PERMISSION_DENIED", path: join(theirs, "run") });
  }, 60_000);
});

describe("no hang: link loops, FIFOs, catastrophic regexes", () => {
  it("--checkpoints through a folder with links a -> ., b -> ., c -> .. records the one checkpoint once, and a checkpoint folder holding a loop is stamped", async () => {
    const work = tempDir("ct-hostile-loops-");
    const ck = join(work, "ck");
    mkdirSync(join(ck, "hf-1"), { recursive: true });
    symlinkSync(".", join(ck, "a"));
    symlinkSync(".", join(ck, "b"));
    symlinkSync("..", join(ck, "c"));
    symlinkSync("/", join(ck, "hf-1", "root"));
    symlinkSync(".", join(ck, "hf-1", "loop"));
    const fixture = readFileSync(join(repoRoot, "test", "fixtures", "checkpoints", "cnn_state_dict.pt"));
    const script = `require("fs").writeFileSync("ck/step_5.pt", Buffer.from(${JSON.stringify(fixture.toString("base64"))}, "base64")); console.log(JSON.stringify({step: 5, loss: 1}))`;
    const dir = join(work, "run");
    const result = await guardedCli(["run", "--dir", dir, "--checkpoints", "ck/**/*.pt", "--", process.execPath, "-e", script], { cwd: work });
    expect(wellBehaved(result)).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
    const paths = (file: string) =>
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { path: string }).path);
    expect(paths(join(dir, "checkpoints.jsonl"))).toEqual([join(ck, "step_5.pt")]);
    // A checkpoint folder (Hugging Face's checkpoint-500/) holding a link to / and a loop.
    const folders = await guardedCli(["run", "--dir", join(work, "run2"), "--checkpoints", "ck/hf-*", "--", process.execPath, "-e", ""], { cwd: work });
    expect(wellBehaved(folders)).toEqual([]);
    expect(folders.code, folders.stderr).toBe(0);
    expect(paths(join(work, "run2", "checkpoints.jsonl"))).toEqual([join(ck, "hf-1")]);
    // Its size is what the folder itself holds (two links), not what / holds through its link.
    const stamped = JSON.parse(readFileSync(join(work, "run2", "checkpoints.jsonl"), "utf8").trim()) as { size_bytes: number };
    expect(stamped.size_bytes).toBeLessThan(4096);
  }, 60_000);

  it("--metrics-file and readMetrics on a FIFO are refused without blocking", async () => {
    const work = tempDir("ct-hostile-fifo-");
    execFileSync("mkfifo", [join(work, "metrics.jsonl")]);
    const result = await guardedCli(["run", "--dir", join(work, "run"), "--metrics-file", join(work, "metrics.jsonl"), "--", process.execPath, "-e", ""], { cwd: work });
    expect(wellBehaved(result)).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(work, "run", "results.json"), "utf8")).toContain("a FIFO");
    const library = await guardedScript(
      `try { for await (const r of ct.readMetrics(${JSON.stringify(join(work, "metrics.jsonl"))})) {} console.log("read"); } catch (e) { console.log(e.code); }`,
    );
    expect(wellBehaved(library)).toEqual([]);
    expect(library.stdout.trim()).toBe("INVALID_FILE");
  }, 60_000);

  it("--metrics-regex '(a+)+$' on long lines: the line costs no more than its length, the wrapper answers SIGTERM at once", async () => {
    const work = tempDir("ct-hostile-regex-");
    const script = `for (let i = 0; i < 20; i++) console.log("iter " + i + " " + "a".repeat(${16 * 1024 - 200}) + "!"); console.log("iter 7 aaa"); setInterval(() => {}, 1000)`;
    let pid = 0;
    const running = guardedCli(["run", "--dir", join(work, "run"), "--metrics-regex", "iter (?<step>\\d+) (?<loss>(a+)+$)", "--", process.execPath, "-e", script], {
      cwd: work,
      started: (started) => (pid = started),
    });
    // Once the long lines are out (output.log holds the last), SIGTERM must end the run promptly.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(existsSync(join(work, "run", "output.log")) && readFileSync(join(work, "run", "output.log"), "utf8").includes("iter 7 aaa"))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const signalled = Date.now();
    process.kill(pid, "SIGTERM");
    const result = await running;
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(result.overTime || result.overMemory).toBe(false);
    expect(result.signal).toBe("SIGTERM"); // the wrapper ends by the signal it was sent, as a shell does
    expect(readFileSync(join(work, "run", "status.json"), "utf8")).toContain('"interrupted"');
    const refused = await guardedCli(["run", "--dir", join(work, "run2"), "--metrics-regex", "(?<step>\\d+)(?<loss>\\d)\\2", "--", process.execPath, "-e", ""], { cwd: work });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("cannot be matched in linear time");
  }, 60_000);
});

describe("hostile field values: deep, wrong-typed, huge", () => {
  it("a config nested 100,000 deep, wrong-typed fields in every file and configs past the writer's limits are warnings on their run, never a crash", async () => {
    const root = tempDir("ct-hostile-fields-");
    const head = '{"experiment_id": "deep", "timestamp": "2026-11-28T09:40:02Z", "git_hash": null, "hardware": {}, "config": ';
    mkdirSync(join(root, "deep"));
    writeFileSync(join(root, "deep", "config.json"), `${head}${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`);
    mkdirSync(join(root, "deep-array"));
    writeFileSync(join(root, "deep-array", "config.json"), `${head.replace('"deep"', '"deep-array"')}{"x": ${"[".repeat(100_000)}1${"]".repeat(100_000)}}}`);
    writeRun(join(root, "types"), {
      "checkpoints.jsonl": jsonl([{ path: "a.pt", step: 1, time: 1764322514, size_bytes: "big" }]),
      "nodes/node-1.json": JSON.stringify({ node_rank: 1, host: "h", gpus: null }),
      "ranks/rank-1.json": JSON.stringify({ rank: "one", pid: null }),
      "results.json": JSON.stringify({ experiment_id: "types", timestamp: "2026-11-28T09:40:02Z", final_metrics: { loss: "low", acc: 0.5 }, best_checkpoint: 5, generation_samples: "x" }),
      "status.json": JSON.stringify({ status: "running", pid: "x" }),
      "system.jsonl": jsonl([{ time: "now", gpus: "many" }, { time: 1764322514, gpus: [{ index: "zero" }, null] }]),
      "metrics.jsonl": jsonl([{ step: "one", loss: 1 }, { step: 2, loss: "low", acc: 0.5 }]),
    });
    mkdirSync(join(root, "types-config"));
    writeFileSync(
      join(root, "types-config", "config.json"),
      JSON.stringify({ experiment_id: "types-config", timestamp: "2026-11-28T09:40:02Z", git_hash: null, config: { lr: 1 }, hardware: { gpu_count: "two", gpus: "none" }, model: "GPT", git: 5, environment: [], resumes: {} }),
    );
    // 80 MB with 4 million keys: past the writer's 64 MiB. 250,000 keys in 4 MB: past its 200,000 keys.
    mkdirSync(join(root, "huge"));
    writeFileSync(join(root, "huge", "config.json"), `${head.replace('"deep"', '"huge"')}{${Array.from({ length: 4_000_000 }, (_, i) => `"k${i}": ${i}`).join(", ")}}}`);
    mkdirSync(join(root, "many-keys"));
    writeFileSync(join(root, "many-keys", "config.json"), `${head.replace('"deep"', '"many-keys"')}{${Array.from({ length: 250_000 }, (_, i) => `"k${i}": ${i}`).join(", ")}}}`);

    const ls = await guardedCli(["ls", root, "--json"]);
    expect(wellBehaved(ls)).toEqual([]);
    expect((JSON.parse(ls.stdout) as Array<{ name: string }>).map((row) => row.name).sort()).toEqual(["types", "types-config"]);
    expect(ls.stderr).toContain(`${join(root, "deep", "config.json")}: nested deeper than`);
    expect(ls.stderr).toContain(`${join(root, "deep-array", "config.json")}: nested deeper than`);
    expect(ls.stderr).toContain(`${join(root, "huge", "config.json")}: ${80}`.slice(0, 10));
    expect(ls.stderr).toMatch(/huge\/config\.json: \d+ bytes, more than the 67108864 read here/);
    expect(ls.stderr).toContain("many-keys/config.json: more than 200,000 keys (more than a tracker writes)");
    expect(ls.stderr).toContain('types-config/config.json: key "hardware.gpu_count" expected number, received string (left out)');
    expect(ls.stderr).toContain('types-config/config.json: key "model" expected object, received string (left out)');
    expect(ls.code).toBe(1); // runs were left out

    for (const args of [
      ["show", join(root, "types")],
      ["show", join(root, "types"), "--json"],
      ["show", join(root, "types-config")],
      ["compare", root],
      ["compare", root, "--html", join(tempDir("ct-hostile-html-"), "r.html")],
      ["diff", join(root, "types"), join(root, "types-config")],
      ["show", join(root, "deep")],
      ["diff", join(root, "deep"), join(root, "types")],
      ["show", join(root, "huge")],
    ]) {
      const result = await guardedCli(args, { timeoutMs: 30_000 });
      expect(wellBehaved(result), args.join(" ")).toEqual([]);
      expect(result.stderr, args.join(" ")).not.toMatch(/TypeError|RangeError|Maximum call stack/);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBeLessThanOrEqual(2);
    }
    const show = await guardedCli(["show", join(root, "types")]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('checkpoints.jsonl: 1 line(s) skipped (first: line 1: key "size_bytes" is missing or of the wrong type)');
  }, 240_000);

  it("saveConfig refuses past the limits the readers hold (64 MiB, 1,000 levels, 200,000 keys, 1,000,000 values)", async () => {
    const result = await guardedScript(
      `const out = [];
       for (const config of [{ keys: Object.fromEntries(Array.from({ length: 200_001 }, (_, i) => ["k" + i, i])) }, { values: new Array(1_000_001).fill(0) }]) {
         try { await new ct.ConfigTracker(${JSON.stringify(tempDir("ct-hostile-limits-"))} + "/" + out.length).saveConfig(config); out.push("saved"); }
         catch (e) { out.push(e.code + ": " + e.message); }
       }
       console.log(JSON.stringify(out));`,
      { timeoutMs: 60_000 },
    );
    expect(wellBehaved(result)).toEqual([]);
    expect(JSON.parse(result.stdout)).toEqual([
      "LIMIT_EXCEEDED: config: more than 200,000 keys: store large data in its own file and record its path",
      "LIMIT_EXCEEDED: config: more than 1,000,000 values: store large data in its own file and record its path",
    ]);
  }, 60_000);
});

describe("files written by Python", () => {
  it("config.json and results.json as json.dump writes them (None, naive timestamps, git_hash null or \"unknown\", extra keys) are read by every command", async () => {
    const root = tempDir("ct-python-files-");
    const python = `
import datetime, json, os, sys
root = sys.argv[1]
now = datetime.datetime(2026, 11, 28, 9, 40, 2, 118447).isoformat()
hardware = {"platform": "Linux-6.1.0-x86_64-with-glibc2.36", "python_version": "3.11.2", "torch_version": None,
            "cuda_available": False, "gpu_count": 0, "gpu_model": None, "cpu_count": None, "memory_total_bytes": None}
def write(name, config, results):
    os.makedirs(os.path.join(root, name))
    with open(os.path.join(root, name, "config.json"), "w") as f: json.dump(config, f, indent=2)
    with open(os.path.join(root, name, "results.json"), "w") as f: json.dump(results, f, indent=2)
write("py_none", {"experiment_id": "py_none", "timestamp": now, "git_hash": None, "config": {"lr": 0.001, "scheduler": None},
                  "hardware": hardware, "model": None, "dataset": None},
      {"experiment_id": "py_none", "timestamp": now, "final_metrics": {"val_loss": 1.5, "acc": None}, "best_checkpoint": None, "generation_samples": None})
write("py_unknown", {"experiment_id": "py_unknown", "timestamp": now[:19], "git_hash": "unknown", "config": {"lr": 0.01, "scheduler": "cosine"},
                     "hardware": hardware, "model": {"type": "GPT", "num_parameters": 1000, "num_trainable_parameters": 1000, "d_model": None},
                     "dataset": {"name": "tiny", "size": None}, "notes": "an extra key", "python_extra": {"a": [1, 2]}},
      {"experiment_id": "py_unknown", "timestamp": now, "final_metrics": {"val_loss": float("nan"), "loss": float("inf")},
       "best_checkpoint": "ckpt.pt", "generation_samples": [], "extra": None})
`;
    execFileSync("python3", ["-c", python, root]);
    const ls = await guardedCli(["ls", root, "--json"]);
    expect(wellBehaved(ls)).toEqual([]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stderr).toBe("");
    const rows = parsePythonJson(ls.stdout) as Array<{ name: string; status: string; final_metrics: Record<string, unknown> }>;
    expect(rows.map((row) => [row.name, row.status]).sort()).toEqual([["py_none", "finished"], ["py_unknown", "finished"]]);
    expect(rows.find((row) => row.name === "py_none")?.final_metrics).toEqual({ val_loss: 1.5 });
    for (const args of [["ls", root], ["show", join(root, "py_none")], ["show", join(root, "py_unknown"), "--json"], ["compare", root], ["compare", root, "--json"], ["diff", join(root, "py_none"), join(root, "py_unknown")]]) {
      const result = await guardedCli(args);
      expect(wellBehaved(result), args.join(" ")).toEqual([]);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBeLessThanOrEqual(1);
      expect(result.stderr, args.join(" ")).toBe("");
    }
    const show = await guardedCli(["show", join(root, "py_none")]);
    expect(show.stdout).toMatch(/model\s+not recorded/);
    expect(show.stdout).toMatch(/dataset\s+not recorded/);
    const compare = await guardedCli(["compare", root]);
    expect(compare.stdout).toMatch(/py_none\s+finished\s+0\.001/);
    // The library, and a resumption of a Python run: nulls read as absent, the run carries on.
    const library = await guardedScript(
      `const runs = await ct.listRuns(${JSON.stringify(root)});
       const t = new ct.ConfigTracker(${JSON.stringify(join(root, "py_none"))});
       await t.saveConfig({ lr: 0.001, scheduler: null }, { mode: "resume" });
       console.log(JSON.stringify({ runs: runs.map((run) => run.name).sort(), warnings: runs.flatMap((run) => run.warnings), model: runs.find((run) => run.name === "py_none").config.model ?? "absent" }));`,
    );
    expect(wellBehaved(library)).toEqual([]);
    expect(JSON.parse(library.stdout)).toEqual({ runs: ["py_none", "py_unknown"], warnings: [], model: "absent" });
  }, 90_000);
});

describe("the dashboard over hostile runs", () => {
  it("every API answers for planted files, wrong types, deep configs and logs of 16,000 metrics and 22,000 GPUs, within 512 MiB, and keeps serving", async () => {
    const { root: planted, bad } = plantedRoot();
    const root = join(planted, "more");
    mkdirSync(root);
    writeRun(join(root, "charts"), { ...manyNames(), "output.log": `${HOSTILE}\n`.repeat(1000) });
    writeRun(join(root, "types"), {
      "nodes/node-1.json": JSON.stringify({ node_rank: 1, gpus: null }),
      "system.jsonl": jsonl([{ time: "now", gpus: "many" }, { time: 1764322514, gpus: [{ index: "zero" }, null] }]),
      "metrics.jsonl": jsonl([{ step: "one", loss: 1 }, { step: 2, loss: "low", constructor: 0.5, __proto__: 1 }]).replace('"loss":"low"', '"loss":"low","__proto__":1'),
    });
    mkdirSync(join(root, "deep"));
    writeFileSync(join(root, "deep", "config.json"), `{"experiment_id": "deep", "timestamp": "2026-11-28T09:40:02Z", "git_hash": null, "hardware": {}, "config": ${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`);
    symlinkSync("/dev/zero", join(root, "charts", "output.node-1.log"));

    const ui = await startUi([planted]);
    try {
      // Every run is a row of the table (one with a planted special file or link: its warning says
      // it was not read); the deep config is named as unreadable.
      const table = (await ask(ui.port, "/api/table")).json() as { runs: { name: string[]; warnings?: string[][] } };
      const names = table.runs.name;
      expect([...names].sort()).toEqual(["good", ...bad, "more/charts", "more/types"].sort());
      expect(ui.stderr()).toContain("1 unreadable");
      const runs = names.map((name) => ({ name }));
      const paths = ["/api/info", "/api/table"];
      for (const { name } of runs) {
        const q = encodeURIComponent(name);
        paths.push(`/api/run?name=${q}`, `/api/metrics?runs=${q}`, `/api/metrics?runs=${q}&keys=loss&keys=constructor&keys=__proto__`, `/api/system?runs=${q}`, `/api/log?name=${q}`, `/api/log?name=${q}&file=output.node-1.log`, `/api/diff?a=good&b=${q}`);
      }
      for (const path of paths) {
        const reply = await ask(ui.port, path);
        expect(reply.status, `${path}: ${reply.text.slice(0, 300)}`).toBeLessThan(500);
        if (path.startsWith("/api/log") || path.startsWith("/api/run")) expect(ACTIVE.test(reply.text.replace(/\n/g, "")), path).toBe(false);
      }
      const types = (await ask(ui.port, `/api/metrics?runs=${encodeURIComponent("more/types")}&keys=constructor&keys=__proto__`)).json() as { charts: Array<{ key?: string; name?: string; title?: string }> };
      expect(JSON.stringify(types)).toContain("__proto__");
      expect((await ask(ui.port, "/api/info")).status).toBe(200);
      expect(ui.child.exitCode).toBeNull();
      const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${ui.child.pid}/status`, "utf8"))?.[1]) / 1024;
      expect(peak).toBeLessThan(512);
    } finally {
      await ui.stop();
    }
  }, 240_000);
});
