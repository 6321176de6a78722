/** `config-tracker show <run> [--json]`: one run on one readable page. */
import { loadRun } from "../views/load-run.js";
import { formatRunPage, runDetails } from "../views/show-page.js";
import { commandLine, print, printJson, UsageError } from "./shared.js";

export async function showCommand(argv: string[]): Promise<number> {
  const args = commandLine("show", argv);
  if (args.positionals.length !== 1) throw new UsageError("show takes one run folder");
  const path = args.positionals[0] as string;
  const run = await loadRun(path, { name: path.replace(/\/+$/, "") || path });
  const details = await runDetails(run);
  if (args.flag("json")) printJson(details);
  else print(formatRunPage(details));
  return 0;
}
