/**
 * `config-tracker show`: one run on one page, in the order people ask: what is it and did it
 * work, where and on what it ran, the model and data, the results, then the details (resumes,
 * ranks and nodes, what the GPUs did, checkpoints). Absent parts say so in a word.
 */
import { formatBytes, forTerminal, oneLine } from "../text.js";
import type { MeanMax, SystemSummaryResult } from "../system/system-summary.js";
import { formatValue } from "./diff-runs.js";
import type { LoadedRun } from "./load-run.js";
import { formatCount, formatDuration, formatGit, formatNumber, runFacts, type RunFacts } from "./run-facts.js";

export interface RunDetails extends RunFacts {
  config: LoadedRun["config"];
  results: LoadedRun["results"];
  state: LoadedRun["state"];
  files: LoadedRun["files"];
  final_metrics_from: LoadedRun["finalMetricsFrom"];
  checkpoints: LoadedRun["checkpoints"];
  ranks: LoadedRun["ranks"];
  nodes: LoadedRun["nodes"];
  system: SystemSummaryResult | null;
}

/** Everything show prints, as data (show --json). */
export async function runDetails(run: LoadedRun): Promise<RunDetails> {
  const system = await run.systemSummary().catch((error: unknown) => {
    run.warnings.push((error as Error).message);
    return null;
  });
  return {
    ...runFacts(run),
    config: run.config,
    results: run.results,
    state: run.state,
    files: run.files,
    final_metrics_from: run.finalMetricsFrom,
    checkpoints: run.checkpoints,
    ranks: run.ranks,
    nodes: run.nodes,
    system,
  };
}

const n = (value: number) => value.toLocaleString("en-US");
const line = (label: string, text: string) => `${label.padEnd(12)}${text}`;
const indent = (text: string) => `  ${text}`;
const meanMax = (value: unknown, unit: string, scale = 1): string | null => {
  if (typeof value !== "object" || value === null) return null;
  const { mean, max } = value as MeanMax;
  return `${formatNumber(Math.round((mean / scale) * 10) / 10)}${unit} mean, ${formatNumber(Math.round((max / scale) * 10) / 10)}${unit} max`;
};

function statusText(details: RunDetails): string {
  const state = details.state;
  if (state === null) return details.results !== null ? "finished (no status.json: results.json is there)" : "unknown (no status.json)";
  const parts: string[] = [state.status];
  if (state.status === "lost" && state.lost_reason) parts.push(`(${state.lost_reason})`);
  if (state.exit_code !== undefined) parts.push(`(exit ${state.exit_code})`);
  if (state.signal) parts.push(`(by ${state.signal})`);
  if (typeof state.last_step === "number") parts.push(`at step ${n(state.last_step)}`);
  return `${parts.join(" ")}${state.error ? `: ${state.error}` : ""}`;
}

/** "1 node", "2 nodes". */
const count = (value: number, noun: string) => `${n(value)} ${noun}${value === 1 ? "" : "s"}`;

export function formatRunPage(details: RunDetails): string {
  const config = details.config;
  const out: string[] = [];
  out.push(line("run", details.name === details.id ? details.id : `${details.name} (experiment ${details.id})`));
  out.push(line("folder", details.dir));
  out.push(line("status", statusText(details)));
  const ended = details.state?.ended_at ?? null;
  out.push(
    line(
      "time",
      `started ${config.timestamp}${ended ? `, ended ${ended}` : ""}, ${formatDuration(details.duration_seconds)}${
        details.state?.status === "running" ? " so far" : ""
      }`,
    ),
  );

  const git = config.git;
  out.push(
    line(
      "git",
      git
        ? git.commit === null
          ? `none (${git.error ?? "not a repository"})`
          : `${formatGit(details.git)}${git.branch ? ` on ${git.branch}` : " (detached)"}${git.dirty ? ", uncommitted changes" : ""}${
              git.remote_url ? `, ${git.remote_url}` : ""
            }`
        : config.git_hash ?? "none",
    ),
  );
  const command = (config as { command?: { argv?: unknown } }).command;
  if (Array.isArray(command?.argv)) out.push(line("command", command.argv.map(String).join(" ")));

  const hw = config.hardware;
  const host = config.environment?.hostname ?? details.state?.host ?? null;
  out.push(line("host", `${host ?? "unknown"}${hw.cpu_count ? `, ${hw.cpu_count} CPUs` : ""}${hw.memory_total_bytes ? `, ${formatBytes(hw.memory_total_bytes)}` : ""}`));
  if (hw.gpu_available === false || !hw.gpu_count) {
    out.push(line("gpus", `none${hw.gpu_unavailable_reason ? ` (${hw.gpu_unavailable_reason})` : ""}`));
  } else {
    out.push(
      line(
        "gpus",
        `${hw.gpu_model ?? "unknown"} x${hw.gpu_count}${details.gpu.nodes > 1 ? ` per node, ${details.gpu.nodes} nodes` : ""}` +
          `, driver ${hw.driver_version ?? "unknown"}, CUDA ${hw.cuda_version ?? "unknown"}` +
          (hw.cuda_visible_devices != null ? `, CUDA_VISIBLE_DEVICES=${hw.cuda_visible_devices}` : ""),
      ),
    );
  }
  out.push(
    line(
      "software",
      [
        hw.torch_version ? `torch ${hw.torch_version}${hw.torch_cuda_version ? ` (CUDA ${hw.torch_cuda_version})` : " (CPU build)"}` : "torch unknown",
        hw.python_version ? `Python ${hw.python_version}` : null,
        hw.node_version ? `Node ${hw.node_version}` : null,
      ]
        .filter((part) => part !== null)
        .join(", "),
    ),
  );

  const model = config.model;
  if (model) {
    const arch = [
      model.num_layers ? `${model.num_layers} layers` : null,
      model.d_model ? `d_model ${model.d_model}` : null,
      model.num_heads ? `${model.num_heads} heads` : null,
    ].filter((part) => part !== null);
    out.push(
      line(
        "model",
        `${model.type}, ${n(model.num_parameters)} parameters (${formatCount(model.num_parameters)}, trainable ${n(model.num_trainable_parameters)})${
          arch.length ? `, ${arch.join(", ")}` : ""
        }`,
      ),
    );
  } else out.push(line("model", "not recorded"));
  out.push(line("dataset", config.dataset === undefined ? "not recorded" : formatValue(config.dataset)));

  const settings = Object.entries(config.config);
  out.push(line("config", settings.length === 0 ? "(empty)" : ""));
  for (const [key, value] of settings) out.push(indent(`${key} = ${formatValue(value)}`));

  const metrics = Object.entries(details.final_metrics);
  if (metrics.length === 0) out.push(line("metrics", details.files.metrics ? "none logged" : "none (no results.json, no metrics.jsonl)"));
  else {
    const latest = details.files.results ? "latest logged (results.json could not be read: see the warning)" : "latest logged (no results.json yet)";
    out.push(line("metrics", details.final_metrics_from === "results" ? "final (results.json)" : latest));
    const width = Math.max(...metrics.map(([name]) => name.length));
    const summary = details.results?.summary ?? {};
    for (const [name, value] of metrics) {
      const s = Object.hasOwn(summary, name) ? summary[name] : undefined;
      const range = s ? `  min ${formatNumber(s.min)}  max ${formatNumber(s.max)}  ${n(s.count)} values to step ${n(s.last_step)}` : "";
      out.push(indent(`${name.padEnd(width)}  ${formatNumber(value).padStart(10)}${range}`));
    }
  }
  const throughput = details.results?.throughput as { mfu?: number | null; mfu_unavailable_reason?: string | null } | undefined;
  if (throughput) {
    out.push(line("mfu", throughput.mfu != null ? `${(throughput.mfu * 100).toFixed(1)}%` : `unknown (${throughput.mfu_unavailable_reason ?? "no reason given"})`));
  }
  const samples = details.results?.generation_samples;
  if (Array.isArray(samples) && samples.length > 0) out.push(line("samples", `${samples.length} (first: ${JSON.stringify(String(samples[0])).slice(0, 80)})`));

  const resumes = config.resumes ?? [];
  out.push(line("resumes", resumes.length === 0 ? "none" : String(resumes.length)));
  for (const resume of resumes) {
    out.push(
      indent(
        `${resume.timestamp}${resume.host ? ` on ${resume.host}` : ""}${resume.from_step !== undefined ? ` from step ${n(resume.from_step)}` : ""}${
          resume.from_checkpoint ? ` (${resume.from_checkpoint})` : ""
        }${resume.changes?.length ? `, changed ${resume.changes.map((change) => change.key).join(", ")}` : ""}`,
      ),
    );
  }

  if (details.ranks.length > 0 || details.nodes.length > 0) {
    const hosts = new Set(details.ranks.map((rank) => rank.host));
    const nodes = count(Math.max(hosts.size, details.nodes.length), "node");
    out.push(details.ranks.length === 0 ? line("nodes", nodes) : line("ranks", `${count(details.ranks.length, "rank")} on ${nodes}`));
    for (const rank of details.ranks) {
      out.push(indent(`rank ${rank.rank}  ${rank.host} pid ${rank.pid}  ${rank.status}  CUDA_VISIBLE_DEVICES=${rank.cuda_visible_devices ?? "(unset)"}`));
    }
    for (const node of details.nodes) {
      out.push(indent(`node ${node.node_rank}  ${node.host}  ${node.status}${node.exit_code !== undefined ? ` (exit ${node.exit_code})` : ""}  ${count(node.gpus.length, "GPU")}`));
    }
  }

  const system = details.system;
  if (system === null) out.push(line("system", details.files.system.length === 0 ? "not sampled (no system.jsonl)" : "unreadable"));
  else {
    out.push(line("system", `${n(system.samples)} samples${system.nodes > 1 ? ` from ${system.nodes} nodes` : ""}${system.gpu_unavailable_reason ? `; no GPU: ${system.gpu_unavailable_reason}` : ""}`));
    for (const gpu of system.gpus) {
      const parts = [
        meanMax(gpu.utilization_gpu_percent, "%") && `util ${meanMax(gpu.utilization_gpu_percent, "%")}`,
        meanMax(gpu.sm_active_percent, "%") && `SM active ${meanMax(gpu.sm_active_percent, "%")}`,
        gpu.tree_memory_peak_bytes !== null ? `run's memory peak ${formatBytes(gpu.tree_memory_peak_bytes)}` : null,
        meanMax(gpu.power_watts, " W") && `power ${meanMax(gpu.power_watts, " W")}`,
        gpu.lost ? "LOST during the run" : null,
      ].filter((part) => part);
      out.push(indent(`${system.nodes > 1 ? `node ${gpu.node} ` : ""}gpu ${gpu.index} ${gpu.name ?? ""}: ${parts.join(", ") || "no figures"}`));
    }
    for (const [node, tree] of Object.entries(system.process_tree)) {
      const cpu = meanMax(tree.cpu_percent, "%");
      if (cpu || tree.rss_peak_bytes !== null) {
        out.push(indent(`${system.nodes > 1 ? `node ${node} ` : ""}processes: CPU ${cpu ?? "unknown"}, memory peak ${formatBytes(tree.rss_peak_bytes)}`));
      }
    }
  }

  out.push(line("checkpoints", details.checkpoints.length === 0 ? "none recorded" : String(details.checkpoints.length)));
  const best = details.results?.best_checkpoint ?? null;
  for (const checkpoint of details.checkpoints.slice(-5)) {
    const counted = checkpoint.num_parameters !== null ? `${formatCount(checkpoint.num_parameters)} parameters` : checkpoint.error ? checkpoint.error.message : "";
    out.push(indent(`step ${n(checkpoint.step)}  ${checkpoint.path}  ${formatBytes(checkpoint.size_bytes)}  ${counted}${checkpoint.path === best ? "  (best)" : ""}`));
  }
  if (details.checkpoints.length > 5) out.push(indent(`(${details.checkpoints.length - 5} earlier)`));
  if (best !== null && !details.checkpoints.some((checkpoint) => checkpoint.path === best)) out.push(indent(`best: ${best}`));

  const warnings = [...details.warnings, ...(details.results?.warnings ?? [])];
  for (const warning of warnings) out.push(line("warning", warning));
  // Each entry is one line of the page: anything a run's files put in it is made safe for a terminal.
  return `${forTerminal(out.map((text) => oneLine(text).trimEnd()).join("\n"))}\n`;
}
