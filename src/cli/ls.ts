/** `config-tracker ls [ROOT] [--json] [--sort KEY] [--metrics a,b]`: one line per run under ROOT. */
import { formatRunList, runListEntries } from "../views/list-table.js";
import { listRuns } from "../views/list-runs.js";
import { parseCommandArgs, print, printError, printJson, usageError, warn } from "./shared.js";

export async function lsCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, {
    json: { type: "boolean", default: false },
    sort: { type: "string" },
    metrics: { type: "string" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return usageError(`ls takes one ROOT (got ${positionals.join(" ")})`);
  const root = positionals[0] ?? "runs";
  const metrics = values.metrics === undefined ? undefined : values.metrics.split(",").map((name) => name.trim()).filter(Boolean);
  let unreadable = 0;
  const runs = await listRuns(root, {
    onUnreadable: (error) => {
      unreadable += 1;
      warn(`${error.message} (run left out)`);
    },
  });
  for (const run of runs) for (const warning of run.warnings) warn(warning);
  const options = { ...(metrics ? { metrics } : {}), ...(values.sort === undefined ? {} : { sort: values.sort }) };
  if (values.json) printJson(runListEntries(runs, options));
  else if (runs.length === 0) {
    printError(unreadable > 0 ? `no readable runs under ${root}\n` : `no runs under ${root} (no folder there holds a config.json)\n`);
  }
  else print(formatRunList(runs, options));
  return unreadable > 0 ? 1 : 0;
}
