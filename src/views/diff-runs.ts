/**
 * diffRuns(a, b): what differs between two runs in config, hardware, git, model, dataset and
 * final metrics, as dotted key paths (`config.optimizer.lr`, `hardware.gpus[0].name`,
 * `final_metrics.val_loss`). Objects and arrays are compared leaf by leaf; NaN equals NaN.
 */
import { keyPath } from "../json-value.js";
import { forTerminal, oneLine } from "../text.js";
import { checkOptions } from "../options.js";
import { formatNumber } from "./run-facts.js";
import type { LoadedRun } from "./load-run.js";

export const DIFF_SECTIONS = ["config", "hardware", "git", "model", "dataset", "final_metrics"] as const;

export interface KeyDifference {
  key: string;
  /** changed: in both, different; added: only in b; removed: only in a; same: in both, equal (all: true). */
  kind: "changed" | "added" | "removed" | "same";
  a?: unknown;
  b?: unknown;
}

export interface RunDiff {
  a: string;
  b: string;
  equal: boolean;
  /** In key order within each section, sections in DIFF_SECTIONS order. */
  differences: KeyDifference[];
}

/** The part of a run that diff compares, section by section. */
export function diffableRun(run: LoadedRun): Record<(typeof DIFF_SECTIONS)[number], unknown> {
  const config = run.config;
  return {
    config: config.config,
    hardware: config.hardware,
    // The Python ConfigTracker wrote only git_hash.
    git: config.git ?? (config.git_hash === null ? undefined : { short_hash: config.git_hash }),
    model: config.model,
    dataset: config.dataset,
    final_metrics: run.finalMetricsFrom === null ? undefined : run.finalMetrics,
  };
}

/** Every leaf of a JSON value under its dotted path; an empty object or array is a leaf. */
function flatten(value: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, index) => flatten(item, keyPath(path, index), out));
  else if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) flatten(item, keyPath(path, key), out);
  } else if (value !== undefined) out.set(path, value);
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

export function diffRuns(a: LoadedRun, b: LoadedRun, options: { all?: boolean } = {}): RunDiff {
  checkOptions("diffRuns(a, b, options)", options, ["all"]);
  const left = diffableRun(a);
  const right = diffableRun(b);
  const differences: KeyDifference[] = [];
  let equal = true;
  for (const section of DIFF_SECTIONS) {
    const before = flatten(left[section], section, new Map());
    const after = flatten(right[section], section, new Map());
    const keys = [...before.keys()];
    for (const key of after.keys()) if (!before.has(key)) keys.push(key);
    for (const key of keys) {
      const inA = before.has(key);
      const inB = after.has(key);
      const kind: KeyDifference["kind"] = !inA ? "added" : !inB ? "removed" : same(before.get(key), after.get(key)) ? "same" : "changed";
      if (kind !== "same") equal = false;
      if (kind === "same" && !options.all) continue;
      differences.push({ key, kind, ...(inA ? { a: before.get(key) } : {}), ...(inB ? { b: after.get(key) } : {}) });
    }
  }
  return { a: a.name, b: b.name, equal, differences };
}

/** A value as diff shows it: numbers as the tables do, strings bare, the rest as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? "undefined";
}

const MARK: Record<KeyDifference["kind"], string> = { changed: "~", added: "+", removed: "-", same: " " };

/**
 * The text diff prints: a header naming both runs, then one line per key, marked like diff(1):
 * `~` changed (a -> b), `-` only in a, `+` only in b, and with --all ` ` for equal keys.
 */
export function formatRunDiff(diff: RunDiff): string {
  const lines = [`--- ${oneLine(diff.a)}`, `+++ ${oneLine(diff.b)}`];
  const width = Math.min(48, Math.max(0, ...diff.differences.map((entry) => oneLine(entry.key).length)));
  for (const entry of diff.differences) {
    const key = oneLine(entry.key).padEnd(width);
    const text =
      entry.kind === "changed"
        ? `${formatValue(entry.a)} -> ${formatValue(entry.b)}`
        : entry.kind === "added"
          ? formatValue(entry.b)
          : formatValue(entry.a);
    lines.push(`${MARK[entry.kind]} ${key}  ${oneLine(text)}`);
  }
  if (diff.equal) lines.push("(no differences)");
  return `${forTerminal(lines.join("\n"))}\n`;
}
