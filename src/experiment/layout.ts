/**
 * The experiment folder: every file and folder a run writes there, and the per-rank / per-node
 * variants. Every other module takes its names from here.
 *
 *   config.json  status.json  results.json      the run (main rank, or node 0 under `run`)
 *   metrics.jsonl  checkpoints.jsonl             appended while it runs
 *   system.jsonl  output.log                     samples; the wrapped command's output
 *   ranks/rank-<r>.json                          one per process of a distributed job
 *   metrics.rank-<r>.jsonl  system.rank-<r>.jsonl another rank's metrics (allRanks) / samples
 *   nodes/<k>-<host>.json                        one per node under `config-tracker run`
 *   system.node<k>.jsonl  output.node<k>.log     node k's samples and output
 *   .previous/<time>/                            a run moved aside by mode "overwrite"
 */
import { join } from "node:path";

export const CONFIG_FILE = "config.json";
export const STATUS_FILE = "status.json";
export const RESULTS_FILE = "results.json";
export const METRICS_FILE = "metrics.jsonl";
export const CHECKPOINTS_FILE = "checkpoints.jsonl";
export const SYSTEM_FILE = "system.jsonl";
export const OUTPUT_FILE = "output.log";
export const RANKS_FOLDER = "ranks";
export const NODES_FOLDER = "nodes";
export const PREVIOUS_FOLDER = ".previous";

/** metrics.jsonl of the main rank (rank null or 0), else metrics.rank-<r>.jsonl. */
export const metricsFile = (rank: number | null): string => (rank === null || rank === 0 ? METRICS_FILE : `metrics.rank-${rank}.jsonl`);

/** The system log a process samples into: the main rank's system.jsonl, or system.rank-<r>.jsonl. */
export const rankSystemLogFile = (rank: number | null): string => (rank === null || rank === 0 ? SYSTEM_FILE : `system.rank-${rank}.jsonl`);

/** The system log of node `node` under `config-tracker run` (node 0: system.jsonl). */
export const systemLogFile = (node: number): string => (node === 0 ? SYSTEM_FILE : `system.node${node}.jsonl`);

/** The output log of node `node` under `config-tracker run` (node 0: output.log). */
export const outputLogFile = (node: number): string => (node === 0 ? OUTPUT_FILE : `output.node${node}.log`);

/** ranks/rank-<r>.json, relative to the experiment folder. */
export const rankFilePath = (rank: number): string => join(RANKS_FOLDER, `rank-${rank}.json`);

/** nodes/<k>-<host>.json, relative to the experiment folder. */
export const nodeFilePath = (node: number, host: string): string => join(NODES_FOLDER, `${node}-${host.replace(/[^\w.-]/g, "_")}.json`);

/** Whether a name in ranks/ is a rank file. */
export const isRankFileName = (name: string): boolean => /^rank-\d+\.json$/.test(name);

/** The node a name in nodes/ is the file of (null: not a node file). */
export function nodeOfNodeFileName(name: string): number | null {
  const match = /^(\d+)-.*\.json$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/** The node a system log in the folder is of (system.jsonl: 0), null for other names. */
export function nodeOfSystemLog(name: string): number | null {
  if (name === SYSTEM_FILE) return 0;
  const match = /^system\.node(\d+)\.jsonl$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/** The files a run writes into its folder (what overwrite moves away; the user's files stay). */
export function isTrackerFile(name: string): boolean {
  return (
    /^(config|results|status)\.json$/.test(name) ||
    /^(metrics|checkpoints|system)(\.[\w-]+)?\.jsonl$/.test(name) ||
    name === OUTPUT_FILE ||
    name === RANKS_FOLDER ||
    name === NODES_FOLDER
  );
}
