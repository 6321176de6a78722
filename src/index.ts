// The public API: exactly what docs/api.md documents (test/public-api.test.ts holds the two to
// each other). The zod schemas live at "config-tracker/schema", so that importing the tracker does
// not pay for loading zod until a file is written or read.
export { ConfigTracker } from "./tracker.js";
export type {
  ConfigTrackerOptions,
  LoadedStatus,
  SaveConfigMode,
  SaveConfigOptions,
  SaveResultsInput,
  SavedConfig,
} from "./tracker.js";
export { readMetrics, type MetricsStream, type MetricRecord, type MetricsReadStats, type ReadMetricsOptions } from "./experiment/metrics-reader.js";
export type { CheckpointRecord } from "./experiment/checkpoints.js";
export type { RunStatus, ReportedStatus } from "./experiment/status.js";
export { rankFromEnv, type RankInfo, type RankRecord } from "./experiment/ranks.js";
export type { MetricSummary, Direction } from "./experiment/derive.js";
export { runCommand, type RunCommandOptions, type RunOutcome } from "./run/run-command.js";
export { getHardwareInfo, type HardwareOptions } from "./hardware.js";
export { startSampler, type Sampler, type SamplerOptions, type SamplerStatus, type SystemSample } from "./system/sampler.js";
export { peakBf16Flops, type GpuPeak } from "./system/gpu-peaks.js";
export { computeThroughput, type Throughput } from "./system/throughput.js";
export { inspectCheckpoint, type InspectOptions, type ModelInfo } from "./checkpoint.js";
export { getGitInfo, type GitOptions } from "./git.js";
export { getEnvironmentInfo } from "./environment.js";
export { runSweep, type SweepOptions, type SweepResult, type CombinationResult } from "./sweep/sweep.js";
export { expandGrid, type Grid, type Combination } from "./sweep/grid.js";
export { formatSweepSummary } from "./sweep/summary.js";
export { ConfigTrackerError, type ErrorCode } from "./errors.js";
export { parsePythonJson, stringifyPythonJson } from "./python-json.js";
export { loadRun, type LoadedRun, type LoadRunOptions, type RunStatusLabel } from "./views/load-run.js";
export { listRuns, type ListRunsOptions } from "./views/list-runs.js";
export { diffRuns, type RunDiff, type KeyDifference } from "./views/diff-runs.js";
export { formatCompareTable, formatCompareTableOf, loadRunsFrom, type CompareOptions } from "./views/compare-table.js";
export { renderReport, type ReportOptions } from "./views/report.js";
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
