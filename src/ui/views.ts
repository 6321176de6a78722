/**
 * Everything the dashboard takes from the rest of the library, in one place: the views over run
 * folders (what `ls`, `show`, `diff` and the compare report compute), the report's min/max
 * decimation, the status rules, the JSON dialect, the guarded reads and the atomic write. The dashboard's other
 * modules import these from here and from nowhere else in the library.
 */
export { listRuns } from "../views/list-runs.js";
export { loadRun, type LoadedRun } from "../views/load-run.js";
export { runFacts, defaultMetrics, formatNumber, type RunFacts } from "../views/run-facts.js";
export { runListEntries, type RunListEntry } from "../views/list-table.js";
export { runDetails, type RunDetails } from "../views/show-page.js";
export { diffRuns, type RunDiff } from "../views/diff-runs.js";
export { MinMaxDecimator, alignSeries, type Series } from "../views/decimate.js";
export {
  CHECKPOINTS_FILE,
  CONFIG_FILE,
  isNodeSystemLog,
  isOutputLog,
  METRICS_FILE,
  NOTES_FILE,
  RESULTS_FILE,
  STATUS_FILE,
} from "../experiment/layout.js";
export { reportedStatus } from "../experiment/status.js";
export { latestLogged, MetricsStream } from "../experiment/metrics-reader.js";
export { isBlank, parseMetricsLine, withoutBom } from "../experiment/metrics-line.js";
export { MAX_LINE_BYTES } from "../io/append-file.js";
export { loadRankFiles } from "../experiment/ranks.js";
export { readNodeFiles } from "../experiment/nodes.js";
export { addonWith, type NativeAddon } from "../native.js";
export { parsePythonJson, stringifyPythonJson } from "../python-json.js";
export { writeFileAtomic } from "../io/atomic-write.js";
export { closeFile, openRegularFile, readBytes, readInto, readRegularFile, type OpenedFile, type ReadBoundary } from "../io/read-file.js";
export { readLinesFrom } from "../io/line-reader.js";
export { oneLine } from "../text.js";
export { emptyRecord, keyPath, setKey } from "../json-value.js";
export { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
