/**
 * What the sweep prints at its end: one line per combination. Kept in one function so that it
 * can give way to the compare table of the runs (`config-tracker compare`).
 */
import { relative } from "node:path";

import { forTerminal, oneLine } from "../text.js";
import type { CombinationResult } from "./plan.js";

function duration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatSweepSummary(results: CombinationResult[], cwd = process.cwd()): string {
  const rows = results.map((result) => [
    result.name,
    result.skipped ? `${result.status} (earlier)` : result.status,
    result.signal ?? (result.exitCode === null ? "-" : String(result.exitCode)),
    result.gpus === null ? "-" : result.gpus.join(","),
    duration(result.durationSeconds),
    relative(cwd, result.dir) || ".",
  ].map(oneLine));
  const header = ["combination", "status", "exit", "gpus", "time", "run folder"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join("  ")
      .trimEnd();
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
  const tally = [...counts.entries()].map(([status, count]) => `${count} ${status}`).join(", ");
  return `${forTerminal([line(header), ...rows.map(line)].join("\n"))}\n${results.length} combinations: ${oneLine(tally)}\n`;
}
