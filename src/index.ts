export { ConfigTracker, CONFIG_FILE, RESULTS_FILE } from "./tracker.js";
export type { ConfigTrackerOptions, SaveConfigOptions, SaveResultsInput, SavedConfig } from "./tracker.js";
export { getHardwareInfo, formatCudaVersion } from "./hardware.js";
export { inspectCheckpoint, modelSummary } from "./checkpoint.js";
export type { ModelInfo } from "./checkpoint.js";
export type { HardwareOptions } from "./hardware.js";
export { getGitInfo, redactRemoteUrl } from "./git.js";
export type { GitOptions } from "./git.js";
export { getEnvironmentInfo, DISTRIBUTED_VARIABLES } from "./environment.js";
export { ConfigTrackerError, isConfigTrackerError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { parsePythonJson, stringifyPythonJson } from "./python-json.js";
// The zod schemas live at "config-tracker/schema" so that importing the tracker does not pay for
// loading zod until a file is written or read.
export type {
  ConfigFile,
  ResultsFile,
  HardwareInfo,
  GpuDevice,
  GitInfo,
  EnvironmentInfo,
  ModelSummary,
} from "./schema.js";
