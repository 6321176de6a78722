export { ConfigTracker } from "./tracker.js";
export { CONFIG_FILE, RESULTS_FILE, METRICS_FILE, CHECKPOINTS_FILE, STATUS_FILE } from "./experiment/layout.js";
export type {
  ConfigTrackerOptions,
  LoadedStatus,
  SaveConfigMode,
  SaveConfigOptions,
  SaveResultsInput,
  SavedConfig,
} from "./tracker.js";
export { MetricsStream, type MetricRecord, type MetricsReadStats, type ReadMetricsOptions } from "./experiment/metrics-reader.js";
export { type CheckpointRecord } from "./experiment/checkpoints.js";
export { LOST_AFTER_SECONDS, type RunStatus, type ReportedStatus } from "./experiment/status.js";
export { rankFromEnv, type RankInfo, type RankRecord } from "./experiment/ranks.js";
export type { MetricSummary, Direction } from "./experiment/derive.js";
export type { ConfigChange } from "./experiment/resume.js";
export { getHardwareInfo, formatCudaVersion } from "./hardware.js";
export { startSampler, type Sampler, type SamplerOptions, type SamplerStatus, type SystemSample } from "./system/sampler.js";
export { peakBf16Flops, GPU_PEAKS, type GpuPeak } from "./system/gpu-peaks.js";
export { computeThroughput, type Throughput } from "./system/throughput.js";
export { inspectCheckpoint, modelSummary } from "./checkpoint.js";
export type { InspectOptions, ModelInfo } from "./checkpoint.js";
export type { HardwareOptions } from "./hardware.js";
export { runCommand, type RunCommandOptions, type RunOutcome } from "./run/run-command.js";
export { getGitInfo, redactRemoteUrl } from "./git.js";
export type { GitOptions } from "./git.js";
export { getEnvironmentInfo, DISTRIBUTED_VARIABLES } from "./environment.js";
export { runSweep, type SweepOptions, type SweepResult, type CombinationResult } from "./sweep/sweep.js";
export { expandGrid, type Grid, type Combination } from "./sweep/grid.js";
export { formatSweepSummary } from "./sweep/summary.js";
export { MANIFEST_FILE as SWEEP_MANIFEST_FILE, type SweepManifest } from "./sweep/manifest.js";
export { ConfigTrackerError, isConfigTrackerError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { parsePythonJson, stringifyPythonJson } from "./python-json.js";
export { loadRun, type LoadedRun, type LoadRunOptions, type RunStatusLabel } from "./views/load-run.js";
export { listRuns, type ListRunsOptions } from "./views/list-runs.js";
export { diffRuns, formatRunDiff, type RunDiff, type KeyDifference } from "./views/diff-runs.js";
export {
  formatCompareTable,
  formatCompareTableOf,
  compareColumns,
  compareRows,
  loadRunsFrom,
  type CompareOptions,
  type CompareColumns,
  type CompareRow,
} from "./views/compare-table.js";
export { formatRunList, runListEntries, type RunListOptions, type RunListEntry } from "./views/list-table.js";
export { renderReport, type ReportOptions } from "./views/report.js";
export { runDetails, formatRunPage, type RunDetails } from "./views/show-page.js";

import { MetricsStream, type ReadMetricsOptions } from "./experiment/metrics-reader.js";
/** Streams any metrics.jsonl (NOT_FOUND when it does not exist); see ConfigTracker.readMetrics. */
export function readMetrics(path: string, options: ReadMetricsOptions = {}): MetricsStream {
  return new MetricsStream(path, options, false);
}
// The zod schemas live at "config-tracker/schema" so that importing the tracker does not pay for
// loading zod until a file is written or read.
export type {
  ConfigFile,
  ResultsFile,
  StatusFile,
  ResumeEntry,
  HardwareInfo,
  GpuDevice,
  GitInfo,
  EnvironmentInfo,
  ModelSummary,
} from "./schema.js";
