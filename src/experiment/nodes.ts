/**
 * Multi-node jobs under `config-tracker run`: one wrapper per node (`srun config-tracker run ...
 * -- torchrun ...`), all writing into one experiment folder on shared storage. Node 0 writes the
 * run's files; every node writes nodes/<rank>-<host>.json (which ranks run there, with their
 * pids) and its own system log.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { NODES_FOLDER } from "./layout.js";

export interface NodeIdentity {
  /** The node's index in the job; 0 on a single node. */
  rank: number;
  /** How many nodes, when the environment says. */
  count: number | null;
  /** Where the rank came from, null on a single node. */
  source: "SLURM_NODEID" | "NODE_RANK" | "GROUP_RANK" | null;
}

function integer(value: string | undefined): number | null {
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : null;
}

/** The wrapper's node rank: SLURM_NODEID, NODE_RANK or GROUP_RANK (the first set). */
export function nodeFromEnv(env: NodeJS.ProcessEnv): NodeIdentity {
  const count = integer(env.SLURM_NNODES) ?? integer(env.SLURM_JOB_NUM_NODES) ?? integer(env.NNODES);
  for (const name of ["SLURM_NODEID", "NODE_RANK", "GROUP_RANK"] as const) {
    const rank = integer(env[name]);
    if (rank !== null) return { rank, count, source: name };
  }
  return { rank: 0, count, source: null };
}


/** RANK and LOCAL_RANK of a process, from /proc/<pid>/environ (null when it has none or is gone). */
export function rankOfProcess(pid: number): { rank: number; local_rank: number | null } | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return null;
  }
  const vars = new Map<string, string>();
  for (const entry of environ.split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) vars.set(entry.slice(0, at), entry.slice(at + 1));
  }
  const rank = integer(vars.get("RANK"));
  if (rank === null) return null;
  return { rank, local_rank: integer(vars.get("LOCAL_RANK")) };
}

/** nodes/<k>-<host>.json: one node of a run (written by `config-tracker run`). */
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
