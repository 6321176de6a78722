/**
 * `config-tracker diff <a> <b> [--json] [--all]`: what differs between two runs, as dotted keys.
 * Exits like diff(1): 0 equal, 1 different, 2 on an error (a folder that is not a run, say).
 */
import { isConfigTrackerError } from "../errors.js";
import { diffRuns, formatRunDiff } from "../views/diff-runs.js";
import { loadRun } from "../views/load-run.js";
import { commandLine, print, printJson, say, UsageError } from "./shared.js";

export async function diffCommand(argv: string[]): Promise<number> {
  const args = commandLine("diff", argv);
  if (args.positionals.length !== 2) throw new UsageError("diff takes two run folders");
  try {
    const [a, b] = await Promise.all(args.positionals.map((path) => loadRun(path, { name: path.replace(/\/+$/, "") || path })));
    const diff = diffRuns(a!, b!, { all: args.flag("all") });
    if (args.flag("json")) printJson(diff);
    else print(formatRunDiff(diff));
    return diff.equal ? 0 : 1;
  } catch (error) {
    if (!isConfigTrackerError(error)) throw error;
    say("diff", error.message);
    return 2;
  }
}
