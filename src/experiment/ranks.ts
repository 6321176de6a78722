/**
 * Distributed jobs: which process this is (rank, local rank, node), from the variables the
 * launcher sets, and the per-rank record `ranks/rank-<rank>.json` that every rank writes, so a
 * job across different nodes shows what each process saw.
 */
import { hostname } from "node:os";
import { join } from "node:path";

import { ensureSubfolderSync, writeFileAtomicSync } from "../io/atomic-write.js";
import type { HardwareInfo } from "../schema.js";
import { hardwareSummary } from "./config-store.js";
import { rankFilePath, rankOfRankFileName, RANKS_FOLDER } from "./layout.js";
import { readRecordFolder, type RecordProblem } from "./record-files.js";
import type { Shape } from "./record-shape.js";


export interface RankInfo {
  rank: number;
  world_size: number;
  local_rank: number | null;
  local_world_size: number | null;
  /** The node's index in the job (torchrun GROUP_RANK, NODE_RANK, SLURM_NODEID). */
  node_rank: number | null;
  /** Which launcher's variables these came from. */
  launcher: "torchrun" | "slurm" | "mpi";
}

function integer(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

const first = (...values: Array<number | null>) => values.find((value) => value !== null) ?? null;

/**
 * The rank of the process whose environment this is, or null outside a distributed job (no
 * variables, or a world of one). torchrun's RANK / WORLD_SIZE win over SLURM's (a torchrun
 * inside an srun step sets both, and its ranks are the processes'), then Open MPI's / PMI's.
 */
export function rankFromEnv(env: NodeJS.ProcessEnv): RankInfo | null {
  const nodeRank = first(integer(env.GROUP_RANK), integer(env.NODE_RANK), integer(env.SLURM_NODEID));
  const candidates: Array<[RankInfo["launcher"], number | null, number | null, number | null, number | null]> = [
    ["torchrun", integer(env.RANK), integer(env.WORLD_SIZE), integer(env.LOCAL_RANK), integer(env.LOCAL_WORLD_SIZE)],
    ["slurm", integer(env.SLURM_PROCID), integer(env.SLURM_NTASKS), integer(env.SLURM_LOCALID), integer(env.SLURM_NTASKS_PER_NODE)],
    [
      "mpi",
      first(integer(env.OMPI_COMM_WORLD_RANK), integer(env.PMI_RANK)),
      first(integer(env.OMPI_COMM_WORLD_SIZE), integer(env.PMI_SIZE)),
      integer(env.OMPI_COMM_WORLD_LOCAL_RANK),
      integer(env.OMPI_COMM_WORLD_LOCAL_SIZE),
    ],
  ];
  for (const [launcher, rank, worldSize, localRank, localWorldSize] of candidates) {
    if (rank === null || worldSize === null) continue;
    if (worldSize <= 1 || rank >= worldSize) return null;
    return { rank, world_size: worldSize, local_rank: localRank, local_world_size: localWorldSize, node_rank: nodeRank, launcher };
  }
  return null;
}

/** ranks/rank-<r>.json. */
export interface RankRecord extends RankInfo {
  host: string;
  pid: number;
  started_at: string;
  ended_at: string | null;
  status: string;
  cuda_visible_devices: string | null;
  /** The GPUs this rank may use, as CUDA numbers them for it. */
  gpus: Array<{ index: number; nvml_index: number; uuid: string | null; name: string | null; memory_total_bytes: number | null }>;
  hardware: Record<string, unknown>;
}

/** A rank's file as readers use it. */
const RANK_SHAPE: Shape = {
  rank: "count",
  world_size: "count",
  local_rank: "count|null?",
  local_world_size: "count|null?",
  node_rank: "count|null?",
  launcher: "string?",
  host: "string",
  pid: "count",
  started_at: "string",
  ended_at: "string|null",
  status: "string",
  cuda_visible_devices: "string|null",
  gpus: { list: { index: "count", nvml_index: "count?", uuid: "string|null", name: "string|null", memory_total_bytes: "count|null?" } },
  hardware: "object",
};

/**
 * Every rank file of an experiment, by rank. A file that cannot be read or is not a rank's record
 * goes to `onProblem` and is left out; without it, it is an error (INVALID_FILE naming file and key).
 */
export async function loadRankFiles(experimentDir: string, onProblem?: (problem: RecordProblem) => void): Promise<RankRecord[]> {
  const records = readRecordFolder<RankRecord>(join(experimentDir, RANKS_FOLDER), (name) => rankOfRankFileName(name) !== null, RANK_SHAPE, onProblem);
  return records.sort((a, b) => a.rank - b.rank);
}

/** This process's ranks/rank-<r>.json: written when its run starts, rewritten when it ends. */
export class RankFile {
  #record: RankRecord | undefined;
  readonly #path: string;

  constructor(
    readonly experimentDir: string,
    readonly rank: RankInfo,
  ) {
    this.#path = join(experimentDir, rankFilePath(rank.rank));
  }

  /** Whether it says `running` (written, and not ended yet). */
  get running(): boolean {
    return this.#record?.status === "running";
  }

  /** The rank's record: where it runs and what it sees; `running`. */
  start(hardware: HardwareInfo): void {
    const now = new Date().toISOString();
    this.#record = {
      ...this.rank,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      ended_at: null,
      status: "running",
      cuda_visible_devices: hardware.cuda_visible_devices,
      gpus: hardware.gpus.map((gpu) => ({
        index: gpu.index,
        nvml_index: gpu.nvml_index,
        uuid: gpu.uuid,
        name: gpu.name,
        memory_total_bytes: gpu.memory_total_bytes,
      })),
      hardware: {
        ...hardwareSummary(hardware, hostname()),
        cpu_count: hardware.cpu_count,
        memory_total_bytes: hardware.memory_total_bytes,
        host_gpu_count: hardware.host_gpu_count,
      },
    };
    ensureSubfolderSync(this.experimentDir, RANKS_FOLDER);
    writeFileAtomicSync(this.#path, `${JSON.stringify(this.#record, null, 2)}\n`, { durable: false });
  }

  /** The rank's end (best effort: it is written at the end of a process). */
  end(status: string): void {
    const record = this.#record;
    if (record === undefined) return;
    record.status = status;
    record.ended_at = new Date().toISOString();
    try {
      writeFileAtomicSync(this.#path, `${JSON.stringify(record, null, 2)}\n`, { durable: false });
    } catch {
      // best effort at the end of a process
    }
  }
}
