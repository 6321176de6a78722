/**
 * A deliberate public API: src/index.ts exports exactly what docs/api.md documents. The exports
 * are read by the TypeScript compiler (values and types alike); the documented names are the
 * import blocks at the top of api.md, each of which must also be described further down.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

import {
  computeThroughput,
  ConfigTracker,
  ConfigTrackerError,
  diffRuns,
  formatCompareTable,
  formatCompareTableOf,
  getGitInfo,
  getHardwareInfo,
  inspectCheckpoint,
  listRuns,
  loadRun,
  loadRunsFrom,
  readMetrics,
  renderReport,
  runCommand,
  runSweep,
  startSampler,
  type LoadedRun,
} from "../src/index.js";
import { rejection, repoRoot, tempDir } from "./support/helpers.js";

const api = readFileSync(join(repoRoot, "docs", "api.md"), "utf8");

/** The names of the `import { ... } from "config-tracker"` (or `import type`) block. */
function importBlock(kind: "import" | "import type"): string[] {
  const match = new RegExp(`^${kind} \\{([^}]*)\\} from "config-tracker";`, "m").exec(api);
  if (match === null) throw new Error(`docs/api.md: no ${kind} block from "config-tracker"`);
  return (match[1] as string).split(",").map((name) => name.trim()).filter(Boolean);
}

/** What src/index.ts exports, as TypeScript sees it: value names and type-only names. */
function indexExports(): { values: string[]; types: string[] } {
  const index = join(repoRoot, "src", "index.ts");
  const program = ts.createProgram([index], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(index) as ts.SourceFile) as ts.Symbol;
  const values: string[] = [];
  const types: string[] = [];
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    // A class exported with `export type` is a type to its importers.
    const typeOnly = symbol.declarations?.some((declaration) => ts.isTypeOnlyImportOrExportDeclaration(declaration)) ?? false;
    if (target.flags & ts.SymbolFlags.Value && !typeOnly) values.push(symbol.name);
    else types.push(symbol.name);
  }
  return { values: values.sort(), types: types.sort() };
}

describe("the public API is what docs/api.md documents", () => {
  const exported = indexExports();
  const values = importBlock("import").sort();
  const types = importBlock("import type").sort();

  it("every value export is documented, and every documented value is exported", () => {
    expect(exported.values.filter((name) => !values.includes(name)), "exported, not in api.md's import block").toEqual([]);
    expect(values.filter((name) => !exported.values.includes(name)), "in api.md, not exported as a value").toEqual([]);
  });

  it("every type export is documented, and every documented type is exported", () => {
    expect(exported.types.filter((name) => !types.includes(name)), "exported, not in api.md's import type block").toEqual([]);
    expect(types.filter((name) => !exported.types.includes(name)), "in api.md, not exported as a type").toEqual([]);
  });

  it("each documented name is described, not only listed", () => {
    const body = api.slice(api.indexOf("## `new ConfigTracker"));
    const typesSection = api.slice(api.indexOf("## Types"));
    for (const name of values) expect(body, name).toMatch(new RegExp(`\`(new )?${name}[(\`]`));
    for (const name of types) expect(typesSection, name).toContain(`\`${name}\``);
  });
});

describe("every documented function refuses an option it does not take", () => {
  // The options a caller could misspell, each call with one key that does not exist.
  const dir = tempDir();
  const tracker = () => new ConfigTracker(join(tempDir(), "exp"));
  const run = {} as LoadedRun; // the options are checked before the runs are looked at
  const calls: Record<string, (bogus: Record<string, unknown>) => unknown> = {
    ConfigTracker: (bogus) => new ConfigTracker(dir, bogus),
    "ConfigTracker options.hardware": (bogus) => new ConfigTracker(dir, { hardware: bogus }),
    saveConfig: (bogus) => tracker().saveConfig({ lr: 1 }, bogus),
    logMetrics: (bogus) => tracker().logMetrics(1, { loss: 1 }, bogus),
    "ConfigTracker.readMetrics": (bogus) => tracker().readMetrics(bogus),
    recordCheckpoint: (bogus) => tracker().recordCheckpoint(join(dir, "ckpt.pt"), { step: 1, ...bogus }),
    saveResults: (bogus) => tracker().saveResults(bogus),
    sampleSystem: (bogus) => tracker().sampleSystem({ pids: [], ...bogus }),
    readMetrics: (bogus) => readMetrics(join(dir, "metrics.jsonl"), bogus),
    runCommand: (bogus) => runCommand(["true"], { dir: join(dir, "never"), ...bogus }),
    getHardwareInfo: (bogus) => getHardwareInfo(bogus),
    startSampler: (bogus) => startSampler(bogus),
    inspectCheckpoint: (bogus) => inspectCheckpoint(join(dir, "ckpt.pt"), bogus),
    getGitInfo: (bogus) => getGitInfo(bogus),
    computeThroughput: (bogus) =>
      computeThroughput({ tokensPerSecond: 1, parameters: 1, layers: null, dModel: null, seqLen: null, gpuNames: [], ...bogus }),
    runSweep: (bogus) => runSweep({ grid: { lr: [1] }, command: ["true"], root: join(dir, "never"), ...bogus }),
    listRuns: (bogus) => listRuns(dir, bogus),
    loadRun: (bogus) => loadRun(dir, bogus),
    loadRunsFrom: (bogus) => loadRunsFrom([dir], bogus),
    diffRuns: (bogus) => diffRuns(run, run, bogus),
    formatCompareTable: (bogus) => formatCompareTable([], bogus),
    formatCompareTableOf: (bogus) => formatCompareTableOf([], bogus),
    renderReport: (bogus) => renderReport([], bogus),
  };
  const noOptions: Record<string, string> = {
    getEnvironmentInfo: "takes an environment (variables, not options)",
    rankFromEnv: "takes an environment (variables, not options)",
    peakBf16Flops: "takes a GPU's name",
    expandGrid: "takes a grid",
    formatSweepSummary: "takes a sweep's results",
    ConfigTrackerError: "an error class: its options are what it carries",
    parsePythonJson: "takes text",
    stringifyPythonJson: "takes a value and an indent",
    flush: "takes nothing",
    fail: "takes the error",
    close: "takes nothing",
  };

  it("covers every documented function and ConfigTracker method", () => {
    const methods = [...api.slice(api.indexOf("## `new ConfigTracker"), api.indexOf("## `runCommand")).matchAll(/^###? .*$/gm)].flatMap((heading) =>
      [...heading[0].matchAll(/`(?:new )?(\w+)\(/g)].map((match) => match[1] as string),
    );
    expect(methods).toContain("saveConfig");
    const documented = [...new Set([...importBlock("import"), ...methods])];
    const covered = new Set([...Object.keys(calls).map((name) => name.replace(/^ConfigTracker[. ].*/, "ConfigTracker")), ...Object.keys(calls), ...Object.keys(noOptions)]);
    expect(documented.filter((name) => !covered.has(name)), "documented, with no case here").toEqual([]);
  });

  it.each(Object.keys(calls))("%s: INVALID_ARGUMENT naming the key, the closest option and all of them", async (name) => {
    const call = calls[name] as (bogus: Record<string, unknown>) => unknown;
    let caught: unknown;
    try {
      await call({ bogusOption: true });
    } catch (error) {
      caught = error;
    }
    expect(caught, name).toBeInstanceOf(ConfigTrackerError);
    const error = caught as ConfigTrackerError;
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.key).toBe("bogusOption");
    expect(error.message).toMatch(/: unknown option "bogusOption"; the options are \w+/);
  });

  it("a misspelt option names the right one: saveConfig(c, { overwrite: true }) is not a silent no-op", async () => {
    const error = await rejection(tracker().saveConfig({ lr: 1 }, { overwrite: true } as never));
    expect(error.message).toBe(
      'saveConfig(config, options): unknown option "overwrite"; the options are model, dataset, mode, fromCheckpoint, fromStep, command',
    );
    const typo = await rejection(getGitInfo({ cwdd: "." } as never));
    expect(typo.message).toBe('getGitInfo(options): unknown option "cwdd" (did you mean cwd?); the options are cwd, dirtyTimeoutMs, timeoutMs');
    await expect(getGitInfo({ cwd: dir })).resolves.toMatchObject({ commit: null });
  });
});
