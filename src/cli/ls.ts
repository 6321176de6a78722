/** `config-tracker ls [ROOT] [--json] [--sort KEY] [--metrics a,b]`: one line per run under ROOT. */
import { checkSortKey, formatRunList, runListEntries } from "../views/list-table.js";
import { listRuns } from "../views/list-runs.js";
import { metricsNoRunHas } from "../views/run-facts.js";
import { commandLine, listOption, print, printJson, say, UsageError, warn } from "./shared.js";

export async function lsCommand(argv: string[]): Promise<number> {
  const args = commandLine("ls", argv);
  if (args.positionals.length > 1) throw new UsageError(`ls takes one ROOT (got ${args.positionals.join(" ")})`);
  const root = args.positionals[0] ?? "runs";
  const metrics = listOption(args.string("metrics"));
  const sort = args.string("sort");
  let unreadable = 0;
  const runs = await listRuns(root, {
    onUnreadable: (error) => {
      unreadable += 1;
      warn("ls", `${error.message} (run left out)`);
    },
  });
  if (sort !== undefined) checkSortKey(runs, sort);
  for (const run of runs) for (const warning of run.warnings) warn("ls", warning);
  for (const line of metricsNoRunHas(runs, metrics ?? [])) warn("ls", line);
  const options = { ...(metrics ? { metrics } : {}), ...(sort === undefined ? {} : { sort }) };
  if (args.flag("json")) printJson(runListEntries(runs, options));
  else if (runs.length === 0) {
    say("ls", unreadable > 0 ? `no readable runs under ${root}` : `no runs under ${root} (no folder there holds a config.json)`);
  } else print(formatRunList(runs, options));
  return unreadable > 0 ? 1 : 0;
}
