/**
 * `config-tracker sweep --grid grid.json [options] -- <command with {placeholders}>`: every
 * combination of the grid as a `config-tracker run`, on this host's free GPUs or as a SLURM job
 * array. `sweep --task <manifest>` is what each SLURM array task runs.
 */
import { isConfigTrackerError } from "../errors.js";
import type { GpuSelection } from "../sweep/gpus.js";
import type { SweepOptions } from "../sweep/sweep.js";
import { SWEEP_RUN_OPTIONS } from "./grammar.js";
import { commandLine, print, printError, say, UsageError } from "./shared.js";

type Exit = number | { code: number } | { signal: NodeJS.Signals };

export async function sweepCommand(argv: string[]): Promise<Exit> {
  const split = argv.indexOf("--");
  const command = split === -1 ? [] : argv.slice(split + 1);
  const args = commandLine("sweep", split === -1 ? argv : argv.slice(0, split));
  const task = args.string("task");

  // Inside a SLURM array task: become the combination's `config-tracker run`.
  if (task !== undefined) {
    const { arrayTaskRunArguments } = await import("../sweep/slurm.js");
    let runArgs: string[];
    try {
      runArgs = arrayTaskRunArguments(task, args.string("sweep-id"), process.env);
    } catch (error) {
      if (!isConfigTrackerError(error)) throw error;
      say("sweep", error.message);
      return 1;
    }
    const { runCliCommand } = await import("./run.js");
    return runCliCommand(runArgs);
  }

  if (args.positionals.length > 0) throw new UsageError(`unexpected ${args.positionals.join(" ")}: put the command after --`);
  const gridFile = args.string("grid");
  if (gridFile === undefined) throw new UsageError("--grid FILE is required");
  if (command.length === 0) throw new UsageError("no command: config-tracker sweep --grid grid.json -- <command with {placeholders}>");
  const launcher = args.string("launcher") ?? "local";
  if (launcher !== "local" && launcher !== "slurm") throw new UsageError(`--launcher ${launcher}: expected local or slurm`);
  const count = (name: "gpus-per-run" | "parallel"): number | undefined => {
    const text = args.string(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} ${text}: expected a whole number of at least 1`);
    return Number(text);
  };
  const gpusPerRun = count("gpus-per-run");
  const parallel = count("parallel");
  const sbatch = args.strings("sbatch");
  if (launcher === "local" && (args.flag("wait") || sbatch.length > 0)) throw new UsageError("--wait and --sbatch are for --launcher slurm");

  const { parseGpuSelection } = await import("../sweep/gpus.js");
  const { readGridFile, checkPlaceholders } = await import("../sweep/grid.js");
  const runOptions: string[] = [];
  for (const name of SWEEP_RUN_OPTIONS) for (const item of args.strings(name)) runOptions.push(`--${name}`, item);
  const gpusText = args.string("gpus");
  let options: SweepOptions;
  try {
    let gpus: GpuSelection | undefined;
    if (gpusText !== undefined) {
      if (launcher === "slurm") throw new UsageError("--gpus: SLURM picks the GPUs; ask for them with --gpus-per-run N");
      gpus = parseGpuSelection(gpusText);
    }
    const grid = await readGridFile(gridFile);
    checkPlaceholders(command, grid, "the command");
    checkPlaceholders(runOptions, grid, "the run options");
    options = {
      grid,
      command,
      launcher,
      runOptions,
      rerun: args.flag("rerun"),
      dryRun: args.flag("dry-run"),
      wait: args.flag("wait"),
      log: (line) => printError(`${line}\n`),
      ...(args.string("root") === undefined ? {} : { root: args.string("root") }),
      ...(gpus === undefined ? {} : { gpus }),
      ...(gpusPerRun === undefined ? {} : { gpusPerRun }),
      ...(parallel === undefined ? {} : { parallel }),
      ...(sbatch.length === 0 ? {} : { sbatchOptions: sbatch }),
    };
  } catch (error) {
    // A bad grid is bad usage, as a bad option is.
    if (isConfigTrackerError(error)) throw new UsageError(error.message);
    throw error;
  }

  const { runSweep } = await import("../sweep/sweep.js");
  const { formatSweepSummary } = await import("../sweep/summary.js");
  let result;
  try {
    result = await runSweep(options);
  } catch (error) {
    if (!isConfigTrackerError(error) || error.code === "INVALID_ARGUMENT") throw error; // INVALID_ARGUMENT: bad usage, exit 2
    say("sweep", error.message);
    return 1;
  }
  if (result.plan !== undefined) {
    print(result.plan);
    return 0;
  }
  print(formatSweepSummary(result.combinations));
  // Then the runs side by side: the config keys that differ, final metrics, GPU, git.
  const { formatCompareTableOf } = await import("../views/compare-table.js");
  const table = await formatCompareTableOf(result.combinations.map((combination) => ({ dir: combination.dir, name: combination.name })));
  if (table !== "") print(`\n${table}`);
  if (result.interrupted !== null) return { signal: result.interrupted };
  const ok = new Set(["finished", "submitted", "running"]);
  return result.combinations.every((combination) => ok.has(combination.status)) ? 0 : 1;
}
