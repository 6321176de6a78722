import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { configFileSchema, resultsFileSchema } from "../src/schema.js";
import { parsePythonJson } from "../src/python-json.js";
import { rejection, runAsUnprivileged, tempDir } from "./support/helpers.js";

const pythonRun = join(import.meta.dirname, "fixtures", "python", "run_python");


beforeEach(() => {
  vi.stubEnv("CONFIG_TRACKER_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  vi.stubEnv("CONFIG_TRACKER_ROCM_SMI_LIBRARY", "/nonexistent/librocm_smi64.so.1");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("saveConfig / loadConfig", () => {
  it("creates the folder and writes the original keys, then reads them back", async () => {
    const dir = join(tempDir(), "runs", "gpt2_lr3e-4");
    const tracker = new ConfigTracker(dir);
    const saved = await tracker.saveConfig(
      { lr: 3e-4, batch_size: 64, betas: [0.9, 0.95], started: new Date("2024-01-02T03:04:05Z") },
      {
        model: { type: "GPT", num_parameters: 124439808, num_trainable_parameters: 124439808, d_model: 768 },
        dataset: { name: "openwebtext" },
      },
    );
    const onDisk = parsePythonJson(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(onDisk)).toEqual([
      "experiment_id",
      "timestamp",
      "git_hash",
      "config",
      "hardware",
      "model",
      "dataset",
      "git",
      "environment",
    ]);
    expect(onDisk.experiment_id).toBe("gpt2_lr3e-4");
    expect(onDisk.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(onDisk.config).toEqual({ lr: 3e-4, batch_size: 64, betas: [0.9, 0.95], started: "2024-01-02T03:04:05.000Z" });
    expect(onDisk.model).toEqual({ type: "GPT", num_parameters: 124439808, num_trainable_parameters: 124439808, d_model: 768 });
    expect(onDisk.dataset).toEqual({ name: "openwebtext" });
    expect(saved.hardware.gpu_unavailable_reason).toBe(
      "/nonexistent/libnvidia-ml.so.1 not found; /nonexistent/librocm_smi64.so.1 not found",
    );
    expect(saved.environment.pid).toBe(process.pid);
    // The tracker runs in this repository's checkout when there is one.
    expect(onDisk.git_hash).toBe(saved.git?.short_hash ?? null);
    expect(await tracker.loadConfig()).toEqual(onDisk);
  });

  it("records distributed-run variables only when they are set", async () => {
    vi.stubEnv("RANK", "3");
    vi.stubEnv("WORLD_SIZE", "8");
    vi.stubEnv("SLURM_JOB_ID", "991");
    const saved = await new ConfigTracker(tempDir()).saveConfig({});
    expect(saved.environment.distributed).toEqual({ RANK: "3", WORLD_SIZE: "8", SLURM_JOB_ID: "991" });
  });

  it("CONFIG_TRACKER_DISABLE_GIT=1 skips git", async () => {
    vi.stubEnv("CONFIG_TRACKER_DISABLE_GIT", "1");
    const dir = tempDir();
    const saved = await new ConfigTracker(dir).saveConfig({ a: 1 });
    expect(saved.git_hash).toBeNull();
    expect("git" in saved).toBe(false);
    expect("git" in (parsePythonJson(readFileSync(join(dir, "config.json"), "utf8")) as object)).toBe(false);
  });

  it("records the repository named by gitDir", async () => {
    const { execFileSync } = await import("node:child_process");
    const repo = tempDir("ct-repo-");
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" };
    execFileSync("git", ["init", "-q"], { cwd: repo });
    execFileSync("git", ["commit", "-q", "--allow-empty", "-m", "x"], { cwd: repo, env });
    const short = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
    const saved = await new ConfigTracker(tempDir(), { gitDir: repo }).saveConfig({});
    expect(saved.git_hash).toBe(short);
    expect(saved.git?.dirty).toBe(false);
  });

  it.each([
    [[1, 2], "config"],
    [{ seed: 1n }, "config.seed"],
    [{ cb: () => 0 }, "config.cb"],
  ])("rejects %o with INVALID_CONFIG naming %s, writing nothing", async (config, key) => {
    const dir = tempDir();
    const error = await rejection(new ConfigTracker(dir).saveConfig(config as Record<string, unknown>));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe(key);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects a bad model or dataset with the key path", async () => {
    const tracker = new ConfigTracker(tempDir());
    let error = await rejection(
      tracker.saveConfig({}, { model: { type: "GPT", num_parameters: -5, num_trainable_parameters: 0 } }),
    );
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe("model.num_parameters");
    error = await rejection(tracker.saveConfig({}, { dataset: { sizes: new Map() } }));
    expect(error.key).toBe("dataset.sizes");
  });
});

describe("saveResults / loadResults", () => {
  it("round-trips metrics, including a diverged NaN loss", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.saveResults({
      finalMetrics: { loss: NaN, ppl: Infinity, acc: 0.5 },
      bestCheckpoint: "ckpt/best.pt",
      generationSamples: ["Once upon a time"],
    });
    const text = readFileSync(join(dir, "results.json"), "utf8");
    expect(text).toContain('"loss": NaN');
    const results = await tracker.loadResults();
    expect(Object.keys(results)).toEqual([
      "experiment_id",
      "timestamp",
      "final_metrics",
      "best_checkpoint",
      "generation_samples",
      "summary",
      "warnings",
    ]);
    expect(results.final_metrics).toEqual({ loss: NaN, ppl: Infinity, acc: 0.5 });
    // Relative to the working directory as given; it is not there, and results say so.
    expect(results.best_checkpoint).toBe(join(process.cwd(), "ckpt/best.pt"));
    expect(results.warnings).toEqual(["best_checkpoint: ckpt/best.pt does not exist"]);
    expect(results.generation_samples).toEqual(["Once upon a time"]);
  });

  it("defaults: no best checkpoint, no samples", async () => {
    const results = await new ConfigTracker(tempDir()).saveResults({ finalMetrics: { loss: 1 } });
    expect(results.best_checkpoint).toBeNull();
    expect(results.generation_samples).toEqual([]);
  });

  it("rejects metrics that are not an object", async () => {
    const error = await rejection(new ConfigTracker(tempDir()).saveResults({ finalMetrics: 3 as never }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe("final_metrics");
  });
});

describe("files written by the Python ConfigTracker", () => {
  it("load, NaN and zone-less timestamps included", async () => {
    const dir = join(tempDir(), "run_python");
    cpSync(pythonRun, dir, { recursive: true });
    const tracker = new ConfigTracker(dir);
    const config = await tracker.loadConfig();
    expect(config.timestamp).toBe("2024-05-01T12:34:56.123456");
    expect(config.hardware.gpu_model).toBe("NVIDIA A100-SXM4-80GB");
    expect(config.hardware.python_version).toBe("3.11.2"); // keys we don't write are kept
    expect(config.model?.num_parameters).toBe(124439808);
    const results = await tracker.loadResults();
    expect(results.final_metrics.val_loss).toBeNaN();
    expect(results.final_metrics.grad_norm_min).toBe(-Infinity);
  });
});

describe("bad files", () => {
  function trackerWith(file: "config.json" | "results.json", contents: string): ConfigTracker {
    const dir = tempDir();
    writeFileSync(join(dir, file), contents);
    return new ConfigTracker(dir);
  }

  it("a missing file is NOT_FOUND with its path", async () => {
    const dir = tempDir();
    const error = await rejection(new ConfigTracker(dir).loadConfig());
    expect(error.code).toBe("NOT_FOUND");
    expect(error.path).toBe(join(dir, "config.json"));
  });

  it.each([
    ["config.json", "{ not json", "", /not valid JSON/],
    ["config.json", JSON.stringify({ name: "my-package", version: "1.0.0" }), "experiment_id", /is missing/],
    ["config.json", "[1, 2]", "", /expected object/],
    [
      "config.json",
      JSON.stringify({ experiment_id: "x", timestamp: "2024-01-01T00:00:00Z", git_hash: null, config: {}, hardware: { gpu_count: "two" } }),
      "hardware.gpu_count",
      /expected number/,
    ],
    [
      "config.json",
      JSON.stringify({ experiment_id: "x", timestamp: "yesterday", git_hash: null, config: {}, hardware: {} }),
      "timestamp",
      /datetime/,
    ],
    ["results.json", JSON.stringify({ experiment_id: "x", timestamp: "2024-01-01T00:00:00Z", final_metrics: [] }), "final_metrics", /expected record/],
  ])("%s holding %s is INVALID_FILE at %j", async (file, contents, key, message) => {
    const tracker = trackerWith(file as "config.json", contents);
    const error = await rejection(file === "config.json" ? tracker.loadConfig() : tracker.loadResults());
    expect(error.code).toBe("INVALID_FILE");
    expect(error.path).toBe(join(tracker.experimentDir, file));
    expect(error.message).toContain(join(tracker.experimentDir, file));
    expect(error.message).toMatch(message);
    if (key) expect(error.key).toBe(key);
  });
});

describe("atomic writes", () => {
  it("a failed write leaves the previous file whole and no temporary file behind", async () => {
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.saveResults({ finalMetrics: { loss: 1.5 } });
    const before = readFileSync(join(dir, "results.json"), "utf8");

    // Make the rename fail: results.json becomes a non-empty folder name clash.
    const { renameSync, rmSync } = await import("node:fs");
    renameSync(join(dir, "results.json"), join(dir, "saved.json"));
    mkdirSync(join(dir, "results.json", "blocker"), { recursive: true });
    const error = await rejection(tracker.saveResults({ finalMetrics: { loss: 0.1 } }));
    expect(error.code).toBe("WRITE_FAILED");
    expect(error.path).toBe(join(dir, "results.json"));
    rmSync(join(dir, "results.json"), { recursive: true });
    renameSync(join(dir, "saved.json"), join(dir, "results.json"));

    expect(readFileSync(join(dir, "results.json"), "utf8")).toBe(before);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("a writer killed mid-write leaves a whole file", async () => {
    const { spawn } = await import("node:child_process");
    const dir = tempDir();
    const index = JSON.stringify(join(import.meta.dirname, "..", "dist", "index.js"));
    // Rewrites results.json in a loop, saying "saved" after each write.
    const script = `
      import { ConfigTracker } from ${index};
      const tracker = new ConfigTracker(${JSON.stringify(dir)});
      const metrics = Object.fromEntries(Array.from({ length: 50000 }, (_, i) => ["m" + i, i]));
      for (let n = 0; ; n++) { metrics.n = n; await tracker.saveResults({ finalMetrics: metrics }); process.stdout.write("saved\\n"); }
    `;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "ignore"] });
      // Once one write has landed, kill it at a point that lands in the middle of later writes.
      await new Promise((resolve) => child.stdout.once("data", resolve));
      await new Promise((resolve) => setTimeout(resolve, 5 + round * 37));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      const results = await new ConfigTracker(dir).loadResults();
      expect(Object.keys(results.final_metrics)).toHaveLength(50001);
    }
  });

  // Payloads of different sizes and contents: a torn or interleaved file cannot pass for one.
  const payload = (writer: number) =>
    Object.fromEntries(Array.from({ length: 400 + writer * 350 }, (_, i) => [`w${writer}_${i}`, writer * 1e6 + i]));
  const isOneOf = (metrics: Record<string, unknown>, count: number) =>
    Array.from({ length: count }, (_, w) => payload(w)).some((p) => JSON.stringify(p) === JSON.stringify(metrics));

  it("concurrent writers with different payloads: the file read back is one of them, whole", async () => {
    const dir = tempDir();
    for (let round = 0; round < 4; round++) {
      // Separate trackers on one folder: nothing serialises their writes but the file system.
      await Promise.all(Array.from({ length: 12 }, (_, w) => new ConfigTracker(dir).saveResults({ finalMetrics: payload(w) })));
      const text = readFileSync(join(dir, "results.json"), "utf8");
      const metrics = (JSON.parse(text) as { final_metrics: Record<string, unknown> }).final_metrics;
      expect(isOneOf(metrics, 12)).toBe(true);
      expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    }
  });

  it("a reader never sees a torn file while two processes keep replacing it", async () => {
    const { spawn } = await import("node:child_process");
    const dir = tempDir();
    const index = JSON.stringify(join(import.meta.dirname, "..", "dist", "index.js"));
    const writer = (w: number) => `
      import { ConfigTracker } from ${index};
      const payload = ${JSON.stringify(payload(w))};
      const tracker = new ConfigTracker(${JSON.stringify(dir)});
      for (let n = 0; n < 150; n++) await tracker.saveResults({ finalMetrics: payload });`;
    const children = [0, 1].map((w) =>
      spawn(process.execPath, ["--input-type=module", "-e", writer(w)], { stdio: ["ignore", "ignore", "inherit"] }),
    );
    let running = children.length;
    const exits = children.map((child) => new Promise((resolve) => child.once("exit", (code) => (running--, resolve(code)))));
    let reads = 0;
    const torn: string[] = [];
    while (running > 0) {
      let text: string;
      try {
        text = readFileSync(join(dir, "results.json"), "utf8");
      } catch {
        await new Promise((resolve) => setImmediate(resolve)); // not written yet
        continue;
      }
      reads++;
      try {
        if (!isOneOf((JSON.parse(text) as { final_metrics: Record<string, unknown> }).final_metrics, 2)) torn.push(text.slice(0, 80));
      } catch {
        torn.push(`${text.length} bytes: ${text.slice(0, 40)}...${text.slice(-40)}`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(exits)).toEqual([0, 0]);
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(20);
  });
});

describe("schemas", () => {
  it("the shipped JSON Schema files match the zod schemas", async () => {
    const { z } = await import("zod");
    const root = join(import.meta.dirname, "..", "schema");
    const shipped = JSON.parse(readFileSync(join(root, "config.schema.json"), "utf8"));
    expect(shipped).toMatchObject(z.toJSONSchema(configFileSchema, { io: "input", unrepresentable: "any" }) as object);
    const results = JSON.parse(readFileSync(join(root, "results.schema.json"), "utf8"));
    expect(results.required).toEqual(["experiment_id", "timestamp", "final_metrics", "best_checkpoint", "generation_samples"]);
    expect(resultsFileSchema.safeParse({}).success).toBe(false);
  });
});

describe("folders and files", () => {
  it("a file where the experiment folder should be is NOT_A_FOLDER naming it", async () => {
    const root = tempDir();
    writeFileSync(join(root, "runs"), "not a folder");
    for (const dir of [join(root, "runs"), join(root, "runs", "exp1")]) {
      const error = await rejection(new ConfigTracker(dir).saveConfig({ lr: 1 }));
      expect(error.code).toBe("NOT_A_FOLDER");
      expect(error.path).toBe(join(root, "runs"));
      expect(error.message).toContain(`${join(root, "runs")} is a file, not a folder`);
    }
  });

  it("no permission to create the folder is PERMISSION_DENIED naming the parent that lacks it (run as an unprivileged user)", async () => {
    const { chmodSync } = await import("node:fs");
    const root = tempDir();
    chmodSync(root, 0o755);
    const locked = join(root, "locked");
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    const dir = join(locked, "exp1");
    const child = runAsUnprivileged(
      (index) => `import { ConfigTracker } from ${JSON.stringify(index)};
        try { await new ConfigTracker(${JSON.stringify(dir)}).saveConfig({ lr: 1 }); console.log("saved"); }
        catch (error) { console.log(JSON.stringify({ code: error.code, path: error.path, message: error.message })); }`,
      { CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_CACHE_DIR: "", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent" },
    );
    expect(child.stderr).toBe("");
    const outcome = JSON.parse(child.stdout.trim()) as { code: string; path: string; message: string };
    expect(outcome.code).toBe("PERMISSION_DENIED");
    expect(outcome.path).toBe(locked);
    expect(outcome.message).toContain(`no permission to write in ${locked}`);
  });

  it("replacing a file keeps its permission bits", async () => {
    const { chmodSync, statSync } = await import("node:fs");
    const dir = tempDir();
    const tracker = new ConfigTracker(dir);
    await tracker.saveResults({ finalMetrics: { loss: 1 } });
    chmodSync(join(dir, "results.json"), 0o600);
    await tracker.saveResults({ finalMetrics: { loss: 0.5 } });
    expect(statSync(join(dir, "results.json")).mode & 0o777).toBe(0o600);
    chmodSync(join(dir, "results.json"), 0o640);
    await tracker.saveResults({ finalMetrics: { loss: 0.25 } });
    expect(statSync(join(dir, "results.json")).mode & 0o777).toBe(0o640);
    expect((await tracker.loadResults()).final_metrics.loss).toBe(0.25);
  });

  it("refuses Error objects and class instances in a config, writing nothing", async () => {
    const dir = tempDir();
    const error = await rejection(new ConfigTracker(dir).saveConfig({ last: new Error("x") }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe("config.last");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a config over 64 MiB, writing nothing", async () => {
    const dir = tempDir();
    const huge = { shards: Array.from({ length: 66 }, (_, i) => `${i}`.padEnd(1024 * 1024, "x")) };
    const error = await rejection(new ConfigTracker(dir).saveConfig(huge));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(readdirSync(dir)).toEqual([]);
  });
});
