/**
 * The experiment folder's names: one scheme for what belongs to one process of a job
 * (`<stem>.rank-<r>.<ext>`, `<stem>.node-<k>.<ext>`, `ranks/rank-<r>.json`, `nodes/node-<k>.json`),
 * and the names earlier versions wrote still read.
 */
import { describe, expect, it } from "vitest";

import {
  isTrackerFile,
  metricsFile,
  nodeFilePath,
  nodeOfNodeFileName,
  outputLogFile,
  rankFilePath,
  rankOfRankFileName,
  rankSystemLogFile,
  systemLogFile,
  systemLogsAmong,
} from "../src/experiment/layout.js";

describe("experiment folder layout", () => {
  it("the main rank and node 0 write the plain names; other processes <stem>.<rank-r|node-k>.<ext>", () => {
    expect([metricsFile(null), metricsFile(0), metricsFile(3)]).toEqual(["metrics.jsonl", "metrics.jsonl", "metrics.rank-3.jsonl"]);
    expect([rankSystemLogFile(null), rankSystemLogFile(2)]).toEqual(["system.jsonl", "system.rank-2.jsonl"]);
    expect([systemLogFile(0), systemLogFile(1)]).toEqual(["system.jsonl", "system.node-1.jsonl"]);
    expect([outputLogFile(0), outputLogFile(12)]).toEqual(["output.log", "output.node-12.log"]);
    expect([rankFilePath(5), nodeFilePath(1)]).toEqual(["ranks/rank-5.json", "nodes/node-1.json"]);
  });

  it("reads what it writes and what earlier versions wrote", () => {
    expect(nodeOfNodeFileName("node-3.json")).toBe(3);
    expect(nodeOfNodeFileName("3-gpu-node-07.json")).toBe(3); // <k>-<host>.json, as 0.1.0 wrote
    expect(nodeOfNodeFileName("notes.json")).toBeNull();
    expect(rankOfRankFileName("rank-7.json")).toBe(7);
    expect(rankOfRankFileName("rank-x.json")).toBeNull();
    expect(systemLogsAmong(["system.node-2.jsonl", "metrics.jsonl", "system.node1.jsonl", "system.jsonl", "system.rank-4.jsonl", "system.nodeX.jsonl"])).toEqual([
      { name: "system.jsonl", node: 0, rank: null },
      { name: "system.node-2.jsonl", node: 2, rank: null },
      { name: "system.node1.jsonl", node: 1, rank: null },
      { name: "system.rank-4.jsonl", node: null, rank: 4 },
    ]);
  });

  it("overwrite moves every file a run wrote, per-node output logs included, and nothing else", () => {
    for (const name of ["config.json", "status.json", "results.json", "metrics.rank-3.jsonl", "system.node1.jsonl", "output.log", "output.node-1.log", "output.node1.log", "ranks", "nodes"]) {
      expect(isTrackerFile(name), name).toBe(true);
    }
    for (const name of ["train.py", "ckpt", "notes.json", ".previous", "output.txt"]) expect(isTrackerFile(name), name).toBe(false);
  });
});
