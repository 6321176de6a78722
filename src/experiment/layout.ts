/**
 * The experiment folder: every file and folder a run writes there, and the per-rank / per-node
 * variants. Every other module takes its names from here.
 *
 *   config.json  status.json  results.json   the run (main rank; node 0 under `config-tracker run`)
 *   metrics.jsonl  checkpoints.jsonl          appended while it runs
 *   system.jsonl                              samples (config-tracker run, sampleSystem)
 *   output.log                                the command's output (config-tracker run)
 *   ranks/  nodes/                            a record per process of a distributed job, per node
 *   notes.json                                a note and tags (config-tracker ui)
 *   .previous/<time>/                         a run moved aside by mode "overwrite"
 *
 * One scheme names what belongs to one process of a job: the process is `rank-<r>` (a rank of a
 * distributed job) or `node-<k>` (node k's `config-tracker run` wrapper); its copy of a file
 * `<stem>.<ext>` is `<stem>.<process>.<ext>` (metrics.rank-3.jsonl, system.node-1.jsonl,
 * output.node-1.log), its record is `ranks/<process>.json` or `nodes/<process>.json`. The names
 * earlier versions wrote are still read: system.node<k>.jsonl, output.node<k>.log,
 * nodes/<k>-<host>.json.
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
/** A note and tags a person gives the run (config-tracker ui). */
export const NOTES_FILE = "notes.json";

/** The most status.json, a rank's or a node's file holds: a few KB as a tracker writes them. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** The most files read from ranks/ or nodes/. */
export const MAX_RECORD_FILES = 4096;
/** The most checkpoints.jsonl holds (a line per checkpoint: hundreds of thousands). */
export const MAX_CHECKPOINTS_BYTES = 64 * 1024 * 1024;

/** A process of a job, as its files are named. */
const rankTag = (rank: number) => `rank-${rank}`;
const nodeTag = (node: number) => `node-${node}`;

/** `<stem>.<process>.<ext>`: a process's own copy of the file `<stem>.<ext>`. */
const ownCopy = (file: string, process: string) => file.replace(/(\.[a-z]+)$/, `.${process}$1`);

/** metrics.jsonl for the main rank (rank null or 0), else metrics.rank-<r>.jsonl. */
export const metricsFile = (rank: number | null): string =>
  rank === null || rank === 0 ? METRICS_FILE : ownCopy(METRICS_FILE, rankTag(rank));

/** The log of a process that samples itself (sampleSystem): system.jsonl for the main rank, else system.rank-<r>.jsonl. */
export const rankSystemLogFile = (rank: number | null): string =>
  rank === null || rank === 0 ? SYSTEM_FILE : ownCopy(SYSTEM_FILE, rankTag(rank));

/** The system log of node `node` under `config-tracker run` (node 0: system.jsonl). */
export const systemLogFile = (node: number): string => (node === 0 ? SYSTEM_FILE : ownCopy(SYSTEM_FILE, nodeTag(node)));

/** The output log of node `node` under `config-tracker run` (node 0: output.log). */
export const outputLogFile = (node: number): string => (node === 0 ? OUTPUT_FILE : ownCopy(OUTPUT_FILE, nodeTag(node)));

/** ranks/rank-<r>.json, relative to the experiment folder. */
export const rankFilePath = (rank: number): string => join(RANKS_FOLDER, `${rankTag(rank)}.json`);

/** nodes/node-<k>.json, relative to the experiment folder. */
export const nodeFilePath = (node: number): string => join(NODES_FOLDER, `${nodeTag(node)}.json`);

/** The rank whose file a name in ranks/ is (null: not a rank file). */
export function rankOfRankFileName(name: string): number | null {
  const match = /^rank-(\d+)\.json$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/** The node whose file a name in nodes/ is: node-<k>.json, or <k>-<host>.json as written before (null: neither). */
export function nodeOfNodeFileName(name: string): number | null {
  const match = /^node-(\d+)\.json$/.exec(name) ?? /^(\d+)-.*\.json$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/** A system log in the folder, and whose samples it holds. */
export interface SystemLogName {
  name: string;
  /** The node of a node's log (system.jsonl: 0); null for a rank's. */
  node: number | null;
  /** The rank of a rank's log (sampleSystem on a rank other than 0); null for a node's. */
  rank: number | null;
}

/** The system logs among a folder's names (system.node<k>.jsonl as written before included), sorted by name. */
export function systemLogsAmong(names: string[]): SystemLogName[] {
  const logs: SystemLogName[] = [];
  for (const name of names) {
    if (name === SYSTEM_FILE) {
      logs.push({ name, node: 0, rank: null });
      continue;
    }
    const match = /^system\.(?:(node)-?|rank-)(\d+)\.jsonl$/.exec(name);
    if (match === null) continue;
    const number = Number(match[2]);
    logs.push(match[1] === "node" ? { name, node: number, rank: null } : { name, node: null, rank: number });
  }
  return logs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether a name is a node's system log: system.jsonl, system.node-<k>.jsonl (system.node<k>.jsonl as written before). */
export const isNodeSystemLog = (name: string): boolean => /^system(\.node-?\d+)?\.jsonl$/.test(name);

/** Whether a name is a node's output log: output.log, output.node-<k>.log (output.node<k>.log as written before). */
export const isOutputLog = (name: string): boolean => /^output(\.node-?\d+)?\.log$/.test(name);

/** The files a run writes into its folder (what overwrite moves away; the user's files stay). */
export function isTrackerFile(name: string): boolean {
  return (
    /^(config|results|status)\.json$/.test(name) ||
    /^(metrics|checkpoints|system)(\.[\w-]+)?\.jsonl$/.test(name) ||
    /^output(\.[\w-]+)?\.log$/.test(name) ||
    name === RANKS_FOLDER ||
    name === NODES_FOLDER
  );
}
