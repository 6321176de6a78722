/**
 * Multi-node jobs: one wrapper per node (`srun config-tracker run ... -- torchrun ...`), all
 * writing into one experiment folder on shared storage. Node 0 writes the run's files; every node
 * keeps its own node file (which ranks run there, with their pids) up to date, and its own system
 * log. Which node this is comes from the environment.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

import { NODES_FOLDER, nodeFilePath, systemLogFile } from "../experiment/layout.js";
import type { NodeRecord } from "../experiment/nodes.js";
import { ensureSubfolderSync, writeFileAtomicSync } from "../io/atomic-write.js";

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

/** This node's file in nodes/, rewritten whenever what it says changes. */
export class NodeFile {
  readonly record: NodeRecord;
  readonly #path: string;
  readonly #knownRanks = new Map<number, { rank: number; local_rank: number | null }>();

  constructor(
    readonly dir: string,
    node: NodeIdentity,
    details: { started: number; command: string[]; env: NodeJS.ProcessEnv; gpus: NodeRecord["gpus"] },
  ) {
    this.#path = join(dir, nodeFilePath(node.rank));
    this.record = {
      node_rank: node.rank,
      node_count: node.count,
      host: hostname(),
      wrapper_pid: process.pid,
      child_pid: null,
      started_at: new Date(details.started).toISOString(),
      ended_at: null,
      status: "running",
      command: details.command,
      cuda_visible_devices: details.env.CUDA_VISIBLE_DEVICES ?? null,
      gpus: details.gpus,
      system_file: systemLogFile(node.rank),
      ranks: [],
    };
  }

  /** Creates nodes/ and writes the file for the first time. */
  async create(): Promise<void> {
    ensureSubfolderSync(this.dir, NODES_FOLDER);
    this.write();
  }

  write(): void {
    try {
      writeFileAtomicSync(this.#path, `${JSON.stringify(this.record, null, 2)}\n`, { durable: false });
    } catch {
      // the node file is a courtesy to readers: never a reason to stop the run
    }
  }

  /** Looks for ranks of the job (RANK in their environment) among `pids`; rewrites the file on news. */
  noteRanksAmong(pids: number[]): void {
    let changed = false;
    for (const pid of pids) {
      if (this.#knownRanks.has(pid)) continue;
      const rank = rankOfProcess(pid);
      if (rank) {
        this.#knownRanks.set(pid, rank);
        changed = true;
      }
    }
    if (!changed) return;
    this.record.ranks = [...this.#knownRanks.entries()].map(([pid, rank]) => ({ ...rank, pid })).sort((a, b) => a.rank - b.rank);
    this.write();
  }

  /** The node's end: its status and how its command ended. */
  end(status: string, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    this.record.status = status;
    this.record.ended_at = new Date().toISOString();
    if (exit.code !== null) this.record.exit_code = exit.code;
    if (exit.signal !== null) this.record.signal = exit.signal;
    this.write();
  }
}
