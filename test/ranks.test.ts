/**
 * Distributed jobs: rank detection from each launcher's variables, and real torchrun launches
 * (Debian's python3-torch) of test/fixtures/ranks/rank-script.mjs: one node with 4 processes,
 * and two "nodes" (two launchers) meeting at a rendezvous on 127.0.0.1.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

import { ConfigTracker } from "../src/tracker.js";
import { rankFromEnv } from "../src/experiment/ranks.js";
import { readJsonLines, tempDir, testCacheDir, writeScenario } from "./support/helpers.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch.distributed.run"]).status === 0;
const rankScript = join(import.meta.dirname, "fixtures", "ranks", "rank-script.mjs");
const stubs = inject("stubs");
const GPUS = `driver 580.65.06
cuda 13000
${[0, 1, 2, 3].map((i) => `gpu name="NVIDIA H200" uuid=GPU-aaaaaaa${i}-a134-0fdd-0e01-23811fdbd293 memory=150754820096 cc=9.0 bus=00000000:1${i}:00.0 mig=0`).join("\n")}
`;

describe("rankFromEnv", () => {
  it.each([
    [{}, null],
    [{ RANK: "0", WORLD_SIZE: "1" }, null], // a world of one is not distributed
    [
      { RANK: "3", WORLD_SIZE: "8", LOCAL_RANK: "1", LOCAL_WORLD_SIZE: "2", GROUP_RANK: "1" },
      { rank: 3, world_size: 8, local_rank: 1, local_world_size: 2, node_rank: 1, launcher: "torchrun" },
    ],
    [
      { SLURM_PROCID: "5", SLURM_NTASKS: "8", SLURM_LOCALID: "1", SLURM_NODEID: "2" },
      { rank: 5, world_size: 8, local_rank: 1, local_world_size: null, node_rank: 2, launcher: "slurm" },
    ],
    // torchrun inside an srun step: torchrun's ranks are the processes'.
    [
      { RANK: "1", WORLD_SIZE: "4", SLURM_PROCID: "0", SLURM_NTASKS: "1", SLURM_NODEID: "0", LOCAL_RANK: "1" },
      { rank: 1, world_size: 4, local_rank: 1, local_world_size: null, node_rank: 0, launcher: "torchrun" },
    ],
    [
      { OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_LOCAL_RANK: "0", NODE_RANK: "1" },
      { rank: 2, world_size: 4, local_rank: 0, local_world_size: null, node_rank: 1, launcher: "mpi" },
    ],
    [{ RANK: "x", WORLD_SIZE: "4" }, null],
  ])("%j -> %j", (env, expected) => {
    expect(rankFromEnv(env)).toEqual(expected);
  });

  it("only rank 0 writes config, status and results; other ranks' metrics are dropped", async () => {
    const dir = tempDir();
    const env = { ...process.env, CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent" };
    const worker = new ConfigTracker(dir, { env: { ...env, RANK: "1", WORLD_SIZE: "2" } });
    const saved = await worker.saveConfig({ lr: 1 });
    expect(saved.environment.distributed).toMatchObject({ RANK: "1", WORLD_SIZE: "2" });
    worker.logMetrics(1, { loss: 1 });
    expect(await worker.recordCheckpoint("whatever.pt", { step: 1 })).toBeNull();
    await worker.saveResults();
    expect(["config.json", "status.json", "results.json", "metrics.jsonl"].map((f) => existsSync(join(dir, f)))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect((await worker.loadRanks()).map((record) => [record.rank, record.status])).toEqual([[1, "finished"]]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function torchrun(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Debian's torch 1.13 on Python 3.11 needs --redirects/--tee set (its default trips an enum bug).
    const child = spawn(PYTHON, ["-m", "torch.distributed.run", "--no_python", "--redirects", "1", "--tee", "1", ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CONFIG_TRACKER_CACHE_DIR: testCacheDir,
        CONFIG_TRACKER_DISABLE_GIT: "1",
        CONFIG_TRACKER_NVML_LIBRARY: stubs.nvml,
        FAKE_NVML_CONFIG: writeScenario(GPUS),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (data) => (output += data));
    child.stderr.on("data", (data) => (output += data));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!hasTorch)("real torchrun launches (skipped without Debian's python3-torch: apt-get install python3-torch)", () => {
  it("4 processes on one node: one config, a rank file each with its GPU, rank 0's metrics only", async () => {
    const dir = tempDir();
    const port = await freePort();
    const run = await torchrun(
      ["--nproc_per_node", "4", "--master_addr", "127.0.0.1", "--master_port", String(port), process.execPath, rankScript, dir],
      {},
    );
    expect(run.code, run.output).toBe(0);
    const tracker = new ConfigTracker(dir);
    const config = await tracker.loadConfig();
    expect(config.environment?.distributed).toMatchObject({ RANK: "0", WORLD_SIZE: "4", LOCAL_RANK: "0" });
    const ranks = await tracker.loadRanks();
    expect(ranks.map((r) => [r.rank, r.local_rank, r.node_rank, r.world_size, r.status])).toEqual([
      [0, 0, 0, 4, "finished"],
      [1, 1, 0, 4, "finished"],
      [2, 2, 0, 4, "finished"],
      [3, 3, 0, 4, "finished"],
    ]);
    // Each process's pid, as it printed it, and the GPU its CUDA_VISIBLE_DEVICES left it.
    for (const record of ranks) {
      expect(run.output).toContain(`rank ${record.rank} pid ${record.pid} done`);
      expect(record.gpus.map((gpu) => gpu.uuid)).toEqual([`GPU-aaaaaaa${record.rank}-a134-0fdd-0e01-23811fdbd293`]);
      expect(record.cuda_visible_devices).toBe(String(record.rank));
    }
    expect(new Set(ranks.map((r) => r.pid)).size).toBe(4);
    const metrics = readJsonLines(join(dir, "metrics.jsonl"));
    expect(metrics).toHaveLength(20);
    expect(new Set(metrics.map((line) => line.rank))).toEqual(new Set([0]));
    expect((await tracker.loadStatus()).status).toBe("finished");
    expect((await tracker.loadResults()).final_metrics.loss).toBe(8.1);
  }, 60_000);

  it("two nodes (two launchers, rendezvous on 127.0.0.1), allRanks: every rank's metrics file", async () => {
    const dir = tempDir();
    const port = await freePort();
    const node = (rank: number) =>
      torchrun(
        [
          "--nnodes", "2", "--node_rank", String(rank), "--nproc_per_node", "2",
          "--master_addr", "127.0.0.1", "--master_port", String(port),
          process.execPath, rankScript, dir, "all",
        ],
        {},
      );
    const [first, second] = await Promise.all([node(0), node(1)]);
    expect(first.code, first.output).toBe(0);
    expect(second.code, second.output).toBe(0);
    const ranks = await new ConfigTracker(dir).loadRanks();
    expect(ranks.map((r) => [r.rank, r.node_rank, r.local_rank])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 1, 0],
      [3, 1, 1],
    ]);
    for (const rank of [1, 2, 3]) {
      const lines = readJsonLines(join(dir, `metrics.rank-${rank}.jsonl`));
      expect(lines).toHaveLength(20);
      expect(new Set(lines.map((line) => line.rank))).toEqual(new Set([rank]));
    }
    expect(new Set(readJsonLines(join(dir, "metrics.jsonl")).map((line) => line.rank))).toEqual(new Set([0]));
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).environment.distributed.GROUP_RANK).toBe("0");
  }, 90_000);
});
