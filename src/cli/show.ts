/** `config-tracker show <run> [--json]`: one run on one readable page. */
import { loadRun } from "../views/load-run.js";
import { formatRunPage, runDetails } from "../views/show-page.js";
import { parseCommandArgs, print, printJson, usageError } from "./shared.js";

export async function showCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean", default: false } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError("show takes one run folder");
  const path = positionals[0] as string;
  const run = await loadRun(path, { name: path.replace(/\/+$/, "") || path });
  const details = await runDetails(run);
  if (values.json) printJson(details);
  else print(formatRunPage(details));
  return 0;
}
