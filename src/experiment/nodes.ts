/**
 * nodes/: one file per node of a run that `config-tracker run` wrapped on several nodes (which
 * ranks ran there, with their pids, and how the node's command ended). src/run/node-record.ts
 * writes them.
 */
import { join } from "node:path";

import { NODES_FOLDER } from "./layout.js";
import { readRecordFolder, type RecordProblem } from "./record-files.js";
import type { Shape } from "./record-shape.js";

/** A node file: one node of a run. */
export interface NodeRecord {
  node_rank: number;
  node_count: number | null;
  host: string;
  wrapper_pid: number;
  child_pid: number | null;
  started_at: string;
  ended_at: string | null;
  status: string;
  exit_code?: number;
  signal?: string;
  command: string[];
  cuda_visible_devices: string | null;
  gpus: Array<{ index: number; uuid: string | null; name: string | null }>;
  system_file: string;
  /** Processes of this node's tree that are ranks of the job (RANK in their environment). */
  ranks: Array<{ rank: number; local_rank: number | null; pid: number }>;
}

/** A node's file as readers use it. */
const NODE_SHAPE: Shape = {
  node_rank: "count",
  node_count: "count|null?",
  host: "string",
  wrapper_pid: "count",
  child_pid: "count|null",
  started_at: "string",
  ended_at: "string|null",
  status: "string",
  exit_code: "integer?",
  signal: "string?",
  command: "strings",
  cuda_visible_devices: "string|null",
  gpus: { list: { index: "count", uuid: "string|null", name: "string|null" } },
  system_file: "string",
  ranks: { list: { rank: "count", local_rank: "count|null", pid: "count" } },
};

/**
 * Every node file of a run, by node rank. One that cannot be used (being rewritten, not a node's
 * record) goes to `onProblem` when given, and is left out.
 */
export function readNodeFiles(dir: string, onProblem: (problem: RecordProblem) => void = () => {}): NodeRecord[] {
  const records = readRecordFolder<NodeRecord>(join(dir, NODES_FOLDER), (name) => name.endsWith(".json"), NODE_SHAPE, onProblem);
  return records.sort((a, b) => a.node_rank - b.node_rank);
}
