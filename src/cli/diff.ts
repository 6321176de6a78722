/**
 * `config-tracker diff <a> <b> [--json] [--all]`: what differs between two runs, as dotted keys.
 * Exits like diff(1): 0 equal, 1 different, 2 on an error (a folder that is not a run, say).
 */
import { isConfigTrackerError } from "../errors.js";
import { diffRuns, formatRunDiff } from "../views/diff-runs.js";
import { loadRun } from "../views/load-run.js";
import { parseCommandArgs, print, printError, printJson, usageError } from "./shared.js";

export async function diffCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean", default: false }, all: { type: "boolean", default: false } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 2) return usageError("diff takes two run folders");
  try {
    const [a, b] = await Promise.all(positionals.map((path) => loadRun(path, { name: path.replace(/\/+$/, "") || path })));
    const diff = diffRuns(a!, b!, { all: values.all });
    if (values.json) printJson(diff);
    else print(formatRunDiff(diff));
    return diff.equal ? 0 : 1;
  } catch (error) {
    if (!isConfigTrackerError(error)) throw error;
    printError(`error: ${error.message}\n`);
    return 2;
  }
}
