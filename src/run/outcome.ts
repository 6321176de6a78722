/**
 * How a run ended: from how its command exited and the signals the wrapper passed on, from the
 * other nodes of a multi-node job, and what results.json says beyond the metrics (exit code or
 * signal, duration, the system summary over every node, throughput and MFU).
 */
import { readdirSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";

import { NODES_FOLDER, nodeOfNodeFileName, systemLogsAmong } from "../experiment/layout.js";
import { readNodeFiles } from "../experiment/nodes.js";
import { readRegularFile } from "../io/read-file.js";
import { MAX_JSON_BYTES, type JsonValue } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";
import { readSystemLog } from "../system/system-log.js";
import { SystemSummary, type SystemSummaryResult } from "../system/system-summary.js";
import { computeThroughput, sequenceLengthFrom } from "../system/throughput.js";
import type { ChildExit } from "./child.js";

export interface Outcome {
  status: "finished" | "failed" | "interrupted";
  error?: string;
  exit_code?: number;
  signal?: string;
}

/**
 * The outcome of the command. A signal the wrapper passed on makes the run interrupted, however
 * the command then ended (a trainer that saves a checkpoint and exits 0 on SIGTERM was still
 * stopped early).
 */
export function outcomeOf(exit: ChildExit, received: NodeJS.Signals | null): Outcome {
  if (received !== null) return { status: "interrupted", signal: exit.signal ?? received, ...(exit.code === null ? {} : { exit_code: exit.code }) };
  if (exit.signal !== null) return { status: "failed", signal: exit.signal, error: `the command was killed by ${exit.signal}` };
  if (exit.code === 0) return { status: "finished", exit_code: 0 };
  return { status: "failed", exit_code: exit.code as number, error: `the command exited with code ${exit.code}` };
}

/** A folder as the user would type it: relative to the current one when inside it, else absolute. */
export function shownFolder(dir: string): string {
  const inside = relative(process.cwd(), dir);
  return inside === "" ? "." : inside.startsWith("..") || isAbsolute(inside) ? dir : inside;
}

/**
 * The two lines `config-tracker run` writes on stderr around its command: where it records when
 * it starts, and how the run ended when it ends (a sweep leaves them out of a run's last words).
 */
const STATUS_LINE = "config-tracker run: ";

export function recordingLine(dir: string, resumes: number): string {
  return `${STATUS_LINE}recording in ${shownFolder(dir)}${resumes > 0 ? ` (resumed: session ${resumes + 1})` : ""}`;
}

export function endedLine(
  run: { dir: string; status: string; started: boolean; exit_code: number | null; signal: string | null; error: string | null },
  seconds: number,
): string {
  const how = run.signal !== null ? `by ${run.signal}` : run.started ? `exit ${run.exit_code}` : (run.error ?? "not started");
  return `${STATUS_LINE}${run.status} (${how}) after ${seconds.toFixed(1)} s; recorded in ${shownFolder(run.dir)}`;
}

/**
 * Node 0's view of the other nodes: a warning for each that did not finish, and the run failed
 * when one failed or was interrupted while this one finished.
 */
export function judgeOtherNodes(dir: string, node: number, outcome: Outcome): { outcome: Outcome; warnings: string[] } {
  const warnings: string[] = [];
  let judged = outcome;
  for (const other of readNodeFiles(dir)) {
    if (other.node_rank === node || other.status === "finished") continue;
    if (other.status === "running") {
      warnings.push(`node ${other.node_rank} (${other.host}) was still running when node ${node} ended`);
      continue;
    }
    const how = other.exit_code != null ? `exit code ${other.exit_code}` : other.signal ? `signal ${other.signal}` : other.status;
    warnings.push(`node ${other.node_rank} (${other.host}) ended ${other.status} (${how})`);
    if (judged.status === "finished") judged = { status: "failed", error: `node ${other.node_rank} (${other.host}) ${other.status}: ${how}` };
  }
  return { outcome: judged, warnings };
}

/** How long node 0 waits for the other nodes to write their last samples. */
const OTHER_NODES_WAIT_MS = 15_000;

/** Node 0's summary over every node's system log (waiting a little for the other nodes to end). */
export async function summariseSystem(
  dir: string,
  node: number,
  local: SystemSummary,
  gpuUnavailableReason: string | null,
): Promise<SystemSummaryResult> {
  let nodeFiles: string[] = [];
  try {
    nodeFiles = readdirSync(join(dir, NODES_FOLDER)).filter((name) => name.endsWith(".json"));
  } catch {
    // no node files
  }
  const others = nodeFiles.filter((name) => nodeOfNodeFileName(name) !== node);
  if (others.length === 0) return local.result(gpuUnavailableReason);
  // Other nodes end about when this one does; give them a moment to write their last samples.
  const deadline = Date.now() + OTHER_NODES_WAIT_MS;
  while (Date.now() < deadline) {
    const records = readNodeFiles(dir);
    const ended = others.every((name) => records.some((record) => nodeOfNodeFileName(name) === record.node_rank && record.ended_at !== null));
    if (ended) break;
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  const all = new SystemSummary();
  for (const log of systemLogsAmong(readdirSync(dir)).filter((found) => found.node !== null)) {
    for await (const sample of readSystemLog(join(dir, log.name))) all.add(sample, typeof sample.node === "number" ? sample.node : 0);
  }
  return all.result(gpuUnavailableReason);
}

/** What config.json holds at the end (the model the first checkpoint filled in), read as plain JSON. */
export async function configAtEnd(configPath: string): Promise<{ config?: Record<string, unknown>; model?: Record<string, unknown> } | null> {
  // Not through the schema: loading zod at the very end would add to the wrapper's wall time.
  try {
    return parsePythonJson(readRegularFile(configPath, MAX_JSON_BYTES).text) as { config?: Record<string, unknown>; model?: Record<string, unknown> };
  } catch {
    return null;
  }
}

export interface RunFacts {
  exit: ChildExit;
  durationSeconds: number;
  system: SystemSummaryResult;
  /** config.json at the end (configAtEnd). */
  config: Awaited<ReturnType<typeof configAtEnd>>;
  /** The GPUs this node's command could use, by name. */
  gpuNames: Array<string | null>;
  /** The parameter count of the last checkpoint recorded, when config.json has no model. */
  checkpointParameters: number | null;
  warnings: string[];
}

/** results.json's keys beyond the metrics, from the final metrics (throughput needs tokens/s). */
export function resultsOfRun(facts: RunFacts, finalMetrics: Record<string, JsonValue>): Record<string, unknown> {
  const { config, system } = facts;
  // The model: config.json's (a checkpoint read by --model or recorded during the run), else
  // what the config itself says (--set model.num_parameters=...).
  const fromConfig = (config?.config?.model ?? {}) as Record<string, unknown>;
  const model = { ...fromConfig, ...((config?.model ?? {}) as Record<string, unknown>) };
  const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : null);
  const tokensPerSecond = number(finalMetrics.tokens_per_second);
  const layers = number(model.num_layers) ?? number(model.n_layer);
  const dModel = number(model.d_model) ?? number(model.n_embd) ?? number(model.hidden_size);
  const allGpuNames = system.nodes > 1 ? system.gpus.map((gpu) => gpu.name) : facts.gpuNames;
  return {
    exit_code: facts.exit.code,
    signal: facts.exit.signal,
    duration_seconds: Math.round(facts.durationSeconds * 1000) / 1000,
    system,
    throughput: computeThroughput({
      tokensPerSecond,
      parameters: number(model.num_parameters) ?? facts.checkpointParameters,
      layers,
      dModel,
      seqLen: sequenceLengthFrom((config?.config ?? {}) as Record<string, unknown>, number(model.max_seq_len)),
      gpuNames: allGpuNames,
    }),
    ...(facts.warnings.length === 0 ? {} : { warnings: facts.warnings }),
  };
}
