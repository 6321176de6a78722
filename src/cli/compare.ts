/**
 * `config-tracker compare <run|ROOT>... [--html report.html] [--metrics a,b] [--json]`: the
 * runs side by side in a table, and with --html one self-contained page with their charts.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";

import { ConfigTrackerError } from "../errors.js";
import { compareColumns, compareRows, formatCompareTable, loadRunsFrom } from "../views/compare-table.js";
import { renderReport } from "../views/report.js";
import { parseCommandArgs, print, printError, printJson, usageError, warn } from "./shared.js";

export async function compareCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, {
    html: { type: "string" },
    metrics: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError("compare takes run folders or roots holding runs");
  const metrics = values.metrics === undefined ? undefined : values.metrics.split(",").map((name) => name.trim()).filter(Boolean);
  let unreadable = 0;
  const runs = await loadRunsFrom(positionals, {
    onUnreadable: (error) => {
      unreadable += 1;
      warn(`${error.message} (run left out)`);
    },
  });
  if (runs.length === 0) throw new ConfigTrackerError("NOT_FOUND", `no runs under ${positionals.join(", ")} (no folder there holds a config.json)`);
  const options = metrics ? { metrics } : {};
  if (values.json) {
    const columns = compareColumns(runs, { ...options, maxConfigKeys: Infinity });
    printJson({ columns, rows: compareRows(runs, columns) });
  } else print(formatCompareTable(runs, options));
  if (values.html !== undefined) {
    const html = await renderReport(runs, {
      ...options,
      onWarning: warn,
    });
    const target = resolve(values.html);
    await writeFile(target, html).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigTrackerError("WRITE_FAILED", `${values.html}: ${error.message}`, { path: target, cause: error });
    });
    printError(`wrote ${target} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${runs.length} runs)\n`);
  } else for (const run of runs) for (const warning of run.warnings) warn(warning);
  return unreadable > 0 ? 1 : 0;
}
