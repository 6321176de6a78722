/**
 * `config-tracker compare <run|ROOT>... [--html report.html] [--metrics a,b] [--json]`: the
 * runs side by side in a table, and with --html one self-contained page with their charts.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";

import { ConfigTrackerError } from "../errors.js";
import { compareColumns, compareRows, formatCompareTable, loadRunsFrom } from "../views/compare-table.js";
import { renderReport } from "../views/report.js";
import { metricsNoRunHas } from "../views/run-facts.js";
import { commandLine, listOption, print, printError, printJson, UsageError, warn } from "./shared.js";

export async function compareCommand(argv: string[]): Promise<number> {
  const args = commandLine("compare", argv);
  const html = args.string("html");
  const paths = args.positionals;
  if (paths.length === 0) throw new UsageError("compare takes run folders or roots holding runs");
  const metrics = listOption(args.string("metrics"));
  let unreadable = 0;
  const runs = await loadRunsFrom(paths, {
    onUnreadable: (error) => {
      unreadable += 1;
      warn("compare", `${error.message} (run left out)`);
    },
  });
  if (runs.length === 0) throw new ConfigTrackerError("NOT_FOUND", `no runs under ${paths.join(", ")} (no folder there holds a config.json)`);
  for (const line of metricsNoRunHas(runs, metrics ?? [])) warn("compare", line);
  const options = metrics ? { metrics } : {};
  if (args.flag("json")) {
    const columns = compareColumns(runs, { ...options, maxConfigKeys: Infinity });
    printJson({ columns, rows: compareRows(runs, columns) });
  } else print(formatCompareTable(runs, options));
  if (html !== undefined) {
    const page = await renderReport(runs, {
      ...options,
      onWarning: (message) => warn("compare", message),
    });
    const target = resolve(html);
    await writeFile(target, page).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigTrackerError("WRITE_FAILED", `${html}: ${error.message}`, { path: target, cause: error });
    });
    printError(`wrote ${target} (${(Buffer.byteLength(page) / 1024).toFixed(0)} KiB, ${runs.length} runs)\n`);
  } else for (const run of runs) for (const warning of run.warnings) warn("compare", warning);
  return unreadable > 0 ? 1 : 0;
}
