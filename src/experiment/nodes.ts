/**
 * nodes/: one file per node of a run that `config-tracker run` wrapped on several nodes (which
 * ranks ran there, with their pids, and how the node's command ended). src/run/node-record.ts
 * writes them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { NODES_FOLDER } from "./layout.js";

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

/** Every node file of a run, by node rank (one being rewritten is skipped). */
export function readNodeFiles(dir: string): NodeRecord[] {
  let names: string[] = [];
  try {
    names = readdirSync(join(dir, NODES_FOLDER)).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const records: NodeRecord[] = [];
  for (const name of names) {
    try {
      records.push(JSON.parse(readFileSync(join(dir, NODES_FOLDER, name), "utf8")) as NodeRecord);
    } catch {
      // being rewritten: skipped
    }
  }
  return records.sort((a, b) => a.node_rank - b.node_rank);
}
